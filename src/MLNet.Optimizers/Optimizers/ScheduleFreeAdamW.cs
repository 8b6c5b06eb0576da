using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// Schedule-free AdamW: no learning-rate decay schedule is needed; same results as <c>AdamWScheduleFree</c> from
/// facebookresearch/schedule_free (its main, in-place implementation).
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> Gradients are taken at y (the vector given to <c>Step</c>), the Adam-normalised step moves z
/// (kept in the state), and the point to evaluate, validate and export is the average x, which
/// <see cref="WriteEvaluationPoint"/> writes without touching y. Reading the training vector directly gives y, not the model.</para>
/// <para>Step k = 0, 1, … (β₁ = beta1 is an interpolation weight here, not a moment decay; λ = weightDecay):</para>
/// <code>
/// z ← y                                        (first step only)
/// γₖ ← γ·min(1, (k + 1)/warmupSteps) ;  lr_max ← max(lr_max, γₖ)
/// w ← (k + 1)^r · lr_max^weightLrPower ;  weight_sum ← weight_sum + w ;  c ← w / weight_sum
/// v ← β₂·v + (1 − β₂)·g²
/// ĝ ← g / (√(v / (1 − β₂^(k+1))) + ε) + λ·y      (only v is bias-corrected; decay is taken at y, after normalising)
/// y ← lerp(y, z, c) + γₖ·(β₁·(1 − c) − 1)·ĝ      (y moves in place; x is never stored)
/// z ← z − γₖ·ĝ
/// x  = (y − (1 − β₁)·z)/β₁ = lerp(y, z, 1 − 1/β₁)
/// </code>
/// <para>This equals the paper's form x ← (1 − c)·x + c·z, y ← β₁·x + (1 − β₁)·z after the z step. The learning rate given to
/// <c>Step</c> is the base rate; warm-up is applied on top of it here. Defaults are schedule_free's: γ = 0.0025,
/// β = (0.9, 0.999), ε = 1e-8, λ = 0, warmupSteps = 0, r = 0, weightLrPower = 2 (its optional <c>inner_momentum</c> is not
/// offered). Per-run state: vectors <c>z</c> and <c>exp_avg_sq</c> (v), scalars <c>weight_sum</c>, <c>lr_max</c> (starts
/// at −1) and <c>scheduled_lr</c> (γₖ of the last step, for logging).</para>
/// <para><b>Differs from schedule_free:</b> there are no <c>train()</c>/<c>eval()</c> modes; the vector always holds y and x
/// is read with <see cref="WriteEvaluationPoint"/>, so a forgotten mode switch cannot corrupt the model.</para>
/// <para>Defazio et al., "The Road Less Scheduled", NeurIPS 2024 (arXiv:2405.15682).</para>
/// </remarks>
public sealed class ScheduleFreeAdamW : FirstOrderOptimizer
{
    internal const string ExpAvgSqKey = "exp_avg_sq";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, the base learning rate, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the interpolation weight between x and z that gives y, strictly in (0, 1) because x = (y − (1 − β₁)·z)/β₁.</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ, decoupled weight decay evaluated at y, finite and ≥ 0.</param>
    /// <param name="warmupSteps">Steps of linear learning-rate warm-up, ≥ 0.</param>
    /// <param name="r">The power of the polynomial weighting (k + 1)^r of the average, finite and ≥ 0.</param>
    /// <param name="weightLrPower">The power of lr_max in the averaging weight, finite and ≥ 0 (0: no learning-rate weighting).</param>
    public ScheduleFreeAdamW(double learningRate = 0.0025, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, int warmupSteps = 0, double r = 0, double weightLrPower = 2)
        : base(learningRate)
    {
        Beta1 = Check.InOpenRange(beta1, 0, 1);
        Beta2 = Check.InRange(beta2, 0, 1, maxExclusive: true);
        Epsilon = Check.Positive(epsilon);
        WeightDecay = Check.NonNegative(weightDecay);
        (WarmupSteps, R, WeightLrPower) = ScheduleFreeAveraging.ValidateWeighting(warmupSteps, r, weightLrPower);
    }

    /// <inheritdoc />
    public override string Name => "ScheduleFreeAdamW";

    /// <summary>β₁, the interpolation weight: y = β₁·x + (1 − β₁)·z.</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment (<c>exp_avg_sq</c>).</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to the denominator after the square root and the bias correction.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the decoupled weight decay, evaluated at y.</summary>
    public double WeightDecay { get; }

    /// <summary>The number of steps of linear learning-rate warm-up.</summary>
    public int WarmupSteps { get; }

    /// <summary>r, the power of the polynomial weighting (k + 1)^r in the average.</summary>
    public double R { get; }

    /// <summary>The power of lr_max in the averaging weight.</summary>
    public double WeightLrPower { get; }

    /// <summary>True: the vector given to <c>Step</c> holds y; evaluate and export x from <see cref="WriteEvaluationPoint"/>.</summary>
    public override bool HasSeparateEvaluationPoint => true;

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        ScheduleFreeAveraging.AddState(state);
        state.AddVector(ExpAvgSqKey);
        return state;
    }

    /// <summary>Writes x = (y − (1 − β₁)·z)/β₁, the averaged point to evaluate and export; before the first step, y itself.</summary>
    /// <param name="parameters">y, the training point (the vector given to <c>Step</c>); not modified.</param>
    /// <param name="state">The run's state.</param>
    /// <param name="destination">Receives x; same length as <paramref name="parameters"/>.</param>
    public override void WriteEvaluationPoint(ReadOnlySpan<float> parameters, OptimizerState state, Span<float> destination) =>
        ScheduleFreeAveraging.WriteEvaluationPoint(this, Beta1, parameters, state, destination);

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new ScheduleFreeAdamW(learningRate, Beta1, Beta2, Epsilon, WeightDecay, WarmupSteps, R, WeightLrPower);

    /// <inheritdoc />
    public override string ToString() =>
        $"ScheduleFreeAdamW(learningRate: {LearningRate}, beta1: {Beta1}, beta2: {Beta2}, epsilon: {Epsilon}, weightDecay: {WeightDecay}, warmupSteps: {WarmupSteps}, r: {R}, weightLrPower: {WeightLrPower})";

    /// <inheritdoc />
    /// <remarks>Compiled straight to optimized code: tiered PGO code of this loop kept its scalars on the stack and ran slower.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, parameters, state, learningRate);
        Span<float> z = state.Vector(ScheduleFreeAveraging.ZKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var y = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var zv = MemoryMarshal.Cast<float, Vector<float>>(z);
            var v = MemoryMarshal.Cast<float, Vector<float>>(expAvgSq);
            var beta2 = new Vector<float>(s.Beta2);
            var squareShare = new Vector<float>(s.SquareShare);
            var biasCorrection2 = new Vector<float>(s.BiasCorrection2);
            var epsilon = new Vector<float>(s.Epsilon);
            var weightDecay = new Vector<float>(s.WeightDecay);
            var yStep = new Vector<float>(s.YStepSize);
            var zStep = new Vector<float>(s.ZStepSize);
            for (int k = 0; k < y.Length; k++)
            {
                var gk = g[k];
                var yk = y[k];
                var zk = zv[k];
                var vk = v[k] * beta2 + squareShare * gk * gk;
                v[k] = vk;
                var normalized = gk / (Vector.SquareRoot(vk / biasCorrection2) + epsilon);
                if (s.HasWeightDecay)
                {
                    normalized += weightDecay * yk;
                }

                yk = s.AverageWeight.Apply(yk, zk);
                y[k] = yk + yStep * normalized;
                zv[k] = zk - zStep * normalized;
            }

            i = y.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref z[i], ref expAvgSq[i], s);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, parameters, state, learningRate);
        Span<float> z = state.Vector(ScheduleFreeAveraging.ZKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref z[i], ref expAvgSq[i], s);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float y, float gradient, ref float z, ref float expAvgSq, in Scalars s)
    {
        expAvgSq = expAvgSq * s.Beta2 + s.SquareShare * gradient * gradient;
        float normalized = gradient / (MathF.Sqrt(expAvgSq / s.BiasCorrection2) + s.Epsilon);
        if (s.HasWeightDecay)
        {
            normalized += s.WeightDecay * y;
        }

        float yAfter = s.AverageWeight.Apply(y, z);
        y = yAfter + s.YStepSize * normalized;
        z -= s.ZStepSize * normalized;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float. Constructing it starts the step in the state.</summary>
    private readonly struct Scalars
    {
        public readonly float Beta2;
        public readonly float SquareShare;
        public readonly float BiasCorrection2;
        public readonly float Epsilon;
        public readonly float WeightDecay;
        public readonly bool HasWeightDecay;
        public readonly LerpWeight AverageWeight;
        public readonly float YStepSize;
        public readonly float ZStepSize;

        public Scalars(ScheduleFreeAdamW rule, ReadOnlySpan<float> parameters, OptimizerState state, double learningRate)
        {
            var (scheduledLearningRate, averageWeight) = ScheduleFreeAveraging.BeginStep(
                parameters, state, learningRate, rule.WarmupSteps, rule.R, rule.WeightLrPower);
            Beta2 = (float)rule.Beta2;
            SquareShare = (float)(1 - rule.Beta2);
            BiasCorrection2 = (float)(1 - Math.Pow(rule.Beta2, state.Step + 1));
            Epsilon = (float)rule.Epsilon;
            WeightDecay = (float)rule.WeightDecay;
            HasWeightDecay = rule.WeightDecay != 0;
            AverageWeight = new LerpWeight(averageWeight);
            YStepSize = (float)(scheduledLearningRate * (rule.Beta1 * (1 - averageWeight) - 1));
            ZStepSize = (float)scheduledLearningRate;
        }
    }
}
