using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cis490.Training.Neural;

/// <summary>Multi-layer perceptron over encoded summary features: (Linear → ReLU → Dropout) × layers → Linear.</summary>
internal sealed class MlpNet : Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear head;

    public MlpNet(long inputs, long hidden, int layers, double dropout, long classes) : base("mlp")
    {
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < layers; i++)
        {
            blocks.Add(($"linear{i}", Linear(i == 0 ? inputs : hidden, hidden)));
            blocks.Add(($"relu{i}", ReLU()));
            blocks.Add(($"dropout{i}", Dropout(dropout)));
        }
        body = Sequential(blocks);
        head = Linear(hidden, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => head.call(body.call(x));
}

/// <summary>1D convolutions over time: the input's value and mask channels both enter the first convolution, (convolution
/// with "same" padding → BatchNorm → ReLU → Dropout) × layers, then mean- and max-pooling over time → Linear.</summary>
internal sealed class CnnNet : Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear head;

    public CnnNet(long inputChannels, long channels, long kernelSize, int layers, double dropout, long classes) : base("cnn")
    {
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < layers; i++)
        {
            blocks.Add(($"conv{i}", new TemporalConv(i == 0 ? inputChannels : channels, channels, kernelSize)));
            blocks.Add(($"norm{i}", BatchNorm1d(channels)));
            blocks.Add(($"relu{i}", ReLU()));
            blocks.Add(($"dropout{i}", Dropout(dropout)));
        }
        body = Sequential(blocks);
        head = Linear(2 * channels, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = body.call(x); // [batch, channels, steps]
        return head.call(cat([h.mean([2]), h.amax([2])], 1));
    }
}

/// <summary>A 1D convolution over time with "same" padding (stride 1), computed as unfold + Linear: each output second is a
/// linear map of the kernel_size seconds around it, the same function and parameter count as nn.Conv1d. Why not nn.Conv1d:
/// libtorch 2.10's CPU convolution (oneDNN 3.7, jit:avx512_core and jit:avx2 alike) returned non-finite garbage in about 1
/// call in 1 000 to 10 000 on our 2-core AMD EPYC machines (a 20-line TorchSharp program reproduces it; unfold + matmul ran
/// 40 000 calls clean), which silently poisoned CNN training.</summary>
internal sealed class TemporalConv : Module<Tensor, Tensor>
{
    private readonly Linear taps;
    private readonly long _kernel;
    private readonly long _left;
    private readonly long _right;

    public TemporalConv(long inChannels, long outChannels, long kernelSize) : base("temporal_conv")
    {
        // The layout of the taps' weight, [out, in × kernel] (in-channel major), is nn.Conv1d's [out, in, kernel] flattened;
        // its default initialisation has the same fan-in, in × kernel.
        taps = Linear(inChannels * kernelSize, outChannels);
        _kernel = kernelSize;
        // An even kernel pads one more on the right, as PyTorch's padding="same" does.
        _left = (kernelSize - 1) / 2;
        _right = kernelSize - 1 - _left;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (batch, steps) = (x.shape[0], x.shape[2]);
        var windows = nn.functional.pad(x, [_left, _right]).unfold(2, _kernel, 1); // [batch, in, steps, kernel]
        return taps.call(windows.permute(0, 2, 1, 3).reshape(batch, steps, -1)).permute(0, 2, 1); // [batch, out, steps]
    }
}

/// <summary>A GRU or LSTM over time (batch first); the last layer's final hidden state (both directions when bidirectional)
/// → Dropout → Linear. Each time step's input holds the standardised values and the mask of every channel, so the recurrence
/// reads whether a channel was observed at that second.</summary>
internal sealed class RecurrentNet : Module<Tensor, Tensor>
{
    private readonly GRU? gru;
    private readonly LSTM? lstm;
    private readonly Dropout dropout;
    private readonly Linear head;
    private readonly int _directions;

    public RecurrentNet(string cell, long inputChannels, long hidden, int layers, bool bidirectional, double dropoutP, long classes) : base(cell)
    {
        // Dropout between stacked layers only exists with more than one (torch warns otherwise).
        var between = layers > 1 ? dropoutP : 0;
        if (cell == "lstm") lstm = LSTM(inputChannels, hidden, layers, batchFirst: true, dropout: between, bidirectional: bidirectional);
        else gru = GRU(inputChannels, hidden, layers, batchFirst: true, dropout: between, bidirectional: bidirectional);
        _directions = bidirectional ? 2 : 1;
        dropout = Dropout(dropoutP);
        head = Linear(_directions * hidden, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var steps = x.permute(0, 2, 1); // [batch, steps, features]
        var hn = lstm is not null ? lstm.call(steps, null).Item2 : gru!.call(steps, null).Item2; // [layers × directions, batch, hidden]
        var last = _directions == 2 ? cat([hn[-2], hn[-1]], 1) : hn[-1];
        return head.call(dropout.call(last));
    }
}

/// <summary>A small Transformer encoder over time: each second's values and mask → Linear to d_model, plus a learned
/// positional embedding, through the encoder layers, then a mean over the seconds where at least one channel was observed
/// (masked mean pooling; a window with none falls back to all seconds) → Linear.</summary>
internal sealed class TransformerNet : Module<Tensor, Tensor>
{
    private readonly Linear embed;
    private readonly Parameter position;
    private readonly TransformerEncoder encoder;
    private readonly Dropout dropout;
    private readonly Linear head;
    private readonly long _channels;
    private readonly Scalar _zero = 0.ToScalar(); // held by the module, so it lives through every forward call

    public TransformerNet(long inputChannels, long steps, long dModel, long heads, int layers, long ffDim, double dropoutP, long classes) : base("transformer")
    {
        _channels = inputChannels / 2;
        embed = Linear(inputChannels, dModel);
        // Scalars made explicitly and held: an implicit one (tensor * 0.02) can be finalized while libtorch reads it (see AdamW).
        using (var scale = 0.02.ToScalar()) position = Parameter(randn(steps, 1, dModel).mul_(scale));
        encoder = TransformerEncoder(TransformerEncoderLayer(dModel, heads, ffDim, dropoutP), layers);
        dropout = Dropout(dropoutP);
        head = Linear(dModel, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // The encoder reads [steps, batch, d_model].
        var h = embed.call(x.permute(2, 0, 1)) + position;
        h = encoder.call(h, null, null);
        var observed = x.narrow(1, _channels, _channels).amax([1]).t().unsqueeze(-1); // [steps, batch, 1]: 1 where any channel was seen
        var weight = observed + observed.sum([0], keepdim: true).eq(_zero).to_type(observed.dtype); // all-missing windows: plain mean
        var pooled = (h * weight).sum([0]) / weight.sum([0]);
        return head.call(dropout.call(pooled));
    }
}
