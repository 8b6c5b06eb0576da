using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// Schedule-free SGD: no learning-rate decay schedule is needed; same results as <c>SGDScheduleFree</c> from
/// facebookresearch/schedule_free (its main, in-place implementation).
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> Gradients are taken at y (the vector given to <c>Step</c>), the SGD step moves z (kept in the
/// state), and the point to evaluate, validate and export is the average x, which <see cref="WriteEvaluationPoint"/>
/// writes without touching y. Reading the training vector directly gives y, not the model.</para>
/// <para>Step k = 0, 1, … (μ = momentum is an interpolation weight here, not a gradient buffer; λ = weightDecay):</para>
/// <code>
/// z ← y                                        (first step only)
/// γₖ ← γ·min(1, (k + 1)/warmupSteps) ;  lr_max ← max(lr_max, γₖ)
/// w ← (k + 1)^r · lr_max^weightLrPower ;  weight_sum ← weight_sum + w ;  c ← w / weight_sum
/// g ← g + λ·y                                   (when λ ≠ 0: L2 at y)
/// y ← lerp(y, z, c) + γₖ·(μ·(1 − c) − 1)·g       (y moves in place; x is never stored)
/// z ← z − γₖ·g
/// x  = (y − (1 − μ)·z)/μ = lerp(y, z, 1 − 1/μ)
/// </code>
/// <para>The learning rate given to <c>Step</c> is the base rate; warm-up is applied on top of it here. Defaults are
/// schedule_free's: γ = 1.0 (schedule-free SGD wants rates 10–50× a classical one), μ = 0.9, λ = 0, warmupSteps = 0, r = 0,
/// weightLrPower = 2. Per-run state: vector <c>z</c>, scalars <c>weight_sum</c>, <c>lr_max</c> (starts at −1) and
/// <c>scheduled_lr</c> (γₖ of the last step, for logging).</para>
/// <para><b>Differs from schedule_free:</b> there are no <c>train()</c>/<c>eval()</c> modes; the vector always holds y and x
/// is read with <see cref="WriteEvaluationPoint"/>, so a forgotten mode switch cannot corrupt the model.</para>
/// <para>Defazio et al., "The Road Less Scheduled", NeurIPS 2024 (arXiv:2405.15682).</para>
/// </remarks>
public sealed class ScheduleFreeSgd : FirstOrderOptimizer
{
    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, the base learning rate, finite and ≥ 0.</param>
    /// <param name="momentum">μ, the interpolation weight between x and z that gives y, strictly in (0, 1).</param>
    /// <param name="weightDecay">λ, L2 weight decay evaluated at y and added to the gradient, finite and ≥ 0.</param>
    /// <param name="warmupSteps">Steps of linear learning-rate warm-up, ≥ 0.</param>
    /// <param name="r">The power of the polynomial weighting (k + 1)^r of the average, finite and ≥ 0.</param>
    /// <param name="weightLrPower">The power of lr_max in the averaging weight, finite and ≥ 0 (0: no learning-rate weighting).</param>
    public ScheduleFreeSgd(double learningRate = 1.0, double momentum = 0.9, double weightDecay = 0, int warmupSteps = 0,
        double r = 0, double weightLrPower = 2)
        : base(learningRate)
    {
        Momentum = Check.InOpenRange(momentum, 0, 1);
        WeightDecay = Check.NonNegative(weightDecay);
        (WarmupSteps, R, WeightLrPower) = ScheduleFreeAveraging.ValidateWeighting(warmupSteps, r, weightLrPower);
    }

    /// <inheritdoc />
    public override string Name => "ScheduleFreeSgd";

    /// <summary>μ, the interpolation weight: y = μ·x + (1 − μ)·z.</summary>
    public double Momentum { get; }

    /// <summary>λ, the L2 weight decay, evaluated at y.</summary>
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
        return state;
    }

    /// <summary>Writes x = (y − (1 − μ)·z)/μ, the averaged point to evaluate and export; before the first step, y itself.</summary>
    /// <param name="parameters">y, the training point (the vector given to <c>Step</c>); not modified.</param>
    /// <param name="state">The run's state.</param>
    /// <param name="destination">Receives x; same length as <paramref name="parameters"/>.</param>
    public override void WriteEvaluationPoint(ReadOnlySpan<float> parameters, OptimizerState state, Span<float> destination) =>
        ScheduleFreeAveraging.WriteEvaluationPoint(this, Momentum, parameters, state, destination);

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new ScheduleFreeSgd(learningRate, Momentum, WeightDecay, WarmupSteps, R, WeightLrPower);

    /// <inheritdoc />
    public override string ToString() =>
        $"ScheduleFreeSgd(learningRate: {LearningRate}, momentum: {Momentum}, weightDecay: {WeightDecay}, warmupSteps: {WarmupSteps}, r: {R}, weightLrPower: {WeightLrPower})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, parameters, state, learningRate);
        Span<float> z = state.Vector(ScheduleFreeAveraging.ZKey);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var y = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var zv = MemoryMarshal.Cast<float, Vector<float>>(z);
            var weightDecay = new Vector<float>(s.WeightDecay);
            var yStep = new Vector<float>(s.YStepSize);
            var zStep = new Vector<float>(s.ZStepSize);
            for (int k = 0; k < y.Length; k++)
            {
                var gk = g[k];
                var yk = y[k];
                var zk = zv[k];
                if (s.HasWeightDecay)
                {
                    gk += weightDecay * yk;
                }

                yk = s.AverageWeight.Apply(yk, zk);
                y[k] = yk + yStep * gk;
                zv[k] = zk - zStep * gk;
            }

            i = y.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref z[i], s);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, parameters, state, learningRate);
        Span<float> z = state.Vector(ScheduleFreeAveraging.ZKey);
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref z[i], s);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float y, float gradient, ref float z, in Scalars s)
    {
        float g = gradient;
        if (s.HasWeightDecay)
        {
            g += s.WeightDecay * y;
        }

        float yAfter = s.AverageWeight.Apply(y, z);
        y = yAfter + s.YStepSize * g;
        z -= s.ZStepSize * g;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float. Constructing it starts the step in the state.</summary>
    private readonly struct Scalars
    {
        public readonly float WeightDecay;
        public readonly bool HasWeightDecay;
        public readonly LerpWeight AverageWeight;
        public readonly float YStepSize;
        public readonly float ZStepSize;

        public Scalars(ScheduleFreeSgd rule, ReadOnlySpan<float> parameters, OptimizerState state, double learningRate)
        {
            var (scheduledLearningRate, averageWeight) = ScheduleFreeAveraging.BeginStep(
                parameters, state, learningRate, rule.WarmupSteps, rule.R, rule.WeightLrPower);
            WeightDecay = (float)rule.WeightDecay;
            HasWeightDecay = rule.WeightDecay != 0;
            AverageWeight = new LerpWeight(averageWeight);
            YStepSize = (float)(scheduledLearningRate * (rule.Momentum * (1 - averageWeight) - 1));
            ZStepSize = (float)scheduledLearningRate;
        }
    }
}
