using Microsoft.ML;
using MLNet.Optimizers.Trainers;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Comparison;

/// <summary>Builds and fits the task's trainer for one candidate: the only place the comparison touches the trainers.</summary>
internal sealed class CandidateTrainer(ComparisonTask task, string labelColumnName, string featureColumnName, int seed, int? defaultBatchSize)
{
    /// <summary>
    /// Every setting the search trains <paramref name="candidate"/> with for <paramref name="epochs"/> epochs: a fresh object,
    /// so the caller may change it. Training through the public trainers with it gives the same model as the search.
    /// </summary>
    public LinearTrainerOptions Options(ComparisonCandidate candidate, int epochs)
    {
        LinearTrainerOptions options = task switch
        {
            ComparisonTask.BinaryClassification => new LogisticRegressionTrainer.Options(),
            ComparisonTask.MulticlassClassification => new SoftmaxRegressionTrainer.Options(),
            _ => new LinearRegressionTrainer.Options(),
        };
        options.LabelColumnName = labelColumnName;
        options.FeatureColumnName = featureColumnName;
        options.Optimizer = candidate.Optimizer;
        options.NumberOfEpochs = epochs;
        options.Seed = seed;
        if ((candidate.BatchSize ?? defaultBatchSize) is int batchSize)
        {
            options.BatchSize = batchSize;
        }

        if (candidate.L2Regularization is double l2)
        {
            options.L2Regularization = l2;
        }

        return options;
    }

    /// <summary>Trains <paramref name="candidate"/> for <paramref name="epochs"/> epochs; reports the held-out loss when validation is given.</summary>
    /// <remarks>
    /// KeepBestModel is off: the held-out fold only measures the run, it never picks the returned epoch, which would leak the
    /// fold into the model and flatter its metrics.
    /// </remarks>
    public ITransformer Fit(MLContext mlContext, ComparisonCandidate candidate, int epochs, IDataView train, IDataView? validation,
        Action<EpochReport>? onEpochEnd, CancellationToken cancellationToken)
    {
        LinearTrainerOptions options = Options(candidate, epochs);
        options.KeepBestModel = false;
        options.OnEpochEnd = onEpochEnd;
        options.CancellationToken = cancellationToken;
        return options switch
        {
            LogisticRegressionTrainer.Options binary => FitWith(new LogisticRegressionTrainer(mlContext, binary), train, validation),
            SoftmaxRegressionTrainer.Options multiclass => FitWith(new SoftmaxRegressionTrainer(mlContext, multiclass), train, validation),
            LinearRegressionTrainer.Options regression => FitWith(new LinearRegressionTrainer(mlContext, regression), train, validation),
            _ => throw new InvalidOperationException($"No trainer for task {task}."),
        };
    }

    /// <summary>The public trainer for options made by <see cref="Options"/>.</summary>
    public static IEstimator<ITransformer> Create(MLContext mlContext, LinearTrainerOptions options) => options switch
    {
        LogisticRegressionTrainer.Options binary => mlContext.BinaryClassification.Trainers.LogisticRegression(binary),
        SoftmaxRegressionTrainer.Options multiclass => mlContext.MulticlassClassification.Trainers.SoftmaxRegression(multiclass),
        LinearRegressionTrainer.Options regression => mlContext.Regression.Trainers.LinearRegression(regression),
        _ => throw new ArgumentException($"Options of type {options.GetType().Name} belong to no trainer of this library.", nameof(options)),
    };

    private static ITransformer FitWith<TTransformer, TModel>(LinearTrainerBase<TTransformer, TModel> trainer, IDataView train, IDataView? validation)
        where TTransformer : class, IPredictionTransformer<TModel>
        where TModel : class =>
        validation is null ? trainer.Fit(train) : trainer.Fit(train, validation);
}
