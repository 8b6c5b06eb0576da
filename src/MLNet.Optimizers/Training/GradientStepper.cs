using MLNet.Optimizers.Internal;
using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers.Training;

/// <summary>
/// One run of a first-order rule with its optional schedule and clipping: per gradient it clips, looks up the learning
/// rate for the current step and takes the rule's step. The training loop uses it, and it works on its own over any
/// flat parameter vector.
/// </summary>
/// <remarks>
/// <para>Per <see cref="Step"/>, with k = <c>State.Step</c> (steps already taken):</para>
/// <code>
/// n ← ‖g‖₂ ;  g ← clip(g)                    (clipping, when given; n is LastGradientNorm)
/// γ ← schedule(k, γ₀)   or   γ₀              (γ₀ = optimizer.LearningRate)
/// optimizer.Step(θ, g, State, γ)             (State.Step becomes k + 1)
/// </code>
/// <para>This is the order PyTorch code uses (<c>clip_grad_norm_</c>, then <c>optimizer.step()</c>, then
/// <c>scheduler.step()</c>), with the schedule read at the step being taken. The schedule is a pure function of
/// <c>State.Step</c>, so <see cref="Save"/>/<see cref="Restore"/> of the state alone resume the schedule as well. A step
/// allocates nothing.</para>
/// <para>Non-finite gradients are not rejected here: they reach the parameters, and the training loop, which checks the
/// loss and parameters, reports the divergence; <see cref="LastGradientNorm"/> shows it first.</para>
/// </remarks>
/// <example>
/// <code>
/// var stepper = new GradientStepper(new Sgd(learningRate: 0.1, momentum: 0.9), parameters.Length,
///     new LinearWarmup(100, new CosineAnnealing(period: 900)), GradientClipping.ByGlobalNorm(1.0));
/// for (int i = 0; i &lt; 1000; i++)
/// {
///     ComputeGradient(parameters, gradient);
///     stepper.Step(parameters, gradient);
/// }
/// </code>
/// </example>
public sealed class GradientStepper
{
    private readonly ISparseStepOptimizer? _sparse;

    /// <summary>Creates a run at step 0 with fresh optimizer state.</summary>
    /// <param name="optimizer">The update rule.</param>
    /// <param name="parameterCount">The length of the parameter vector, ≥ 0.</param>
    /// <param name="schedule">The learning-rate schedule; null keeps the optimizer's base learning rate.</param>
    /// <param name="clipping">The gradient clipping; null leaves gradients as they are.</param>
    /// <param name="sparseSteps">
    /// Take lazy sparse steps (<see cref="StepSparse"/>, <see cref="Flush"/>) instead of dense ones: the optimizer must be an
    /// <see cref="ISparseStepOptimizer"/> that supports them, and there must be no clipping (it needs the whole gradient).
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="sparseSteps"/> is true but the rule or the clipping rules it out.</exception>
    public GradientStepper(FirstOrderOptimizer optimizer, int parameterCount, LearningRateSchedule? schedule = null,
        GradientClipping? clipping = null, bool sparseSteps = false)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Check.AtLeast(parameterCount, 0);
        Optimizer = optimizer;
        Schedule = schedule;
        Clipping = clipping;
        if (sparseSteps)
        {
            if (optimizer is not ISparseStepOptimizer { SupportsSparseSteps: true } sparse)
            {
                throw new ArgumentException($"{optimizer} cannot take lazy sparse steps; use dense steps.", nameof(sparseSteps));
            }

            if (clipping is not null)
            {
                throw new ArgumentException("Gradient clipping needs the whole gradient; it cannot be combined with sparse steps.", nameof(sparseSteps));
            }

            _sparse = sparse;
            State = sparse.CreateSparseState(parameterCount);
        }
        else
        {
            State = optimizer.CreateState(parameterCount);
        }
    }

    /// <summary>The update rule.</summary>
    public FirstOrderOptimizer Optimizer { get; }

    /// <summary>The run's optimizer state (step count, moments, buffers).</summary>
    public OptimizerState State { get; }

    /// <summary>The learning-rate schedule, or null for the constant base rate.</summary>
    public LearningRateSchedule? Schedule { get; }

    /// <summary>The gradient clipping, or null for none.</summary>
    public GradientClipping? Clipping { get; }

    /// <summary>The learning rate the next <see cref="Step"/> will use: the schedule at <c>State.Step</c>, or the base rate.</summary>
    public double CurrentLearningRate =>
        Schedule?.LearningRateAt(State.Step, Optimizer.LearningRate) ?? Optimizer.LearningRate;

    /// <summary>The global L2 norm of the last gradient, before clipping; NaN before the first step.</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>Clips <paramref name="gradient"/> in place, then takes one optimizer step on <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The training point, updated in place.</param>
    /// <param name="gradient">The gradient at <paramref name="parameters"/>; clipped in place when clipping is configured.</param>
    /// <returns>The learning rate used for this step.</returns>
    public double Step(Span<float> parameters, Span<float> gradient)
    {
        // Checked before clipping so that a rejected call leaves the gradient and LastGradientNorm untouched.
        State.EnsureMatches(Optimizer.Name, parameters.Length);
        FirstOrderOptimizer.EnsureSameLength(parameters, gradient);

        LastGradientNorm = Clipping?.Apply(gradient) ?? GradientClipping.GlobalNorm(gradient);
        double learningRate = CurrentLearningRate;
        Optimizer.Step(parameters, gradient, State, learningRate);
        return learningRate;
    }

    /// <summary>
    /// Takes one lazy sparse step (the stepper must have been created with <c>sparseSteps: true</c>): the gradient is
    /// <paramref name="gradientValues"/> at <paramref name="indices"/> and 0 elsewhere. Returns the learning rate used.
    /// Call <see cref="Flush"/> before reading, evaluating or exporting the parameters.
    /// </summary>
    /// <param name="parameters">The parameters, updated in place at the touched coordinates.</param>
    /// <param name="indices">The touched coordinates, strictly increasing.</param>
    /// <param name="gradientValues">The gradient at <paramref name="indices"/>.</param>
    /// <returns>The learning rate of this step.</returns>
    public double StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues)
    {
        var sparse = _sparse ?? throw new InvalidOperationException("This stepper takes dense steps; create it with sparseSteps: true.");
        LastGradientNorm = GradientClipping.GlobalNorm(gradientValues);
        double learningRate = CurrentLearningRate;
        sparse.StepSparse(parameters, indices, gradientValues, State, learningRate);
        return learningRate;
    }

    /// <summary>Brings <paramref name="indices"/> up to date between lazy sparse steps so they can be read; does nothing for dense steps.</summary>
    /// <param name="parameters">The parameters given to <see cref="StepSparse"/>.</param>
    /// <param name="indices">The coordinates to bring up to date, strictly increasing.</param>
    public void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices) => _sparse?.CatchUp(parameters, indices, State);

    /// <summary>Brings every coordinate up to date after lazy sparse steps; does nothing for dense steps.</summary>
    /// <param name="parameters">The parameters given to <see cref="StepSparse"/>.</param>
    public void Flush(Span<float> parameters) => _sparse?.Flush(parameters, State);

    /// <summary>Writes the point to evaluate and export (the parameters themselves, or a schedule-free rule's average).</summary>
    /// <param name="parameters">The training point.</param>
    /// <param name="destination">Receives the evaluation point; same length as <paramref name="parameters"/>.</param>
    public void WriteEvaluationPoint(ReadOnlySpan<float> parameters, Span<float> destination) =>
        Optimizer.WriteEvaluationPoint(parameters, State, destination);

    /// <summary>Writes the optimizer state (which includes the step, and so the schedule's position) to <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream) => State.Save(stream);

    /// <summary>Loads a state written by <see cref="Save"/> of a stepper with the same rule and parameter count.</summary>
    /// <param name="stream">A readable stream positioned at a snapshot; left open.</param>
    public void Restore(Stream stream) => State.Restore(stream);
}
