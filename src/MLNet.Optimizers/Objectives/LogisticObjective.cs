using System.Numerics.Tensors;

namespace MLNet.Optimizers.Objectives;

/// <summary>
/// Binary logistic loss on one score s per row, labels y ∈ {0, 1}:
/// <c>ℓ(s, y) = log(1 + exp(−y′·s))</c> with <c>y′ = 2y − 1 ∈ {−1, +1}</c>; the predicted probability is σ(s).
/// </summary>
/// <remarks>
/// Computed in the stable form <c>max(s, 0) − y·s + log(1 + exp(−|s|))</c>, which never overflows;
/// <c>∂ℓ/∂s = σ(s) − y</c>. The same loss as PyTorch's <c>BCEWithLogitsLoss</c> and ML.NET's logistic regression.
/// </remarks>
public sealed class LogisticObjective : LinearObjective
{
    /// <inheritdoc />
    public override int OutputCount => 1;

    /// <inheritdoc />
    protected override string LabelRequirement => "0 or 1";

    /// <inheritdoc />
    protected override bool IsValidLabel(float label) => label is 0f or 1f;

    /// <inheritdoc />
    protected override double RowLoss(Span<double> scores, float label, bool writeScoreGradient)
    {
        double s = scores[0];
        double e = Math.Exp(-Math.Abs(s));
        return Finish(ref scores[0], label, e, Math.Log(1 + e), writeScoreGradient);
    }

    /// <inheritdoc />
    /// <remarks>The same formula as <see cref="RowLoss"/>, with e^−|s| and log(1 + e^−|s|) vectorised over the tile.</remarks>
    internal override void TileLosses(Span<double> scores, ReadOnlySpan<float> labels, Span<double> losses, Span<double> scratch,
        bool writeScoreGradient)
    {
        int count = labels.Length;
        var exp = scratch[..count];
        var log = scratch.Slice(count, count);
        TensorPrimitives.Abs(scores, exp);
        TensorPrimitives.Negate(exp, exp);
        TensorPrimitives.Exp(exp, exp);
        TensorPrimitives.Add(exp, 1.0, log);
        TensorPrimitives.Log(log, log);
        for (int r = 0; r < count; r++)
        {
            losses[r] = Finish(ref scores[r], labels[r], exp[r], log[r], writeScoreGradient);
        }
    }

    /// <summary>
    /// ℓ = max(s, 0) − y·s + log(1 + e^−|s|) from e = e^−|s| and its log term; when asked, replaces s by
    /// ∂ℓ/∂s = σ(s) − y, with σ(s) = 1/(1 + e) for s ≥ 0 and e/(1 + e) otherwise (one exponential for both).
    /// </summary>
    private static double Finish(ref double score, double label, double exp, double log, bool writeScoreGradient)
    {
        double s = score;
        if (writeScoreGradient)
        {
            score = (s >= 0 ? 1 / (1 + exp) : exp / (1 + exp)) - label;
        }

        return Math.Max(s, 0) - (label * s) + log;
    }

    /// <summary>σ(s) = 1/(1 + e^−s), evaluated without overflow for either sign.</summary>
    internal static double Sigmoid(double s)
    {
        if (s >= 0)
        {
            return 1 / (1 + Math.Exp(-s));
        }

        double e = Math.Exp(s);
        return e / (1 + e);
    }
}
