using System.Numerics.Tensors;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// A training run with L-BFGS: it minimises the full-batch <c>objective + (λ₂/2)·‖W‖²</c> through its objective callback, plus
/// <c>λ₁·‖W‖₁</c> as an <see cref="LbfgsL1Penalty"/> on the weights (OWL-QN, exact zeros), and
/// each of its iterations is one epoch (reported through the iteration callback, which also decides early stopping).
/// </summary>
internal sealed class LbfgsRun
{
    private readonly Lbfgs _lbfgs;
    private readonly LinearObjective _objective;
    private readonly LinearModelLayout _layout;
    private readonly EpochData _train;
    private readonly WeightPenalty _penalty;
    private readonly EpochRecorder _recorder;
    private readonly TrainingOptions _options;
    private readonly float[] _parameters;
    private readonly CheckpointStore? _checkpoints;
    private readonly LbfgsState _state;
    private readonly LbfgsL1Penalty _l1;
    private readonly bool _warmStart;

    /// <summary>The penalised loss at the run's starting point (L1 included), the reference of the progress test; NaN until
    /// the first evaluation (or the checkpoint) gives it.</summary>
    private double _initialLoss = double.NaN;

    /// <summary>The data loss at a warm start's parameters, the final check's baseline; null until known.</summary>
    private double? _startLoss;

    /// <summary>max |g| of the penalised gradient at the starting point; NaN until the first evaluation.</summary>
    private double _startGradientMaxAbs = double.NaN;

    /// <summary>Prepares a run from <paramref name="parameters"/>, which it updates in place (<paramref name="warmStart"/>: they
    /// are not all zero), checkpointing into <paramref name="checkpoints"/> when given.</summary>
    public LbfgsRun(Lbfgs lbfgs, LinearObjective objective, LinearModelLayout layout, EpochData train, EpochData? validation,
        TrainingOptions options, float[] parameters, bool warmStart, CheckpointStore? checkpoints)
    {
        _warmStart = warmStart;
        _lbfgs = lbfgs;
        _objective = objective;
        _layout = layout;
        _train = train;
        _options = options;
        _parameters = parameters;
        _penalty = new WeightPenalty(layout, options.L2Regularization, options.L1Regularization);
        _recorder = new EpochRecorder(objective, validation, options, layout.ParameterCount);
        _checkpoints = checkpoints;
        _state = lbfgs.CreateState(layout.ParameterCount);

        // L1 goes to L-BFGS as a term of its own (OWL-QN), on the weights only.
        _l1 = new LbfgsL1Penalty(options.L1Regularization, 0, layout.WeightCount);
    }

    /// <summary>Runs up to <see cref="TrainingOptions.NumberOfEpochs"/> iterations, or the rest of them after a checkpoint.</summary>
    /// <remarks>A resumed run continues the saved L-BFGS state with a new <see cref="Lbfgs.Minimize(Span{float}, ObjectiveFunction, LbfgsState, int, int?, Func{LbfgsIteration, bool}?, CancellationToken, LbfgsL1Penalty)"/>
    /// call, which starts by evaluating the objective at the saved iterate: the same loss and gradient the uninterrupted run
    /// had there, so the iterates go on bit for bit (only the evaluation count has one more).</remarks>
    public TrainingResult Run()
    {
        if (_checkpoints?.Resumed is { } saved)
        {
            if (_warmStart)
            {
                // The final check compares with the original start, not with the iterate the run resumes from.
                _startLoss = _train.FullPass(_objective, _parameters, default, withGradient: false, 1, _options.CancellationToken, out _);
            }

            saved.Parameters.CopyTo(_parameters, 0);
            using (var stream = new MemoryStream(saved.OptimizerState, writable: false))
            {
                _state.Restore(stream);
            }

            _recorder.Restore(saved);
            _initialLoss = saved.StartLoss;
            if (saved.Finished)
            {
                return Checked(_recorder.Result(_layout, _parameters, saved.StopReason));
            }
        }

        // One epoch is one iteration, so the evaluation budget is left open: each iteration's line search is bounded anyway.
        var outcome = _lbfgs.Minimize(_parameters, PenalisedLoss, _state, _options.NumberOfEpochs - _recorder.CompletedEpochs,
            maxEvaluations: int.MaxValue, OnIteration, _options.CancellationToken, _l1);
        Divergence.EnsureProgress(outcome.StopReason, _state.Iterations, _initialLoss, outcome.Loss);
        if (!_warmStart && _checkpoints?.Resumed is null)
        {
            Divergence.EnsureNotStalledAtZero(outcome.StopReason, _state.Iterations, _startGradientMaxAbs, _lbfgs.GradientTolerance);
        }

        _checkpoints?.Write(_recorder.CompletedEpochs, finished: true, outcome.StopReason, _initialLoss, _parameters, _state.Save, _recorder);
        return Checked(_recorder.Result(_layout, _parameters, outcome.StopReason));
    }

    /// <summary>The result after <see cref="FinalModelCheck"/>: every recorded L-BFGS loss is the data loss at that iterate, so the
    /// returned model's is known exactly; so is the start's (the first evaluation).</summary>
    private TrainingResult Checked(TrainingResult result)
    {
        FinalModelCheck.Ensure(_objective, _layout, _train, result.Parameters, _recorder.ReturnedTrainingLoss, _warmStart ? _startLoss : null,
            _recorder.CompletedEpochs, _options.Communicator);
        return result;
    }

    /// <summary>The full-batch objective including the L2 penalty, so that L-BFGS minimises the whole J.</summary>
    private double PenalisedLoss(ReadOnlySpan<float> point, Span<float> gradient)
    {
        _options.CancellationToken.ThrowIfCancellationRequested();
        double loss = _train.FullPass(_objective, point, gradient, withGradient: true, _recorder.CompletedEpochs + 1,
            _options.CancellationToken, out _);
        if (!double.IsFinite(loss))
        {
            throw Divergence.In(_recorder.CompletedEpochs + 1, "the training loss", _lbfgs.LearningRate);
        }

        _startLoss ??= loss;

        _penalty.AddL2Gradient(point, gradient);
        double penalised = loss + _penalty.L2Value(point);
        if (double.IsNaN(_initialLoss))
        {
            _startGradientMaxAbs = Math.Abs((double)TensorPrimitives.MaxMagnitude((ReadOnlySpan<float>)gradient));
            // The first evaluation is at the starting point; L-BFGS adds the L1 term to it as here.
            _initialLoss = _l1.IsActive ? penalised + LbfgsOrthantWise.Penalty(_l1, point) : penalised;
        }

        return penalised;
    }

    /// <summary>Ends the epoch the iteration completed; returns false to stop (early stopping).</summary>
    private bool OnIteration(LbfgsIteration iteration)
    {
        int epoch = _recorder.CompletedEpochs + 1;
        if (!TensorPrimitives.IsFiniteAll(_parameters))
        {
            throw Divergence.In(epoch, "a parameter", iteration.StepSize);
        }

        // The data loss at the new iterate: L-BFGS reports the penalised loss there, except that without a line search the
        // last iteration is not re-evaluated (as in PyTorch), so that one is computed here.
        double trainingLoss = _lbfgs.LineSearch == LineSearch.None && epoch == _options.NumberOfEpochs
            ? _train.FullPass(_objective, _parameters, default, withGradient: false, epoch, _options.CancellationToken, out _)
            : iteration.Loss - _penalty.L2Value(_parameters) - _penalty.L1Value(_parameters);
        bool proceed = !_recorder.EndEpoch(epoch, iteration.Iteration, trainingLoss, _parameters, iteration.StepSize);

        // Only an iteration the run goes on from is checkpointed here: the state cannot tell a resumed run that this one had
        // converged; the run's end is checkpointed once Minimize returns.
        if (proceed && iteration.StopReason is null && _checkpoints is not null && _checkpoints.IsDue(epoch))
        {
            _checkpoints.Write(epoch, finished: false, stopReason: null, _initialLoss, _parameters, _state.Save, _recorder);
        }

        return proceed;
    }
}
