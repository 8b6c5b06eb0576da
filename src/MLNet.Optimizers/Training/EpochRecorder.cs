using System.Diagnostics;
using System.Globalization;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// What ends every epoch, whatever the optimizer: the validation loss at the evaluation point, the early-stopping decision,
/// the report (history, log line, callback); and, at the end of the run, the result.
/// </summary>
internal sealed class EpochRecorder
{
    private readonly LinearObjective _objective;
    private readonly EpochData? _validation;
    private readonly TrainingOptions _options;
    private readonly EarlyStopping _earlyStopping;
    private readonly List<EpochReport> _history;
    private long _epochStarted = Stopwatch.GetTimestamp();

    /// <summary>Starts the clock of the first epoch.</summary>
    /// <param name="objective">The data term, for the validation loss.</param>
    /// <param name="validation">The validation data, or null (early stopping then monitors the training loss).</param>
    /// <param name="options">The run's checked options: epochs, early stopping, log and callback.</param>
    /// <param name="parameterCount">The length of the parameter vector.</param>
    public EpochRecorder(LinearObjective objective, EpochData? validation, TrainingOptions options, int parameterCount)
    {
        _objective = objective;
        _validation = validation;
        _options = options;
        _earlyStopping = new EarlyStopping(options.EarlyStoppingTolerance, options.EarlyStoppingPatience,
            keepBest: options.KeepBestModel && validation is not null, parameterCount);
        _history = []; // not sized by NumberOfEpochs: int.MaxValue ("until early stopping") is a valid setting
    }

    /// <summary>The epochs recorded so far.</summary>
    public int CompletedEpochs => _history.Count;

    /// <summary>Whether early stopping ended the run before its last epoch.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>Records the epoch that just ended (and restarts the clock for the next); returns true when early stopping
    /// says to stop.</summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="steps">Optimizer steps taken so far.</param>
    /// <param name="trainingLoss">The epoch's weighted mean data loss.</param>
    /// <param name="evaluationPoint">The parameters to validate and, when best, to keep.</param>
    /// <param name="learningRate">The epoch's last learning rate (L-BFGS: step length).</param>
    /// <exception cref="InvalidOperationException">The validation loss is not finite.</exception>
    public bool EndEpoch(int epoch, long steps, double trainingLoss, ReadOnlySpan<float> evaluationPoint, double learningRate)
    {
        double? validationLoss = _validation?.FullPass(_objective, evaluationPoint, default, withGradient: false, epoch,
            _options.CancellationToken, out _);
        if (validationLoss is double v && !double.IsFinite(v))
        {
            throw Divergence.In(epoch, "the validation loss", learningRate);
        }

        bool stop = _earlyStopping.Observe(epoch, validationLoss ?? trainingLoss, evaluationPoint);
        var report = new EpochReport(epoch, steps, trainingLoss, validationLoss, learningRate, Stopwatch.GetElapsedTime(_epochStarted));
        _history.Add(report);
        Report(report);
        _epochStarted = Stopwatch.GetTimestamp();
        StoppedEarly = stop && epoch < _options.NumberOfEpochs;
        return stop;
    }

    /// <summary>The reports of the epochs recorded so far.</summary>
    public IReadOnlyList<EpochReport> History => _history;

    /// <summary>The early-stopping state after the last recorded epoch.</summary>
    public EarlyStopping.Snapshot EarlyStoppingState => _earlyStopping.Save();

    /// <summary>Continues a run from a checkpoint: its history, early-stopping state and whether early stopping ended it.</summary>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        _history.Clear();
        _history.AddRange(checkpoint.History);
        _earlyStopping.Restore(checkpoint.EarlyStopping);
        StoppedEarly = checkpoint.StoppedEarly;
        _epochStarted = Stopwatch.GetTimestamp();
    }

    /// <summary>The recorded training loss of the parameters <see cref="Result"/> returns (the best epoch's when kept, else the
    /// last epoch's); null before the first epoch.</summary>
    public double? ReturnedTrainingLoss =>
        _history.Count == 0 ? null : _history[(_earlyStopping.BestParameters is null ? _history.Count : _earlyStopping.BestEpoch) - 1].TrainingLoss;

    /// <summary>The first epoch's recorded training loss; null before it.</summary>
    public double? FirstEpochTrainingLoss => _history.Count == 0 ? null : _history[0].TrainingLoss;

    /// <summary>The result: the best epoch's parameters when kept, else <paramref name="finalParameters"/>.</summary>
    public TrainingResult Result(LinearModelLayout layout, float[] finalParameters, LbfgsStopReason? stopReason = null) =>
        new(layout, _earlyStopping.BestParameters ?? finalParameters, _history, StoppedEarly, _earlyStopping.BestEpoch, stopReason);

    private void Report(EpochReport report)
    {
        if (_options.Log is { } log)
        {
            string validation = report.ValidationLoss is double v ? string.Create(CultureInfo.InvariantCulture, $", validation {v:F6}") : "";
            log(string.Create(CultureInfo.InvariantCulture,
                $"epoch {report.Epoch}/{_options.NumberOfEpochs}: loss {report.TrainingLoss:F6}{validation}, lr {report.LearningRate:G6}, {report.Elapsed.TotalMilliseconds:F0} ms"));
        }

        _options.OnEpochEnd?.Invoke(report);
    }
}
