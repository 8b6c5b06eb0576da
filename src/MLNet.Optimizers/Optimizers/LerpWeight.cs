using System.Numerics;

namespace MLNet.Optimizers;

/// <summary>
/// A per-step interpolation weight w for <c>lerp(start, end, w)</c>, evaluated the way PyTorch's CPU <c>lerp</c> does so
/// that rounding matches: <c>start + w·(end − start)</c> when |w| &lt; 0.5, otherwise <c>end − (end − start)·(1 − w)</c>.
/// </summary>
/// <remarks>
/// The branch depends only on w, which is the same for every element of a step, so the fused loop and the scalar form
/// always take the same branch. w is rounded to float first and 1 − w is computed in float, as PyTorch does.
/// </remarks>
internal readonly struct LerpWeight
{
    private readonly StepConstant _weight;
    private readonly StepConstant _complement;
    private readonly bool _isSmall;

    /// <summary>Rounds <paramref name="weight"/> to float and picks PyTorch's branch for it.</summary>
    internal LerpWeight(double weight)
    {
        float w = (float)weight;
        _weight = new StepConstant(w);
        _complement = new StepConstant(1f - w);
        _isSmall = MathF.Abs(w) < 0.5f;
    }

    /// <summary>lerp(start, end, w) for one element.</summary>
    internal float Apply(float start, float end) =>
        _isSmall ? start + _weight.Scalar * (end - start) : end - (end - start) * _complement.Scalar;

    /// <summary>lerp(start, end, w) lane by lane; bit-identical to the scalar overload.</summary>
    internal Vector<float> Apply(Vector<float> start, Vector<float> end) =>
        _isSmall ? start + _weight.Vector * (end - start) : end - (end - start) * _complement.Vector;
}
