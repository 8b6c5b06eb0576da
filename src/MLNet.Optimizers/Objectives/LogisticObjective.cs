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
        // One exponential serves both: σ(s) = 1/(1 + e) for s ≥ 0 and e/(1 + e) otherwise, with e = e^−|s|.
        double s = scores[0];
        double e = Math.Exp(-Math.Abs(s));
        if (writeScoreGradient)
        {
            scores[0] = (s >= 0 ? 1 / (1 + e) : e / (1 + e)) - label;
        }

        return Math.Max(s, 0) - (label * s) + Math.Log(1 + e);
    }

    /// <inheritdoc />
    internal override double ZeroModelLoss(TrainingData data, out double totalWeight)
    {
        totalWeight = data.TotalWeight;
        return totalWeight > 0 ? Math.Log(2) : 0; // ℓ(0, y) = log 2 whatever the label
    }

    /// <inheritdoc />
    /// <remarks>
    /// The formula of <see cref="RowLoss"/> vectorised over the tile, without branches: ℓ = max(s, 0) + log(1 + e^−|s|) − y·s,
    /// and ∂ℓ/∂s = σ(s) − y with <c>TensorPrimitives.Sigmoid</c>, which saturates to 0 or 1 where e^−s would overflow.
    /// </remarks>
    internal override void TileLosses(Span<double> scores, ReadOnlySpan<float> labels, Span<double> losses, Span<double> scratch,
        bool writeScoreGradient)
    {
        int count = labels.Length;
        var term = scratch[..count];
        var y = scratch.Slice(count, count);
        TensorPrimitives.Abs(scores, term);
        TensorPrimitives.Negate(term, term);
        TensorPrimitives.Exp(term, term);
        TensorPrimitives.Add(term, 1.0, term);
        TensorPrimitives.Log(term, term);
        TensorPrimitives.Max(scores, 0.0, losses);
        TensorPrimitives.Add(losses, term, losses);
        TensorPrimitives.ConvertChecked<float, double>(labels, y);
        TensorPrimitives.Multiply(y, scores, term);
        TensorPrimitives.Subtract(losses, term, losses);
        if (writeScoreGradient)
        {
            TensorPrimitives.Sigmoid(scores, scores);
            TensorPrimitives.Subtract(scores, y, scores);
        }
    }
}
