using static TorchSharp.torch;

namespace Cis490.Training.Neural.Tests;

/// <summary>The CNN's convolution (unfold + Linear, in place of libtorch's oneDNN Conv1d) against a convolution written out in loops.</summary>
public sealed class TemporalConvTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void The_temporal_convolution_is_a_same_padded_1d_convolution(int kernel)
    {
        const int batch = 2, inputs = 3, outputs = 2, steps = 7;
        TorchRuntime.EnsureAvailable();
        using var seeded = TorchRuntime.Seed(5, CPU, Environment.ProcessorCount);
        using var scope = NewDisposeScope();
        var conv = new TemporalConv(inputs, outputs, kernel);
        var x = randn(batch, inputs, steps);

        var actual = conv.call(x).data<float>().ToArray();

        var parameters = conv.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
        var (w, bias) = (parameters["taps.weight"], parameters["taps.bias"]); // [out, in × kernel], [out]
        var xs = x.data<float>().ToArray();
        var left = (kernel - 1) / 2; // an even kernel has the extra padding on the right
        var expected = new float[batch * outputs * steps];
        for (var b = 0; b < batch; b++)
            for (var o = 0; o < outputs; o++)
                for (var t = 0; t < steps; t++)
                {
                    double sum = bias[o];
                    for (var c = 0; c < inputs; c++)
                        for (var k = 0; k < kernel; k++)
                        {
                            var s = t - left + k;
                            if (s >= 0 && s < steps) sum += w[o * inputs * kernel + c * kernel + k] * xs[(b * inputs + c) * steps + s];
                        }
                    expected[(b * outputs + o) * steps + t] = (float)sum;
                }
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
    }
}
