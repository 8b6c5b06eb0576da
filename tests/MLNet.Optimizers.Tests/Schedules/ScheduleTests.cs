using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers.Tests.Schedules;

public class ScheduleTests
{
    // Schedules run in double, so hand-computed values are checked to 1e-12 relative (rounding of a few double operations).
    private static void AssertRate(double expected, double actual) =>
        Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void Constant_schedule_returns_the_base_rate_at_every_step()
    {
        var schedule = new ConstantSchedule();
        Assert.Equal(0.1, schedule.LearningRateAt(0, 0.1));
        Assert.Equal(0.1, schedule.LearningRateAt(1_000_000, 0.1));
    }

    [Theory]
    [InlineData(0, 0.2)]
    [InlineData(2, 0.2)]    // ⌊2/3⌋ = 0
    [InlineData(3, 0.1)]    // ⌊3/3⌋ = 1: 0.2·0.5
    [InlineData(5, 0.1)]
    [InlineData(6, 0.05)]   // 0.2·0.5²
    [InlineData(30, 0.0001953125)] // 0.2·0.5¹⁰
    public void Step_decay_multiplies_by_gamma_every_step_size_steps(long step, double expected) =>
        AssertRate(expected, new StepDecay(stepSize: 3, gamma: 0.5).LearningRateAt(step, 0.2));

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(1, 0.9)]
    [InlineData(3, 0.729)]  // 0.9³
    public void Exponential_decay_multiplies_by_gamma_every_step(long step, double expected) =>
        AssertRate(expected, new ExponentialDecay(gamma: 0.9).LearningRateAt(step, 1.0));

    [Theory]
    [InlineData(0, 0.11)]                   // η + (γ₀ − η)·(1 + cos 0)/2 = γ₀
    [InlineData(3, 0.08938926261462365)]    // 0.01 + 0.1·(1 + cos(0.3π))/2 = 0.01 + 0.1·0.793892626
    [InlineData(5, 0.06)]                   // 0.01 + 0.1·(1 + cos(π/2))/2
    [InlineData(10, 0.01)]                  // cos π = −1: η
    [InlineData(15, 0.06)]                  // PyTorch's closed form keeps following the cosine after the period …
    [InlineData(20, 0.11)]                  // … back to γ₀ at 2·period
    public void Cosine_annealing_follows_pytorch_closed_form(long step, double expected) =>
        AssertRate(expected, new CosineAnnealing(period: 10, minimumLearningRate: 0.01).LearningRateAt(step, 0.11));

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(2, 0.5)]        // halfway through the 4-step cycle
    [InlineData(3, 0.14644660940672627)] // (1 + cos(3π/4))/2
    [InlineData(4, 1.0)]        // restart
    [InlineData(6, 0.5)]
    [InlineData(402, 0.5)]
    public void Warm_restarts_with_fixed_period_restart_every_period(long step, double expected) =>
        AssertRate(expected, new CosineAnnealing(period: 4, warmRestarts: true).LearningRateAt(step, 1.0));

    [Theory]
    [InlineData(1, 0.5)]        // cycle 0 = steps [0, 2): T_cur 1 of T_i 2
    [InlineData(2, 1.0)]        // cycle 1 = steps [2, 6) starts at γ₀
    [InlineData(4, 0.5)]        // T_cur 2 of 4
    [InlineData(5, 0.14644660940672627)] // T_cur 3 of 4
    [InlineData(6, 1.0)]        // cycle 2 = steps [6, 14)
    [InlineData(10, 0.5)]       // T_cur 4 of 8
    public void Warm_restarts_with_period_multiplier_lengthen_each_cycle(long step, double expected) =>
        AssertRate(expected, new CosineAnnealing(period: 2, warmRestarts: true, periodMultiplier: 2).LearningRateAt(step, 1.0));

    [Fact]
    public void Warm_restarts_match_pytorch_recursive_stepping_for_many_steps()
    {
        // CosineAnnealingWarmRestarts.step() without an epoch: T_cur += 1; when T_cur ≥ T_i, T_cur −= T_i and T_i ·= T_mult.
        var schedule = new CosineAnnealing(period: 3, minimumLearningRate: 0.001, warmRestarts: true, periodMultiplier: 3);
        long tCur = 0, tI = 3;
        for (long step = 0; step < 500; step++)
        {
            double expected = 0.001 + (0.1 - 0.001) * (1 + Math.Cos(Math.PI * tCur / tI)) / 2;
            Assert.Equal(expected, schedule.LearningRateAt(step, 0.1));
            if (++tCur >= tI)
            {
                tCur -= tI;
                tI *= 3;
            }
        }
    }

    [Theory]
    [InlineData(0, 0.0)]        // startFactor·γ₀ = 0
    [InlineData(1, 0.025)]      // 0 + (0.1 − 0)·1/4
    [InlineData(3, 0.075)]
    [InlineData(4, 0.1)]        // warm-up over: the constant γ₀
    [InlineData(1000, 0.1)]
    public void Linear_warmup_ramps_from_zero_to_the_base_rate(long step, double expected)
    {
        double actual = new LinearWarmup(warmupSteps: 4).LearningRateAt(step, 0.1);
        if (expected == 0)
        {
            Assert.Equal(0.0, actual);
        }
        else
        {
            AssertRate(expected, actual);
        }
    }

    [Theory]
    [InlineData(0, 0.05)]       // s₀·γ₀ = 0.5·0.1
    [InlineData(2, 0.075)]      // 0.05 + (A(0) − 0.05)·2/4 with A(0) = γ₀ = 0.1
    [InlineData(4, 0.1)]        // A(0)
    [InlineData(9, 0.05)]       // A(5) = 0.1·(1 + cos(π/2))/2: the cosine's steps count from the end of the warm-up
    [InlineData(14, 0.0)]       // A(10) = η = 0
    public void Linear_warmup_hands_over_to_the_following_schedule_with_shifted_steps(long step, double expected)
    {
        var schedule = new LinearWarmup(warmupSteps: 4, after: new CosineAnnealing(period: 10), startFactor: 0.5);
        double actual = schedule.LearningRateAt(step, 0.1);
        Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Max(Math.Abs(expected), 1e-3), $"step {step}: expected {expected}, got {actual}");
    }

    [Theory]
    // N = 10, γ_max = 1, p = 0.3: γ_initial = 1/25 = 0.04, γ_min = 0.04/1e4 = 4e-6, e₁ = 0.3·10 − 1 = 2, e₂ = 9.
    [InlineData(AnnealingStrategy.Cosine, 0, 0.04)]
    [InlineData(AnnealingStrategy.Cosine, 1, 0.52)]                 // 1 + (0.04 − 1)/2·(cos(π/2) + 1)
    [InlineData(AnnealingStrategy.Cosine, 2, 1.0)]                  // end of phase 1: γ_max
    [InlineData(AnnealingStrategy.Cosine, 5, 0.6112620219362893)]   // 4e-6 + (1 − 4e-6)/2·(cos(3π/7) + 1)
    [InlineData(AnnealingStrategy.Cosine, 9, 4e-6)]                 // last step: γ_min
    [InlineData(AnnealingStrategy.Cosine, 10, 4e-6)]                // past the cycle: held (PyTorch raises)
    [InlineData(AnnealingStrategy.Linear, 1, 0.52)]                 // (1 − 0.04)·0.5 + 0.04
    [InlineData(AnnealingStrategy.Linear, 5, 0.5714302857142857)]   // (4e-6 − 1)·3/7 + 1
    [InlineData(AnnealingStrategy.Linear, 9, 4e-6)]
    public void One_cycle_matches_pytorch_one_cycle_lr(AnnealingStrategy annealing, long step, double expected)
    {
        // Absolute 1e-12 (rates here are ≤ 1): PyTorch's linear form (end − start)·p + start cancels at p = 1 and gives
        // 4.000000000004e-6 for 4e-6, and so does ours, as it uses the same formula.
        var schedule = new OneCycle(totalSteps: 10, maxLearningRate: 1.0, annealing: annealing);
        Assert.Equal(expected, schedule.LearningRateAt(step, baseLearningRate: 0.123), 1e-12);
        Assert.Equal(expected, schedule.LearningRateAt(step, baseLearningRate: 42), 1e-12); // the base rate is ignored, as in PyTorch
    }

    [Fact]
    public void One_cycle_with_a_zero_length_rise_starts_at_the_peak()
    {
        // p·N = 1 makes PyTorch's first phase end at step 0 (0/0 there); we start at γ_max and then anneal down.
        var schedule = new OneCycle(totalSteps: 10, maxLearningRate: 0.5, pctStart: 0.1);
        Assert.Equal(0.5, schedule.LearningRateAt(0, 0.01));
        Assert.True(schedule.LearningRateAt(1, 0.01) < 0.5);
    }
}
