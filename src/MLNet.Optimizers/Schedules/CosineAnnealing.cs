using System.Globalization;
using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Schedules;

/// <summary>
/// Cosine annealing from the base learning rate to a minimum over a period, optionally with warm restarts (SGDR); same
/// values as <c>torch.optim.lr_scheduler.CosineAnnealingLR</c> (closed form) or, with <c>warmRestarts</c>,
/// <c>CosineAnnealingWarmRestarts(T_0 = period, T_mult = periodMultiplier, eta_min = minimumLearningRate)</c>.
/// </summary>
/// <remarks>
/// <para>With η = minimumLearningRate, t the 0-based optimizer step:</para>
/// <code>
/// γ(t) = η + (γ₀ − η)·(1 + cos(π·T_cur / T_i)) / 2
/// without restarts:  T_cur = t, T_i = period
/// with restarts:     cycle i (from 0) lasts T_i = period·periodMultiplierⁱ steps; T_cur = steps since the cycle began
/// </code>
/// <para>Without restarts this is PyTorch's closed form, which keeps following the cosine after <c>period</c> (the rate
/// climbs back to γ₀ at t = 2·period); to hold η after the period, use <c>warmRestarts</c> or make the period the run
/// length. With restarts the rate jumps back to γ₀ at the start of each cycle and never reaches η exactly. The cycle
/// boundaries are found in integer arithmetic (PyTorch uses a floating-point logarithm, which agrees except for
/// rounding at very large steps).</para>
/// <para>Loshchilov &amp; Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.</para>
/// </remarks>
public sealed class CosineAnnealing : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="period">T_max (or T_0 with restarts): steps from γ₀ down to η, ≥ 1.</param>
    /// <param name="minimumLearningRate">η, the lowest rate, finite and ≥ 0.</param>
    /// <param name="warmRestarts">Restart at γ₀ after each cycle (SGDR) instead of continuing the cosine.</param>
    /// <param name="periodMultiplier">T_mult, the factor by which each cycle is longer than the previous, ≥ 1; must be 1
    /// unless <paramref name="warmRestarts"/> is set.</param>
    public CosineAnnealing(int period, double minimumLearningRate = 0, bool warmRestarts = false, int periodMultiplier = 1)
    {
        Period = Check.AtLeast(period, 1);
        MinimumLearningRate = Check.NonNegative(minimumLearningRate);
        PeriodMultiplier = Check.AtLeast(periodMultiplier, 1);
        if (!warmRestarts && periodMultiplier != 1)
        {
            throw new ArgumentOutOfRangeException(nameof(periodMultiplier),
                $"periodMultiplier only applies with warmRestarts = true and must be 1 otherwise; got {periodMultiplier}.");
        }

        WarmRestarts = warmRestarts;
    }

    /// <summary>T_max, or the first cycle's length T_0 with warm restarts.</summary>
    public int Period { get; }

    /// <summary>η, the lowest learning rate.</summary>
    public double MinimumLearningRate { get; }

    /// <summary>Whether the rate restarts at γ₀ after each cycle.</summary>
    public bool WarmRestarts { get; }

    /// <summary>T_mult, the growth factor of the cycle length.</summary>
    public int PeriodMultiplier { get; }

    /// <inheritdoc />
    public override double LearningRateAt(long step, double baseLearningRate)
    {
        long stepInCycle = step;
        long cycleLength = Period;
        if (WarmRestarts)
        {
            if (PeriodMultiplier == 1)
            {
                stepInCycle = step % Period;
            }
            else
            {
                // Cycles grow geometrically, so this loop runs O(log step) times.
                while (stepInCycle >= cycleLength)
                {
                    stepInCycle -= cycleLength;
                    cycleLength *= PeriodMultiplier;
                }
            }
        }

        double eta = MinimumLearningRate;
        return eta + (baseLearningRate - eta) * (1 + Math.Cos(Math.PI * stepInCycle / cycleLength)) / 2;
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"CosineAnnealing(period: {Period}, minimumLearningRate: {MinimumLearningRate}, warmRestarts: {WarmRestarts}, periodMultiplier: {PeriodMultiplier})");
}
