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
    private readonly bool _warmStart;
    private double? _startLoss;

    /// <summary>Prepares a run from <paramref name="parameters"/>, which it updates in place (<paramref name="warmStart"/>: they
    /// are not all zero).</summary>
    public LbfgsRun(Lbfgs lbfgs, LinearObjective objective, LinearModelLayout layout, EpochData train, EpochData? validation,
        TrainingOptions options, float[] parameters, bool warmStart)
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
    }

    /// <summary>Runs up to <see cref="TrainingOptions.NumberOfEpochs"/> iterations.</summary>
    public TrainingResult Run()
    {
        // One epoch is one iteration, so the evaluation budget is left open: each iteration's line search is bounded anyway.
        // L1 goes to L-BFGS as a term of its own (OWL-QN), on the weights only.
        var l1 = new LbfgsL1Penalty(_options.L1Regularization, 0, _layout.WeightCount);
        var outcome = _lbfgs.Minimize(_parameters, PenalisedLoss, _options.NumberOfEpochs, maxEvaluations: int.MaxValue, OnIteration,
            _options.CancellationToken, l1);
        Divergence.EnsureProgress(outcome);
        var result = _recorder.Result(_layout, _parameters, outcome.StopReason);

        // Every recorded L-BFGS loss is the data loss at that iterate, so the returned model's is known exactly; so is the
        // start's (the first evaluation).
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
        return loss + _penalty.L2Value(point);
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
        return !_recorder.EndEpoch(epoch, iteration.Iteration, trainingLoss, _parameters, iteration.StepSize);
    }
}
