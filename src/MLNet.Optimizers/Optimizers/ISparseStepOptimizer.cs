namespace MLNet.Optimizers;

/// <summary>
/// A rule that can take lazy sparse steps: a step whose gradient is zero except at a few coordinates costs
/// O(non-zeros), not O(parameters). Coordinates the gradient does not touch are brought up to date when they are next
/// touched, or by <see cref="Flush"/>.
/// </summary>
/// <remarks>
/// <para>One <see cref="StepSparse"/> is one optimizer step (<see cref="OptimizerState.Step"/> advances by one) whose
/// gradient is <c>gradientValues</c> at <c>indices</c> and 0 everywhere else.</para>
/// <para><b>Exact rules</b> (after <see cref="Flush"/>, the parameters and state equal those of dense <c>Step</c>s with the
/// zero-filled gradients): <see cref="Sgd"/> without momentum and <see cref="Adagrad"/> (bit for bit: a zero gradient
/// leaves them unchanged), <see cref="Sgd"/> with momentum (closed-form catch-up b·μᵏ, equal up to float rounding), and the
/// decoupled decay of <see cref="AdamW"/> (θ·(1 − γλ)ᵏ, equal up to float rounding). The catch-up assumes the learning rate
/// was constant while a coordinate waited, so a step with a different learning rate first flushes every coordinate (O(n)
/// once per change; a per-epoch schedule costs one pass per epoch).</para>
/// <para><b>Approximate rules</b>: <see cref="Adam"/> and <see cref="AdamW"/> update the moments and parameters of touched
/// coordinates only, with the bias correction of the global step, as PyTorch's <c>SparseAdam</c> does; untouched moments
/// do not decay, so the result differs from dense Adam on the zero-filled gradients (it equals it when every step touches
/// every coordinate).</para>
/// <para>Rules with coupled weight decay (λ·θ added to the gradient) change every coordinate at every step and cannot step
/// lazily: <see cref="SupportsSparseSteps"/> is then false and <see cref="StepSparse"/> throws.</para>
/// <para>A state used with <see cref="StepSparse"/> comes from <see cref="CreateSparseState"/> and is advanced only by
/// <see cref="StepSparse"/>; call <see cref="Flush"/> before reading, evaluating or exporting the parameters, or
/// <see cref="CatchUp"/> before reading some of them (momentum drift and AdamW's decay move skipped coordinates).</para>
/// </remarks>
public interface ISparseStepOptimizer
{
    /// <summary>True when this configuration can step lazily (no coupled weight decay).</summary>
    bool SupportsSparseSteps { get; }

    /// <summary>Creates the per-run state for lazy sparse steps (the dense state plus, where the rule needs them,
    /// per-coordinate last-updated step counters).</summary>
    /// <param name="parameterCount">The length of the parameter vector the state will serve.</param>
    OptimizerState CreateSparseState(int parameterCount);

    /// <summary>Takes one step whose gradient is non-zero only at <paramref name="indices"/>.</summary>
    /// <param name="parameters">The parameters; only touched coordinates (and nothing else) are written.</param>
    /// <param name="indices">The touched coordinates, strictly increasing, each in [0, parameters.Length).</param>
    /// <param name="gradientValues">The gradient at each of <paramref name="indices"/>; same length.</param>
    /// <param name="state">The run's state, from <see cref="CreateSparseState"/> of this rule for this length.</param>
    /// <param name="learningRate">The learning rate for this step, finite and ≥ 0.</param>
    /// <exception cref="NotSupportedException">This configuration has coupled weight decay (see <see cref="SupportsSparseSteps"/>).</exception>
    void StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state,
        double learningRate);

    /// <summary>
    /// Brings <paramref name="indices"/> up to the current step without taking a step, so their values can be read (e.g. by
    /// the forward pass of the next batch, before <see cref="StepSparse"/> touches them); other coordinates stay lazy.
    /// O(indices). Does nothing for rules whose skipped steps leave coordinates unchanged.
    /// </summary>
    /// <param name="parameters">The parameters given to <see cref="StepSparse"/>.</param>
    /// <param name="indices">The coordinates to bring up to date, strictly increasing, each in [0, parameters.Length).</param>
    /// <param name="state">The run's state.</param>
    void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state);

    /// <summary>Brings every coordinate up to the current step, so the parameters can be read, evaluated or exported.
    /// O(parameters); idempotent.</summary>
    /// <param name="parameters">The parameters given to <see cref="StepSparse"/>.</param>
    /// <param name="state">The run's state.</param>
    void Flush(Span<float> parameters, OptimizerState state);
}
