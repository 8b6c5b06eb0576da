using MLNet.Optimizers.Internal;
using System.Globalization;
using System.Reflection;
namespace MLNet.Optimizers;

/// <summary>
/// A first-order update rule over a flat vector of parameters: one <see cref="Step(Span{float}, ReadOnlySpan{float}, OptimizerState, double)"/>
/// per gradient. The object is an immutable configuration; everything a run accumulates (moments, step count, ...) lives in
/// the <see cref="OptimizerState"/> that <see cref="CreateState"/> returns.
/// </summary>
public abstract class FirstOrderOptimizer : IOptimizer
{
    /// <summary>Initialises the base learning rate (validated: finite and ≥ 0).</summary>
    /// <param name="learningRate">The base learning rate γ.</param>
    protected FirstOrderOptimizer(double learningRate) => LearningRate = Check.NonNegative(learningRate);

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public double LearningRate { get; private set; }

    /// <summary>
    /// True when the point to evaluate and export (x) differs from the point where gradients are taken (y), as in
    /// schedule-free rules. Callers then obtain x through <see cref="WriteEvaluationPoint"/>.
    /// </summary>
    public virtual bool HasSeparateEvaluationPoint => false;

    /// <summary>Creates the per-run state for <paramref name="parameterCount"/> parameters, at step 0.</summary>
    /// <param name="parameterCount">The length of the parameter vector the state will serve.</param>
    public abstract OptimizerState CreateState(int parameterCount);

    /// <summary>
    /// Takes one step in place: <paramref name="parameters"/> (the training point) moves using <paramref name="gradient"/>,
    /// the loss gradient at those parameters, and <paramref name="state"/> advances by one step.
    /// </summary>
    /// <param name="parameters">The parameters, updated in place.</param>
    /// <param name="gradient">The gradient at <paramref name="parameters"/>; not modified.</param>
    /// <param name="state">The run's state, created by <see cref="CreateState"/> of this rule for this length.</param>
    /// <param name="learningRate">The learning rate for this step (the base rate, or a schedule's value).</param>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureMatches(Name, parameters.Length);
        EnsureSameLength(parameters, gradient);
        Check.NonNegative(learningRate);
        StepCore(parameters, gradient, state, learningRate);
        state.Step++;
    }

    /// <summary>
    /// <see cref="Step(Span{float}, ReadOnlySpan{float}, OptimizerState, double)"/> with every element through the rule's
    /// scalar form (the formula line for line): the reference its vector loop must match bit for bit.
    /// </summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        using var scalarOnly = ElementwiseLoop.ScalarOnly();
        Step(parameters, gradient, state, learningRate);
    }

    /// <summary>Takes one step at the base <see cref="LearningRate"/>.</summary>
    /// <param name="parameters">The parameters, updated in place.</param>
    /// <param name="gradient">The gradient at <paramref name="parameters"/>; not modified.</param>
    /// <param name="state">The run's state.</param>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state) =>
        Step(parameters, gradient, state, LearningRate);

    /// <summary>
    /// Writes the point to evaluate, validate and export. For most rules this is the parameters themselves; schedule-free
    /// rules write the averaged point x. The training point is left untouched, so no train/eval mode can be forgotten.
    /// </summary>
    /// <param name="parameters">The training point (the vector given to <c>Step</c>).</param>
    /// <param name="state">The run's state.</param>
    /// <param name="destination">Receives the evaluation point; same length as <paramref name="parameters"/>.</param>
    public virtual void WriteEvaluationPoint(ReadOnlySpan<float> parameters, OptimizerState state, Span<float> destination)
    {
        EnsureEvaluationArguments(parameters, state, destination);
        parameters.CopyTo(destination);
    }

    /// <summary>
    /// Throws unless <paramref name="state"/> is this rule's state for <paramref name="parameters"/> and
    /// <paramref name="destination"/> has one element per parameter: the checks every <see cref="WriteEvaluationPoint"/> makes.
    /// </summary>
    internal void EnsureEvaluationArguments(ReadOnlySpan<float> parameters, OptimizerState state, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureMatches(Name, parameters.Length);
        if (destination.Length != parameters.Length)
        {
            throw new ArgumentException(
                $"destination has {destination.Length} elements but parameters have {parameters.Length}; they must be equal.", nameof(destination));
        }
    }

    /// <summary>Throws unless <paramref name="gradient"/> has one element per parameter.</summary>
    internal static void EnsureSameLength(ReadOnlySpan<float> parameters, ReadOnlySpan<float> gradient)
    {
        if (gradient.Length != parameters.Length)
        {
            throw new ArgumentException(
                $"gradient has {gradient.Length} elements but parameters have {parameters.Length}; they must be equal.", nameof(gradient));
        }
    }

    /// <summary>The rule's update, after the arguments have been checked; <c>state.Step</c> is the number of steps already taken.</summary>
    /// <param name="parameters">The parameters, updated in place.</param>
    /// <param name="gradient">The gradient at <paramref name="parameters"/>.</param>
    /// <param name="state">The run's state (its <see cref="OptimizerState.Step"/> is advanced by the caller afterwards).</param>
    /// <param name="learningRate">The learning rate for this step.</param>
    protected abstract void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate);

    /// <inheritdoc />
    /// <remarks>A copy of this rule (the configuration is immutable, so every other setting is shared as is).</remarks>
    public virtual IOptimizer WithLearningRate(double learningRate)
    {
        var copy = (FirstOrderOptimizer)MemberwiseClone();
        copy.LearningRate = Check.NonNegative(learningRate);
        return copy;
    }

    /// <summary>
    /// The rule and its hyperparameters, e.g. <c>Adam(learningRate: 0.001, beta1: 0.9, ...)</c>: <see cref="Name"/>, then each
    /// parameter of the rule's public constructor, in order, with the value of the public property of the same name.
    /// </summary>
    public override string ToString()
    {
        var type = GetType();
        var constructor = type.GetConstructors().MaxBy(c => c.GetParameters().Length);
        var settings = from parameter in constructor?.GetParameters() ?? []
                       let property = type.GetProperty(parameter.Name!, HyperparameterLookup)
                       where property is not null
                       select string.Create(CultureInfo.InvariantCulture, $"{parameter.Name}: {property.GetValue(this)}");
        return $"{Name}({string.Join(", ", settings)})";
    }

    private const BindingFlags HyperparameterLookup = BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase;
}
