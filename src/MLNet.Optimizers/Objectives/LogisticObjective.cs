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
        double y = label;
        if (writeScoreGradient)
        {
            scores[0] = Sigmoid(s) - y;
        }

        return Math.Max(s, 0) - (y * s) + Math.Log(1 + Math.Exp(-Math.Abs(s)));
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
