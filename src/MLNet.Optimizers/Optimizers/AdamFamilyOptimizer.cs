using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers;

/// <summary>
/// The hyperparameters <see cref="Adam"/>, <see cref="AdamW"/>, <see cref="Adamax"/>, <see cref="NAdam"/> and
/// <see cref="RAdam"/> share, accepted on the same terms: β₁ and β₂ in [0, 1), ε finite and &gt; 0, λ finite and ≥ 0.
/// </summary>
/// <remarks>
/// Each rule's own page says where ε enters and whether λ is coupled (added to the gradient) or decoupled.
/// <see cref="ScheduleFreeAdamW"/> is not one of them: its β₁ is an interpolation weight and must be strictly inside (0, 1).
/// </remarks>
public abstract class AdamFamilyOptimizer : FirstOrderOptimizer
{
    /// <summary>Checks the four values in constructor order; the exception names the first one out of range.</summary>
    private protected AdamFamilyOptimizer(double learningRate, double beta1, double beta2, double epsilon, double weightDecay)
        : base(learningRate)
    {
        Beta1 = Check.InRange(beta1, 0, 1, maxExclusive: true);
        Beta2 = Check.InRange(beta2, 0, 1, maxExclusive: true);
        Epsilon = Check.Positive(epsilon);
        WeightDecay = Check.NonNegative(weightDecay);
    }

    /// <summary>β₁, the decay of the first moment (<c>exp_avg</c>).</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment (<c>exp_avg_sq</c>; for <see cref="Adamax"/>, of the infinity norm <c>exp_inf</c>).</summary>
    public double Beta2 { get; }

    /// <summary>ε, the term that keeps the denominator away from zero.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the weight decay (coupled L2 added to the gradient, or decoupled for <see cref="AdamW"/>).</summary>
    public double WeightDecay { get; }
}
