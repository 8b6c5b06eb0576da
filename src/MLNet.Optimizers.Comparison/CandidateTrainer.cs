using Microsoft.ML;
using MLNet.Optimizers.Objectives;
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
        if (candidate.Optimizer is Lbfgs)
        {
            options.BatchSize = 0; // L-BFGS always takes the full batch: the settings and the recipe say so
        }
        else if ((candidate.BatchSize ?? defaultBatchSize) is int batchSize)
        {
            options.BatchSize = batchSize;
        }

        if (candidate.L2Regularization is double l2)
        {
            options.L2Regularization = l2;
        }

        return options;
    }

    /// <summary>Reads <paramref name="data"/> into memory as the task's trainer does at the start of every <c>Fit</c>.</summary>
    public TrainingData Read(MLContext mlContext, IDataView data) => Dispatch(mlContext, Options(DefaultStrategy, 1),
        new ReadRows(data)).Rows!;

    /// <summary>
    /// Trains <paramref name="candidate"/> for <paramref name="epochs"/> epochs on rows read by <see cref="Read"/> from
    /// <paramref name="trainView"/>, reporting the held-out loss per epoch: the model that the trainer's <c>Fit(train, validation)</c>
    /// returns, bit for bit, without reading the views again.
    /// </summary>
    /// <remarks>
    /// KeepBestModel is off: the held-out fold only measures the run, it never picks the returned epoch, which would leak the
    /// fold into the model and flatter its metrics.
    /// </remarks>
    public ITransformer Fit(MLContext mlContext, ComparisonCandidate candidate, int epochs, IDataView trainView, TrainingData train,
        TrainingData validation, Action<EpochReport>? onEpochEnd, CancellationToken cancellationToken)
    {
        LinearTrainerOptions options = Options(candidate, epochs);
        options.KeepBestModel = false;
        options.OnEpochEnd = onEpochEnd;
        options.CancellationToken = cancellationToken;
        return Dispatch(mlContext, options, new TrainOnRows(trainView, train, validation)).Model!;
    }

    /// <summary>The public trainer for options made by <see cref="Options"/>.</summary>
    public static IEstimator<ITransformer> Create(MLContext mlContext, LinearTrainerOptions options) => options switch
    {
        LogisticRegressionTrainer.Options binary => mlContext.BinaryClassification.Trainers.LogisticRegression(binary),
        SoftmaxRegressionTrainer.Options multiclass => mlContext.MulticlassClassification.Trainers.SoftmaxRegression(multiclass),
        LinearRegressionTrainer.Options regression => mlContext.Regression.Trainers.LinearRegression(regression),
        _ => throw new ArgumentException($"Options of type {options.GetType().Name} belong to no trainer of this library.", nameof(options)),
    };

    /// <summary>Any optimizer will do for reading: the rows read do not depend on it.</summary>
    private static ComparisonCandidate DefaultStrategy { get; } = new(new Adam());

    private Outcome Dispatch(MLContext mlContext, LinearTrainerOptions options, Work work) => options switch
    {
        LogisticRegressionTrainer.Options binary => work.On(new LogisticRegressionTrainer(mlContext, binary)),
        SoftmaxRegressionTrainer.Options multiclass => work.On(new SoftmaxRegressionTrainer(mlContext, multiclass)),
        LinearRegressionTrainer.Options regression => work.On(new LinearRegressionTrainer(mlContext, regression)),
        _ => throw new InvalidOperationException($"No trainer for task {task}."),
    };

    private readonly record struct Outcome(TrainingData? Rows, ITransformer? Model);

    /// <summary>What to do with the task's trainer, whatever its generic types.</summary>
    private abstract class Work
    {
        public abstract Outcome On<TTransformer, TModel>(LinearTrainerBase<TTransformer, TModel> trainer)
            where TTransformer : class, IPredictionTransformer<TModel>
            where TModel : class;
    }

    private sealed class ReadRows(IDataView data) : Work
    {
        public override Outcome On<TTransformer, TModel>(LinearTrainerBase<TTransformer, TModel> trainer) =>
            new(trainer.ReadTrainingData(data), null);
    }

    private sealed class TrainOnRows(IDataView trainView, TrainingData train, TrainingData validation) : Work
    {
        public override Outcome On<TTransformer, TModel>(LinearTrainerBase<TTransformer, TModel> trainer) =>
            new(null, trainer.CreateModel(trainView, trainer.CreateTrainingLoop(trainView).Train(train, validation)));
    }
}
