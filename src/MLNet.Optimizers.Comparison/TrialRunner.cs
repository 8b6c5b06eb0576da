using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// The comparison's unit of work: trains one candidate for a number of epochs on one fold's training rows and scores it on
/// the held-out rows. The folds are built once (pipeline prefix fitted on each fold's training rows only, then cached).
/// </summary>
internal sealed class TrialRunner
{
    private readonly CandidateTrainer _trainer;
    private readonly FoldData[] _folds;
    private readonly ComparisonTask _task;
    private readonly string _labelColumnName;
    private readonly int _seed;

    private TrialRunner(CandidateTrainer trainer, FoldData[] folds, ComparisonTask task, string labelColumnName, int seed)
    {
        _trainer = trainer;
        _seed = seed;
        _folds = folds;
        _task = task;
        _labelColumnName = labelColumnName;
    }

    public int FoldCount => _folds.Length;

    /// <summary>
    /// Splits <paramref name="data"/> (already cached in memory) by <paramref name="foldOfRow"/> and fits the pipeline prefix
    /// inside each fold on its training rows; the featurized folds are cached and read once into the trainer's own rows, so a
    /// trial neither reads a view nor copies its fold.
    /// </summary>
    /// <exception cref="ArgumentException">The feature column is missing after the prefix.</exception>
    public static TrialRunner Prepare(MLContext mlContext, CandidateTrainer trainer, IDataView data, int[] foldOfRow,
        OptimizerComparisonOptions options)
    {
        var folds = new FoldData[options.NumberOfFolds];
        for (int fold = 0; fold < folds.Length; fold++)
        {
            var train = new RowSubsetDataView(data, foldOfRow.Select(f => f != fold).ToArray());
            var heldOut = new RowSubsetDataView(data, foldOfRow.Select(f => f == fold).ToArray());
            ITransformer prefix = options.PipelinePrefix?.Fit(train) ?? new TransformerChain<ITransformer>();
            IDataView trainFeatures = mlContext.Data.Cache(prefix.Transform(train));
            if (trainFeatures.Schema.GetColumnOrNull(options.FeatureColumnName) is null)
            {
                throw new ArgumentException(
                    $"FeatureColumnName '{options.FeatureColumnName}' is not a column of the data after PipelinePrefix; columns are: " +
                    $"{string.Join(", ", trainFeatures.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.", nameof(options));
            }

            IDataView heldOutFeatures = mlContext.Data.Cache(prefix.Transform(heldOut));
            folds[fold] = new FoldData(trainFeatures, heldOutFeatures, trainer.Read(mlContext, trainFeatures), trainer.Read(mlContext, heldOutFeatures));
        }

        return new TrialRunner(trainer, folds, options.Task, options.LabelColumnName, options.Seed);
    }

    /// <summary>
    /// Trains <paramref name="candidate"/> for <paramref name="epochs"/> epochs on <paramref name="fold"/>'s training rows and
    /// scores the held-out rows. Safe to call from several threads at once: each trial has its own context, and the result
    /// depends only on its arguments and the seed.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled during training.</exception>
    /// <exception cref="InvalidOperationException">The training diverged.</exception>
    public FoldScore Run(ComparisonCandidate candidate, int epochs, int fold, CancellationToken cancellationToken, Action<EpochReport>? onEpoch)
    {
        FoldData data = _folds[fold];
        var mlContext = new MLContext(_seed);
        // Grown as epochs end, not sized up front: a huge epoch count (e.g. int.MaxValue with early stopping) must not allocate.
        var trainingLoss = new List<double>();
        var validationLoss = new List<double>();
        ITransformer model = _trainer.Fit(mlContext, candidate, epochs, data.Train, data.TrainRows, data.HeldOutRows, report =>
        {
            trainingLoss.Add(report.TrainingLoss);
            validationLoss.Add(report.ValidationLoss ?? double.NaN);
            onEpoch?.Invoke(report);
        }, cancellationToken);
        return new FoldScore(Evaluate(mlContext, model.Transform(data.HeldOut)), trainingLoss, validationLoss);
    }

    private Dictionary<ComparisonMetric, double> Evaluate(MLContext mlContext, IDataView scored)
    {
        switch (_task)
        {
            case ComparisonTask.BinaryClassification:
                var binary = mlContext.BinaryClassification.Evaluate(scored, _labelColumnName);
                return new() { [ComparisonMetric.AreaUnderRocCurve] = binary.AreaUnderRocCurve, [ComparisonMetric.Accuracy] = binary.Accuracy,
                    [ComparisonMetric.LogLoss] = binary.LogLoss };
            case ComparisonTask.MulticlassClassification:
                var multiclass = mlContext.MulticlassClassification.Evaluate(scored, _labelColumnName);
                return new() { [ComparisonMetric.MacroAccuracy] = multiclass.MacroAccuracy, [ComparisonMetric.MicroAccuracy] = multiclass.MicroAccuracy,
                    [ComparisonMetric.LogLoss] = multiclass.LogLoss };
            default:
                var regression = mlContext.Regression.Evaluate(scored, _labelColumnName);
                return new() { [ComparisonMetric.RSquared] = regression.RSquared, [ComparisonMetric.RootMeanSquaredError] = regression.RootMeanSquaredError };
        }
    }

    /// <summary>One fold's featurized views (for the model's schema and ML.NET's evaluator) and the same rows read once.</summary>
    private sealed record FoldData(IDataView Train, IDataView HeldOut, TrainingData TrainRows, TrainingData HeldOutRows);
}
