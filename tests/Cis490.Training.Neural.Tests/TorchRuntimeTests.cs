using Cis490.ElfPatch;
using TorchSharp;
using static TorchSharp.torch;

namespace Cis490.Training.Neural.Tests;

/// <summary>libtorch in this test process, and what a person is told when it cannot be loaded.</summary>
public sealed class TorchRuntimeTests
{
    [Fact]
    public void TorchSharp_loads_and_trains_a_tiny_model_in_this_process()
    {
        TorchRuntime.EnsureAvailable();
        using var seeded = TorchRuntime.Seed(1, CPU, Environment.ProcessorCount);
        using var scope = NewDisposeScope();
        // y = 3·x₀ − 2·x₁ + 1: a linear layer finds it. Tensor × tensor only: an implicit Scalar can be freed mid-call (see AdamW).
        var x = rand(256, 2);
        var y = x.matmul(tensor(new[] { 3f, -2f }).unsqueeze(1)) + tensor(1f);
        var model = nn.Linear(2, 1);
        using var optimizer = new AdamW(model.parameters(), weightDecay: 0);
        double first = 0, last = 0;
        for (var step = 0; step < 300; step++)
        {
            using var inner = NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            optimizer.Step(0.1);
            last = loss.item<float>();
            if (step == 0) first = last;
        }
        Assert.True(last < first / 100, $"loss went from {first} to {last}");
    }

    [Fact]
    public void AdamW_takes_the_published_update_step_for_step()
    {
        TorchRuntime.EnsureAvailable();
        using var scope = NewDisposeScope();
        const double lr = 0.01, decay = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        var start = new[] { 0.5f, -1.5f, 2f };
        var grads = new[] { new[] { 0.3f, -0.2f, 0f }, new[] { -1f, 0.5f, 4f }, new[] { 0.01f, 0.01f, -0.01f } };
        var p = new TorchSharp.Modules.Parameter(tensor(start));
        using var optimizer = new AdamW([p], decay);
        // Loshchilov & Hutter's AdamW as torch.optim.AdamW computes it, in doubles.
        var (w, m, v) = (start.Select(f => (double)f).ToArray(), new double[3], new double[3]);
        for (var t = 1; t <= grads.Length; t++)
        {
            p.grad = tensor(grads[t - 1]);
            optimizer.Step(lr);
            for (var i = 0; i < 3; i++)
            {
                var g = (double)grads[t - 1][i];
                w[i] *= 1 - lr * decay;
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                var denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps;
                w[i] -= lr / (1 - Math.Pow(beta1, t)) * m[i] / denom;
            }
            var got = p.detach().data<float>().ToArray();
            for (var i = 0; i < 3; i++) Assert.True(Math.Abs(got[i] - w[i]) < 1e-6, $"step {t}, weight {i}: {got[i]} vs {w[i]}");
        }
        Assert.Equal(3, optimizer.Steps);
        optimizer.ZeroGrad();
        Assert.Equal(0f, p.grad!.abs().sum().item<float>());
    }

    [Fact]
    public void Device_auto_is_cuda_only_when_torch_sees_it()
    {
        var expected = cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.Equal(expected, TorchRuntime.PickDevice("auto").type);
        Assert.Equal(DeviceType.CPU, TorchRuntime.PickDevice("cpu").type);
        if (!cuda.is_available())
            Assert.Contains("torch.cuda.is_available() is false", Assert.Throws<InvalidOperationException>(() => TorchRuntime.PickDevice("cuda")).Message);
    }

    [Fact]
    public void A_missing_native_library_is_one_message_that_says_what_to_reference()
    {
        using var tmp = new TempDir();
        var message = TorchRuntime.Explain(tmp.Path, "Unable to load shared library 'LibTorchSharp'", hostNeedsPatch: false);

        Assert.Contains($"{TorchRuntime.LibTorchSharpFile} is not in {tmp.Path}", message);
        Assert.Contains("Cis490.Training.Neural.csproj", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void A_missing_libtorch_is_one_message_that_names_the_package_to_restore()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.Combine(TorchRuntime.LibTorchSharpFile), [0x7f]);
        var message = TorchRuntime.Explain(tmp.Path, "libtorch_cpu.so: cannot open shared object file", hostNeedsPatch: false);

        Assert.Contains(TorchRuntime.LibTorchCpuFile, message);
        Assert.Contains("libtorch-cpu-linux-x64 2.10.0", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void An_unpatched_library_on_an_old_libstdcxx_is_one_message_that_gives_the_patch_command()
    {
        using var tmp = new TempDir();
        var native = tmp.Combine("runtimes", "linux-x64", "native");
        Directory.CreateDirectory(native);
        // An unpatched copy of the package's library, and a stand-in for libtorch (only its presence is looked at).
        File.Copy(GlibcxxPatchTests.PackageLibrary(), Path.Combine(native, TorchRuntime.LibTorchSharpFile));
        File.WriteAllBytes(Path.Combine(native, TorchRuntime.LibTorchCpuFile), []);

        var message = TorchRuntime.Explain(tmp.Path, "version `GLIBCXX_3.4.32' not found", hostNeedsPatch: true);
        Assert.Contains($"asks for {GlibcxxPatch.Version}", message);
        Assert.Contains($"dotnet {Path.Combine(tmp.Path, "Cis490.ElfPatch.dll")} {Path.Combine(native, TorchRuntime.LibTorchSharpFile)}", message);
        Assert.DoesNotContain('\n', message);

        GlibcxxPatch.Apply(Path.Combine(native, TorchRuntime.LibTorchSharpFile));
        var afterPatch = TorchRuntime.Explain(tmp.Path, "some other failure", hostNeedsPatch: true);
        Assert.Contains("could not load its native libraries", afterPatch);
        Assert.Contains("some other failure", afterPatch);
    }
}
