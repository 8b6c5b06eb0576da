namespace MLNet.Optimizers.Objectives;

/// <summary>Squared error on one score s per row (linear regression), any finite label y: <c>ℓ(s, y) = ½·(s − y)²</c>.</summary>
/// <remarks>
/// The ½ makes <c>∂ℓ/∂s = s − y</c>. PyTorch's <c>MSELoss</c> has no ½, so its loss is twice ours and its gradient twice
/// ours; the minimiser is the same, and an optimizer step on <c>MSELoss</c> equals ours at twice the learning rate (for
/// plain SGD).
/// </remarks>
public sealed class SquaredObjective : LinearObjective
{
    /// <inheritdoc />
    public override int OutputCount => 1;

    /// <inheritdoc />
    protected override string LabelRequirement => "a finite value";

    /// <inheritdoc />
    protected override bool IsValidLabel(float label) => float.IsFinite(label);

    /// <inheritdoc />
    internal override double ZeroModelLoss(TrainingData data, out double totalWeight)
    {
        // ½·Σwᵢyᵢ²/Σwᵢ, in double (the squares of float labels can pass float's range).
        var labels = data.Labels;
        double sum = 0;
        for (int row = 0; row < labels.Length; row++)
        {
            double y = labels[row];
            sum += data.WeightOf(row) * y * y;
        }

        totalWeight = data.TotalWeight;
        return totalWeight > 0 ? 0.5 * sum / totalWeight : 0;
    }

    /// <inheritdoc />
    protected override double RowLoss(Span<double> scores, float label, bool writeScoreGradient)
    {
        double residual = scores[0] - label;
        if (writeScoreGradient)
        {
            scores[0] = residual;
        }

        return 0.5 * residual * residual;
    }
}
