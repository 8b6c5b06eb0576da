using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// What the three linear trainers share: option checks, reading the data once, running the ML.NET-free training loop, and the
/// schema and <see cref="TrainerInfo"/> borrowed from the equivalent ML.NET trainer. Not meant to be derived from outside this library.
/// </summary>
/// <typeparam name="TTransformer">The ML.NET prediction transformer returned by <c>Fit</c>.</typeparam>
/// <typeparam name="TModel">The ML.NET model parameters inside it.</typeparam>
public abstract class LinearTrainerBase<TTransformer, TModel> : ITrainerEstimator<TTransformer, TModel>
    where TTransformer : class, IPredictionTransformer<TModel>
    where TModel : class
{
    // Only ever asked for schemas and TrainerInfo: public APIs that give exact output columns with ML.NET's annotations.
    private static readonly MLContext SchemaOracleContext = new(seed: 0);

    private readonly IHostEnvironment _environment;
    private readonly LinearTrainerOptions _options;
    private readonly ITrainerEstimator<IPredictionTransformer<object>, object> _schemaOracle;

    /// <summary>The seed every Fit uses when <see cref="TrainingOptions.Seed"/> is null: drawn from the context once, here.</summary>
    private readonly int _contextSeed;

    private protected LinearTrainerBase(IHostEnvironment environment, LinearTrainerOptions options, string name)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        _environment = environment;
        _options = (LinearTrainerOptions)options.Clone(); // later changes to the caller's object must not bypass the checks
        _options.Validate(); // every option is checked at construction, as ML.NET trainers do
        Name = name;

        // Drawn at construction, as ML.NET's trainers register their host: drawing per Fit made concurrent fits of one trainer
        // race for the context's generator, so which fit got which seed depended on thread timing.
        _contextSeed = environment.Register(name).Rand.Next();
        _schemaOracle = CreateSchemaOracle(SchemaOracleContext, _options);
        Info = _schemaOracle.Info;
    }

    /// <summary>The trainer's name in log messages.</summary>
    public string Name { get; }

    /// <summary>As ML.NET's equivalent trainer: normalization is needed (gradient methods are scale-sensitive), caching is wanted
    /// (the data is read once anyway, or every epoch when streaming), no calibration step.</summary>
    public TrainerInfo Info { get; }

    /// <summary>The output columns (exactly those of ML.NET's equivalent trainer, with their annotations); also checks that the
    /// label, feature and weight columns exist with the right types.</summary>
    /// <param name="inputSchema">The schema of the data given to <c>Fit</c>.</param>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _schemaOracle.GetOutputSchema(inputSchema);

    /// <summary>Trains on <paramref name="input"/> and returns ML.NET's own prediction transformer.</summary>
    /// <param name="input">The training data.</param>
    public TTransformer Fit(IDataView input) => FitCore(input, null, null);

    /// <summary>Trains on <paramref name="trainData"/>, validating on <paramref name="validationData"/> after every epoch (for
    /// <see cref="TrainingOptions.EarlyStoppingPatience"/> and <see cref="TrainingOptions.KeepBestModel"/>).</summary>
    /// <param name="trainData">The training data.</param>
    /// <param name="validationData">The validation data, with the same columns.</param>
    public TTransformer Fit(IDataView trainData, IDataView validationData)
    {
        ArgumentNullException.ThrowIfNull(validationData);
        return FitCore(trainData, validationData, null);
    }

    /// <summary>
    /// Reads <paramref name="data"/> into memory as <c>Fit</c> does (same column and value checks, same row order), for callers
    /// that train many times on the same rows (cross-validation, hyperparameter searches) and would otherwise read them on every
    /// <c>Fit</c>.
    /// </summary>
    /// <param name="data">The data, with this trainer's label, feature and optional example-weight columns.</param>
    /// <returns>The rows; train on them with <see cref="CreateTrainingLoop"/>.</returns>
    /// <exception cref="ArgumentException">A column is missing or has the wrong type, or a value is invalid; the message names it.</exception>
    public TrainingData ReadTrainingData(IDataView data) => Reader(data, "training").ReadAll();

    /// <summary>
    /// The training loop <c>Fit</c> runs on <paramref name="data"/>: its <see cref="TrainingLoop.Train(TrainingData, TrainingData?, ReadOnlySpan{float})"/>
    /// on rows read by <see cref="ReadTrainingData"/> gives exactly the parameters that <c>Fit</c> wraps in its model (flat layout
    /// W[k·D + j], then the K biases).
    /// </summary>
    /// <param name="data">The training data; only its schema is read (it fixes the feature and class counts).</param>
    /// <exception cref="ArgumentException">A column is missing or has the wrong type.</exception>
    public TrainingLoop CreateTrainingLoop(IDataView data)
    {
        TrainingDataReader reader = Reader(data, "training");
        var options = (LinearTrainerOptions)_options.Clone();
        options.Seed = _options.Seed ?? _environment.Register(Name).Rand.Next();
        options.SeedDrawn = _options.Seed is null;
        return new TrainingLoop(CreateObjective(reader.ClassCount), options);
    }

    /// <summary>
    /// The model <c>Fit</c> returns, from the result of the loop made by <see cref="CreateTrainingLoop"/> trained on
    /// <paramref name="trainData"/> (read by <see cref="ReadTrainingData"/>).
    /// </summary>
    /// <param name="trainData">The training data the loop trained on; its schema and label names go into the model.</param>
    /// <param name="result">The loop's result.</param>
    /// <exception cref="ArgumentException">A column is missing or has the wrong type.</exception>
    public TTransformer CreateModel(IDataView trainData, TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        TrainingDataReader reader = Reader(trainData, "training");
        return CreateTransformer(_environment, result.Layout, result.Parameters, reader.LabelNames, trainData.Schema);
    }

    private protected string FeatureColumnName => _options.FeatureColumnName;

    private protected string LabelColumnName => _options.LabelColumnName;

    private protected abstract LabelKind LabelKind { get; }

    private protected abstract LinearObjective CreateObjective(int classCount);

    /// <summary>The equivalent ML.NET trainer on the same columns; its output schema and <see cref="TrainerInfo"/> become this trainer's.</summary>
    private protected abstract ITrainerEstimator<IPredictionTransformer<object>, object> CreateSchemaOracle(MLContext context, LinearTrainerOptions options);

    private protected abstract TTransformer CreateTransformer(IHostEnvironment environment, LinearModelLayout layout, float[] parameters,
        string[]? labelNames, DataViewSchema trainSchema);

    /// <summary>Reads, trains and wraps. A <paramref name="warmStart"/> uses the flat layout W[k·D + j], then the K biases.</summary>
    private protected TTransformer FitCore(IDataView trainData, IDataView? validationData, WarmStart? warmStart)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var training = Reader(trainData, "training");
        TrainingDataReader? validation = validationData is null ? null : Reader(validationData, "validation");
        if (validation is not null && (validation.FeatureCount != training.FeatureCount || validation.ClassCount != training.ClassCount))
        {
            throw new ArgumentException(
                $"The validation data has {validation.FeatureCount} features and {validation.ClassCount} label values; " +
                $"the training data has {training.FeatureCount} and {training.ClassCount}. They must match.", nameof(validationData));
        }

        // The ranks must agree on the classes (a label mapping fitted per shard gives other counts or names) before they sum
        // their class weights below.
        LinearObjective objective = CreateObjective(training.ClassCount);
        RankAgreement.EnsureSame(_options.Communicator,
            [RankAgreement.Fact.Of("the label names", training.LabelNames is { } names ? string.Join(", ", names) : null),
             new("the number of outputs (classes)", objective.OutputCount)],
            "Fit the label's key mapping (MapValueToKey) on the same data on every rank, not on each shard.");
        var layout = new LinearModelLayout(objective.OutputCount, training.FeatureCount);
        if (warmStart is { } start && (start.OutputCount != layout.OutputCount || start.FeatureCount != layout.FeatureCount))
        {
            throw new ArgumentException(
                $"The warm-start model has {start.OutputCount} output(s) over {start.FeatureCount} features; the training data needs " +
                $"{layout.OutputCount} over {layout.FeatureCount}.", "modelParameters");
        }

        int seed = _options.Seed ?? _contextSeed;
        using IChannel channel = _environment.Start(Name);
        var loop = new TrainingLoop(objective, RunOptions(seed, channel));
        var initialParameters = warmStart is { } w ? w.Parameters : default;
        TrainingResult result;
        if (_options.CacheData)
        {
            // A shard that cannot be read (no rows, a bad value) fails on its rank alone: tell the others before they wait for it.
            TrainingData cached = RankAgreement.Collectively(_options.Communicator, training.ReadAll, "read their training data");
            TrainingData? cachedValidation = validation is null
                ? null
                : RankAgreement.Collectively(_options.Communicator, validation.ReadAll, "read their validation data");
            EnsureClassesAcrossRanks(training, training.ClassWeights);
            LogStart(channel, $"{cached.RowCount} rows", layout);
            result = loop.Train(cached, cachedValidation, initialParameters);
        }
        else
        {
            if (_options.Communicator.Size > 1)
            {
                EnsureClassesAcrossRanks(training, RankAgreement.Collectively(_options.Communicator, training.ReadClassWeights, "read their training data"));
            }

            LogStart(channel, "streamed (not cached)", layout);
            result = loop.Train(training, validation, initialParameters);
        }

        if (result.StopReason == LbfgsStopReason.MaxIterations && _options.Communicator.Rank == 0)
        {
            channel.Warning(MessageSensitivity.None,
                $"{Name}: L-BFGS ran all NumberOfEpochs = {_options.NumberOfEpochs} iterations without meeting its tolerances; the model may not " +
                "have converged. Increase NumberOfEpochs.");
        }

        return CreateTransformer(_environment, result.Layout, result.Parameters, training.LabelNames, trainData.Schema);
    }

    private TrainingDataReader Reader(IDataView data, string role) =>
        new(data, LabelKind, _options.LabelColumnName, _options.FeatureColumnName, _options.ExampleWeightColumnName, role,
            _options.CancellationToken)
        {
            ChecksClassesPerPass = _options.Communicator.Size == 1,
        };

    /// <summary>
    /// With several ranks: the classes need weight in the union of the shards, not in each (a shard may hold one class), so the
    /// ranks sum their class weights and every rank throws the same error when a class is missing from all of them.
    /// </summary>
    private void EnsureClassesAcrossRanks(TrainingDataReader training, double[] classWeights)
    {
        ICommunicator communicator = _options.Communicator;
        if (communicator.Size > 1 && classWeights.Length > 0)
        {
            double[] total = [.. classWeights];
            communicator.AllreduceSum(total);
            training.EnsureClassesWeighted(total, $" (the shards of all {communicator.Size} ranks together)");
        }
    }

    /// <summary>The options of one run: the seed resolved, and every progress line to the channel as well as to Log.</summary>
    private LinearTrainerOptions RunOptions(int seed, IChannel channel)
    {
        var options = (LinearTrainerOptions)_options.Clone();
        options.Seed = seed;
        options.SeedDrawn = _options.Seed is null; // a resumed Fit takes the seed its checkpoint recorded
        options.Log = line =>
        {
            channel.Info(MessageSensitivity.None, line);
            _options.Log?.Invoke(line);
        };
        return options;
    }

    private void LogStart(IChannel channel, string rows, LinearModelLayout layout)
    {
        ICommunicator communicator = _options.Communicator;
        if (communicator.Rank == 0)
        {
            string ranks = communicator.Size > 1 ? $" on rank 0 of {communicator.Size}" : "";
            channel.Info(MessageSensitivity.None,
                $"{Name}: {rows}{ranks}, {layout.ParameterCount} parameters, " +
                $"{(_options.BatchSize == 0 ? "full batch" : $"batch {_options.BatchSize}")}, {_options.Optimizer}");
        }
    }

    /// <summary>Warm start from a single-output ML.NET linear model (binary or regression): its weights, then its bias.</summary>
    private protected TTransformer FitFromLinearModel(IDataView trainData, LinearModelParameters modelParameters)
    {
        ArgumentNullException.ThrowIfNull(modelParameters);
        float[] parameters = [.. modelParameters.Weights, modelParameters.Bias];
        return FitCore(trainData, null, new WarmStart(1, modelParameters.Weights.Count, parameters));
    }

    /// <summary>Parameters taken from an existing ML.NET model, in the flat layout.</summary>
    private protected readonly record struct WarmStart(int OutputCount, int FeatureCount, float[] Parameters);

    /// <summary>The weights of output k as one row of length D, and the K biases, split from the flat parameter vector.</summary>
    private protected static (float[][] WeightRows, float[] Biases) Split(LinearModelLayout layout, float[] parameters)
    {
        int d = layout.FeatureCount, k = layout.OutputCount;
        var rows = new float[k][];
        for (int output = 0; output < k; output++)
        {
            rows[output] = parameters.AsSpan(output * d, d).ToArray();
        }

        return (rows, parameters.AsSpan(k * d, k).ToArray());
    }
}
