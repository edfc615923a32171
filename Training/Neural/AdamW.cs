using TorchSharp;
using static TorchSharp.torch;

namespace Cis490.Training.Neural;

/// <summary>AdamW (Loshchilov and Hutter's decoupled weight decay): the same update, in the same order of operations, as
/// <c>torch.optim.AdamW</c> with amsgrad off, so a run gives the same weights bit for bit.
///
/// Why not TorchSharp's <c>optim.AdamW</c>: its step (0.107) passes every hyper-parameter to libtorch as a temporary
/// <see cref="Scalar"/> made by an implicit conversion (<c>param.mul_(1 - lr * weight_decay)</c>, <c>exp_avg.mul_(beta1)</c>…).
/// A Scalar owns native memory and has a finalizer, and nothing keeps the temporary reachable while the native call runs, so a
/// garbage collection started by another thread can free it mid-call: CI failed once with libtorch's "Unknown scalar type"
/// thrown from <c>mul_</c> inside <c>AdamW.step</c>. Here every Scalar is made explicitly and disposed only after the calls
/// that read it (a <c>using</c> local stays reachable until its Dispose).</summary>
internal sealed class AdamW : IDisposable
{
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly Tensor[] _average;
    private readonly Tensor[] _averageSquare;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _eps;
    private readonly double _weightDecay;
    private long _step;

    public AdamW(IEnumerable<TorchSharp.Modules.Parameter> parameters, double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        if (weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be ≥ 0");
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1)");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1)");
        _parameters = [.. parameters];
        // The moments live as long as the optimizer, outside whatever dispose scope the caller has open.
        _average = [.. _parameters.Select(p => zeros_like(p).DetachFromDisposeScope())];
        _averageSquare = [.. _parameters.Select(p => zeros_like(p).DetachFromDisposeScope())];
        (_beta1, _beta2, _eps, _weightDecay) = (beta1, beta2, eps, weightDecay);
    }

    /// <summary>Steps taken so far.</summary>
    public long Steps => _step;

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    /// <summary>One update of every parameter that has a gradient, at learning rate <paramref name="lr"/>.</summary>
    public void Step(double lr)
    {
        _step++;
        var biasCorrection1 = 1 - Math.Pow(_beta1, _step);
        var biasCorrection2 = 1 - Math.Pow(_beta2, _step);
        using var _ = no_grad();
        using var decay = (1 - lr * _weightDecay).ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var rootCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var eps = _eps.ToScalar();
        using var stepSize = (-(lr / biasCorrection1)).ToScalar();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            using var grad = p.grad;
            if (grad is null) continue;
            p.mul_(decay);
            _average[i].mul_(beta1).add_(grad, oneMinusBeta1);
            _averageSquare[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            using var root = _averageSquare[i].sqrt();
            root.div_(rootCorrection2).add_(eps);
            p.addcdiv_(_average[i], root, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _average) t.Dispose();
        foreach (var t in _averageSquare) t.Dispose();
    }
}
