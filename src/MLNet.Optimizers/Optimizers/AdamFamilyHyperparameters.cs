using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers;

/// <summary>
/// The β₁, β₂, ε and λ that <see cref="Adam"/>, <see cref="AdamW"/>, <see cref="Adamax"/>, <see cref="NAdam"/> and
/// <see cref="RAdam"/> accept on the same terms: β₁ and β₂ in [0, 1), ε finite and &gt; 0, λ finite and ≥ 0.
/// (<see cref="ScheduleFreeAdamW"/> is not one of them: its β₁ is an interpolation weight and must be strictly inside (0, 1).)
/// </summary>
internal readonly record struct AdamFamilyHyperparameters(double Beta1, double Beta2, double Epsilon, double WeightDecay)
{
    /// <summary>Checks the four values in constructor order; the exception names the first one out of range.</summary>
    internal static AdamFamilyHyperparameters Validate(double beta1, double beta2, double epsilon, double weightDecay) => new(
        Check.InRange(beta1, 0, 1, maxExclusive: true),
        Check.InRange(beta2, 0, 1, maxExclusive: true),
        Check.Positive(epsilon),
        Check.NonNegative(weightDecay));
}
