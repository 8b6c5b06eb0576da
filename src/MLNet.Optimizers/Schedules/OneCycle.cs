using System.Globalization;
using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Schedules;

/// <summary>
/// The 1cycle policy: up from maxLearningRate/divFactor to maxLearningRate, then down to a far lower minimum; same values
/// as <c>torch.optim.lr_scheduler.OneCycleLR(max_lr, total_steps, pct_start, anneal_strategy, div_factor,
/// final_div_factor, three_phase=False)</c>.
/// </summary>
/// <remarks>
/// <para>With N = totalSteps, p = pctStart, γ_max = maxLearningRate, t the 0-based optimizer step:</para>
/// <code>
/// γ_initial = γ_max / divFactor ;  γ_min = γ_initial / finalDivFactor
/// e₁ = p·N − 1 ;  e₂ = N − 1                          (phase ends, as PyTorch's end_step)
/// t ≤ e₁:  γ(t) = anneal(γ_initial, γ_max, t / e₁)
/// t &gt; e₁:  γ(t) = anneal(γ_max, γ_min, (t − e₁) / (e₂ − e₁))
/// t ≥ N:   γ(t) = γ_min
/// </code>
/// <para>anneal is <see cref="AnnealingStrategy"/>. As in PyTorch, the optimizer's base learning rate is ignored: the
/// schedule sets every rate from γ_max. PyTorch's momentum cycling (<c>cycle_momentum</c>) is not part of this schedule
/// (a schedule here only sets the learning rate).</para>
/// <para><b>Differs from PyTorch:</b> past the cycle (t ≥ N) the rate holds γ_min, where PyTorch raises; and a
/// zero-length warm-up phase (p·N = 1, so e₁ = 0) gives γ_max at step 0, where PyTorch divides by zero.</para>
/// <para>Smith &amp; Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large Learning Rates", arXiv:1708.07120.</para>
/// </remarks>
public sealed class OneCycle : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="totalSteps">N, the number of optimizer steps in the cycle, ≥ 1.</param>
    /// <param name="maxLearningRate">γ_max, the peak rate, finite and &gt; 0.</param>
    /// <param name="pctStart">p, the fraction of the cycle spent rising, in [0, 1].</param>
    /// <param name="divFactor">γ_initial = γ_max / divFactor; finite and &gt; 0.</param>
    /// <param name="finalDivFactor">γ_min = γ_initial / finalDivFactor; finite and &gt; 0.</param>
    /// <param name="annealing">The shape of both phases.</param>
    public OneCycle(int totalSteps, double maxLearningRate, double pctStart = 0.3, double divFactor = 25,
        double finalDivFactor = 1e4, AnnealingStrategy annealing = AnnealingStrategy.Cosine)
    {
        TotalSteps = Check.AtLeast(totalSteps, 1);
        MaxLearningRate = Check.Positive(maxLearningRate);
        PctStart = Check.InRange(pctStart, 0, 1, maxExclusive: false);
        DivFactor = Check.Positive(divFactor);
        FinalDivFactor = Check.Positive(finalDivFactor);
        Annealing = Check.Defined(annealing);
    }

    /// <summary>N, the number of optimizer steps in the cycle.</summary>
    public int TotalSteps { get; }

    /// <summary>γ_max, the peak learning rate.</summary>
    public double MaxLearningRate { get; }

    /// <summary>p, the fraction of the cycle spent rising.</summary>
    public double PctStart { get; }

    /// <summary>γ_max / γ_initial.</summary>
    public double DivFactor { get; }

    /// <summary>γ_initial / γ_min.</summary>
    public double FinalDivFactor { get; }

    /// <summary>The shape of both phases.</summary>
    public AnnealingStrategy Annealing { get; }

    /// <summary>γ_initial = γ_max / divFactor, the rate at step 0.</summary>
    public double InitialLearningRate => MaxLearningRate / DivFactor;

    /// <summary>γ_min = γ_initial / finalDivFactor, the rate at the end of the cycle.</summary>
    public double MinimumLearningRate => InitialLearningRate / FinalDivFactor;

    /// <inheritdoc />
    /// <remarks>The base learning rate is ignored, as in PyTorch's OneCycleLR.</remarks>
    public override double LearningRateAt(long step, double baseLearningRate)
    {
        if (step >= TotalSteps)
        {
            return MinimumLearningRate;
        }

        double warmupEnd = PctStart * TotalSteps - 1;
        double cycleEnd = TotalSteps - 1;
        if (step <= warmupEnd)
        {
            return warmupEnd == 0 ? MaxLearningRate : Anneal(InitialLearningRate, MaxLearningRate, step / warmupEnd);
        }

        return Anneal(MaxLearningRate, MinimumLearningRate, (step - warmupEnd) / (cycleEnd - warmupEnd));
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"OneCycle(totalSteps: {TotalSteps}, maxLearningRate: {MaxLearningRate}, pctStart: {PctStart}, divFactor: {DivFactor}, finalDivFactor: {FinalDivFactor}, annealing: {Annealing})");

    private double Anneal(double start, double end, double progress) => Annealing == AnnealingStrategy.Cosine
        ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * progress) + 1)
        : (end - start) * progress + start;
}
