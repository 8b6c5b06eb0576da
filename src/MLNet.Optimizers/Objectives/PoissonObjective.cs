namespace MLNet.Optimizers.Objectives;

/// <summary>
/// Poisson regression (log link) on one score s per row, labels y ≥ 0 (counts, or any finite non-negative rate): the
/// negative log-likelihood of y under a Poisson distribution with mean exp(s),
/// <c>ℓ(s, y) = exp(s) − y·s + log Γ(y + 1)</c> (log y! for integer y); <c>∂ℓ/∂s = exp(s) − y</c>.
/// </summary>
/// <remarks>
/// <para>The constant log Γ(y + 1) does not depend on the parameters: it is part of the reported loss (so the loss is the
/// true negative log-likelihood, as ML.NET's <c>LbfgsPoissonRegression</c> reports it) but not of the gradient.</para>
/// <para><b>Large scores.</b> Everything is double: exp(s) is finite for every score up to 709.78 (a predicted mean of
/// 1.7e308) and exactly +∞ beyond, which the training loop reports as divergence; y·s and exp(s) − y never produce NaN for
/// finite s and y. Very negative scores give exp(s) → 0 without harm.</para>
/// </remarks>
public sealed class PoissonObjective : LinearObjective
{
    /// <summary>log k! for k = 0 … 255, summed once in double.</summary>
    private static readonly double[] LogFactorials = CreateLogFactorials(256);

    /// <inheritdoc />
    public override int OutputCount => 1;

    /// <inheritdoc />
    protected override string LabelRequirement => "a finite count >= 0";

    /// <inheritdoc />
    protected override bool IsValidLabel(float label) => label >= 0 && float.IsFinite(label);

    /// <inheritdoc />
    protected override double RowLoss(Span<double> scores, float label, bool writeScoreGradient)
    {
        double s = scores[0];
        double y = label;
        double mean = Math.Exp(s);
        if (writeScoreGradient)
        {
            scores[0] = mean - y;
        }

        return mean - (y * s) + LogGamma(y + 1);
    }

    /// <summary>
    /// log Γ(x) for x ≥ 1: a table for integer x ≤ 256, otherwise the recurrence log Γ(x) = log Γ(x + k) − log(x·…·(x + k − 1))
    /// up to x ≥ 10 and Stirling's series there (five terms: truncation error below 2e-14).
    /// </summary>
    internal static double LogGamma(double x)
    {
        if (x == Math.Floor(x) && x <= LogFactorials.Length)
        {
            return LogFactorials[(int)x - 1];
        }

        double shift = 0;
        while (x < 10)
        {
            shift += Math.Log(x);
            x++;
        }

        double inverse = 1 / x, inverseSquare = inverse * inverse;
        double series = inverse * ((1.0 / 12) - (inverseSquare * ((1.0 / 360) - (inverseSquare * ((1.0 / 1260)
            - (inverseSquare * ((1.0 / 1680) - (inverseSquare / 1188))))))));
        return ((x - 0.5) * Math.Log(x)) - x + (0.5 * Math.Log(2 * Math.PI)) + series - shift;
    }

    private static double[] CreateLogFactorials(int count)
    {
        var table = new double[count];
        for (int k = 2; k < count; k++)
        {
            table[k] = table[k - 1] + Math.Log(k);
        }

        return table;
    }
}
