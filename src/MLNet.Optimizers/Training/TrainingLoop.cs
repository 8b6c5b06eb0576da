using System.Globalization;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// Trains a linear model by minimising <c>objective + (L2/2)·‖W‖² + L1·‖W‖₁</c> (biases not penalised) with the configured
/// optimizer, epoch by epoch.
/// </summary>
/// <remarks>
/// <para><b>First-order optimizers</b>, per epoch: shuffle the row order (Fisher–Yates with <c>System.Random(Seed)</c>, one
/// generator for the run) when <see cref="TrainingOptions.Shuffle"/> and mini-batching; then for each mini-batch: gradient of
/// the weighted mean loss at the current point, plus L2·W; then one <see cref="GradientStepper"/> step (clip to
/// <see cref="TrainingOptions.GradientClipNorm"/> as <see cref="ClipByGlobalNorm"/>, learning rate from the schedule at the
/// step count, the optimizer's step); then the L1 proximal step
/// <c>w ← sign(w)·max(|w| − lr·L1, 0)</c> on the weights, which makes weights exactly zero. With adaptive rules (Adam, …)
/// the threshold uses the scalar learning rate, not the per-coordinate step (the usual approximation, not an exact proximal
/// Adam); with schedule-free rules it acts on the training point y.</para>
/// <para><b>L-BFGS</b> minimises the full-batch <c>objective + (L2/2)·‖W‖²</c> through its objective callback, plus
/// <c>L1·‖W‖₁</c> as an <see cref="LbfgsL1Penalty"/> on the weights (OWL-QN, exact zeros); one epoch is
/// one L-BFGS iteration (reported through its iteration callback), and it may stop before
/// <see cref="TrainingOptions.NumberOfEpochs"/> when it converges. BatchSize, Shuffle, the learning-rate schedule and
/// gradient clipping do not apply and are ignored. There is no separate budget of objective evaluations (PyTorch's
/// <c>max_eval</c>, default 1.25·max_iter), so that NumberOfEpochs iterations can run; each line search is bounded anyway.
/// The reported training loss is the data loss, without either penalty.</para>
/// <para><b>Sparse data</b> with mini-batches, an <see cref="ISparseStepOptimizer"/> that supports lazy steps (Sgd, Adagrad
/// and Adam without coupled weight decay; AdamW), and no clipping, with or without L2/L1 (the penalty of skipped steps is
/// caught up in closed form: exact for plain SGD up to float rounding, a documented approximation for the other rules; see
/// <see cref="LazyWeightPenalty"/>): each batch computes its gradient at the
/// touched coordinates only and takes a lazy sparse step, so a batch costs O(non-zeros) whatever the dimension. Rules whose
/// skipped steps still move coordinates (momentum drift, AdamW's decay) first bring the batch's coordinates up to date
/// (<see cref="GradientStepper.CatchUp"/>), since the forward pass reads them; every coordinate is brought up to date
/// (<see cref="GradientStepper.Flush"/>) at the end of every epoch, before validation. Plain SGD and Adagrad give the same
/// parameters as dense steps (batches of up to 1,024 rows), momentum the same up to rounding; Adam/AdamW moments follow
/// PyTorch's SparseAdam. With more than one rank (<see cref="TrainingOptions.Communicator"/>) the steps are dense, the same
/// model up to rounding: each step's gradient is summed over every rank's batch by an Allreduce of every parameter.</para>
/// <para><b>Validation and early stopping</b> use the optimizer's evaluation point (<see cref="FirstOrderOptimizer.WriteEvaluationPoint"/>;
/// schedule-free rules: x), never the training point. A validation set passed to <see cref="Train(TrainingData, TrainingData?, ReadOnlySpan{float})"/> takes precedence over
/// <see cref="TrainingOptions.ValidationFraction"/>.</para>
/// <para><b>Streaming.</b> <see cref="Train(ITrainingBatchSource, ITrainingBatchSource?, ReadOnlySpan{float})"/> reads the data
/// again on every pass instead of holding it: the same per-batch steps, one pass accumulating the full gradient for full batch
/// and for each L-BFGS evaluation, and a shuffle seed per epoch derived from <see cref="TrainingOptions.Seed"/> and the epoch.</para>
/// <para><b>Determinism.</b> The same data, options, seed and initial parameters give bit-identical parameters on one
/// machine: the objective reduces in a fixed order and the loop draws random numbers only from the seeded generator.</para>
/// <para><b>Checkpoints.</b> With <see cref="TrainingOptions.CheckpointDirectory"/>, the parameters, the optimizer state,
/// the early-stopping state and the history are written atomically every <see cref="TrainingOptions.CheckpointEveryEpochs"/>
/// epochs and at the end, and a run with the same data and options resumes from the newest valid checkpoint to the result
/// of an uninterrupted run, bit for bit (in-memory shuffles are replayed from the seed; see docs/reliability.md).</para>
/// <para>The loop is reusable; one <see cref="Train(TrainingData, TrainingData?, ReadOnlySpan{float})"/> call at a time.</para>
/// </remarks>
public sealed class TrainingLoop
{
    /// <summary>The seed when <see cref="TrainingOptions.Seed"/> is null.</summary>
    private const int DefaultSeed = 0;

    private readonly LinearObjective _objective;
    private readonly TrainingOptions _options;
    private readonly int _seed;

    /// <summary>Creates a loop; the options are copied and checked here (<see cref="TrainingOptions.Validate"/>).</summary>
    /// <param name="objective">The data term (logistic, softmax, squared, …).</param>
    /// <param name="options">The settings; later changes to this object have no effect on the loop.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public TrainingLoop(LinearObjective objective, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(options);
        _objective = objective;
        _options = options.Clone();
        _options.Validate();
        _seed = _options.Seed ?? DefaultSeed;
    }

    /// <summary>
    /// Whether sparse data may be trained with lazy sparse steps (see <see cref="ISparseStepOptimizer"/>); on by default,
    /// off in tests that compare the lazy path with the dense one.
    /// </summary>
    internal bool LazySparseSteps { get; init; } = true;

    /// <summary>The data term being minimised.</summary>
    public LinearObjective Objective => _objective;

    /// <summary>Rows per chunk when a pass over a streamed source sums the full-batch loss and gradient.</summary>
    public const int StreamingPassRows = 4 * LinearObjective.DefaultRowsPerBlock;

    /// <summary>
    /// Trains on <paramref name="train"/>, optionally validating on <paramref name="validation"/> (or on a
    /// <see cref="TrainingOptions.ValidationFraction"/> split), starting from zero or from <paramref name="initialParameters"/>.
    /// </summary>
    /// <param name="train">The training data; at least one row with positive weight.</param>
    /// <param name="validation">Validation data with the same features, or null.</param>
    /// <param name="initialParameters">Warm start (the optimizer state still starts fresh); empty for all zeros.</param>
    /// <returns>The parameters, the per-epoch history and the early-stopping outcome.</returns>
    /// <exception cref="InvalidOperationException">The run diverged (a non-finite loss, parameter or optimizer state, or a loss far
    /// past its start; the message names the epoch), or the model failed the final check (float
    /// scores beyond range, or a loss worse than the all-zero model's).</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    public TrainingResult Train(TrainingData train, TrainingData? validation = null, ReadOnlySpan<float> initialParameters = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var layout = _objective.LayoutFor(train);
        EnsureSameFeatureCount(train.FeatureCount, validation?.FeatureCount);
        var parameters = InitialParameters(layout, initialParameters);
        bool lazySparseSteps = UsesLazySparseSteps(train);
        CancellationToken cancellation = _options.CancellationToken;
        var checkpoints = OpenCheckpoints(layout, "cached in memory", () => DataFingerprint.Of(train, cancellation),
            validation is null ? null : () => DataFingerprint.Of(validation, cancellation), parameters, lazySparseSteps);
        var random = new Random(RankSeed(checkpoints?.Seed ?? _seed));
        if (validation is null && _options.ValidationFraction is double fraction)
        {
            (train, validation) = CachedData.SplitOffValidation(train, fraction, random);
        }

        AgreeAcrossRanks(layout, () => train.TotalWeight > 0, validation is null ? null : () => validation.TotalWeight > 0);
        EnsureUsable(train, nameof(train));
        if (validation is not null)
        {
            EnsureUsable(validation, nameof(validation));
        }

        var cachedTrain = new CachedData(train, _options.Shuffle, random);
        return Train(layout, cachedTrain, validation is null ? null : new CachedData(validation, false, random), parameters,
            lazySparseSteps, checkpoints);
    }

    /// <summary>
    /// Trains without holding the data in memory: every epoch reads <paramref name="train"/> again in batches of
    /// <see cref="TrainingOptions.BatchSize"/> rows (with <see cref="TrainingOptions.Shuffle"/>, the source is asked to shuffle
    /// with a seed derived from <see cref="TrainingOptions.Seed"/> and the epoch number), so memory is bounded by one batch.
    /// </summary>
    /// <remarks>
    /// <para>Mini-batches take exactly the steps of <see cref="Train(TrainingData, TrainingData?, ReadOnlySpan{float})"/> (same
    /// gradient, schedule, clipping, L2 and L1 code): given the same batches in the same order the parameters are bit-identical.
    /// Lazy sparse steps are not used (the loop cannot know in advance whether the rows are sparse).</para>
    /// <para>Full batch (<see cref="TrainingOptions.BatchSize"/> = 0), L-BFGS objective evaluations and the validation loss each
    /// take one pass over the source in chunks of <see cref="StreamingPassRows"/> rows, accumulating the weighted loss and
    /// gradient in double; that sum is ordered by chunk, so it may differ from the in-memory full batch in the last bits. A
    /// first-order rule with full batch takes one step per pass; L-BFGS reads the source once per objective evaluation (at least
    /// once per iteration, more during line searches).</para>
    /// </remarks>
    /// <param name="train">The training rows, read again on every pass; at least one row with positive weight.</param>
    /// <param name="validation">Validation rows with the same features, read once per epoch for the validation loss; or null.</param>
    /// <param name="initialParameters">Warm start; empty for all zeros.</param>
    /// <returns>The parameters, the per-epoch history and the early-stopping outcome.</returns>
    /// <exception cref="ArgumentException"><see cref="TrainingOptions.ValidationFraction"/> is set (a split needs the data in
    /// memory), the feature counts differ, or the data are unusable.</exception>
    /// <exception cref="InvalidOperationException">The run diverged, or the model failed the final check (as for in-memory data;
    /// the loss check uses the recorded epoch losses).</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    public TrainingResult Train(ITrainingBatchSource train, ITrainingBatchSource? validation = null, ReadOnlySpan<float> initialParameters = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (_options.ValidationFraction is double fraction)
        {
            throw new ArgumentException(
                $"ValidationFraction = {fraction} needs the data in memory to split it; it cannot be used when streaming the data. " +
                "Pass a separate validation source, or train from in-memory data (with ML.NET trainers: CacheData = true).",
                nameof(TrainingOptions.ValidationFraction));
        }

        EnsureSameFeatureCount(train.FeatureCount, validation?.FeatureCount);
        var layout = new LinearModelLayout(_objective.OutputCount, train.FeatureCount);
        var parameters = InitialParameters(layout, initialParameters);
        AgreeAcrossRanks(layout, () => HasRows(train), validation is null ? null : () => HasRows(validation));
        CancellationToken cancellation = _options.CancellationToken;
        var checkpoints = OpenCheckpoints(layout, "streamed", () => DataFingerprint.Of(train, cancellation),
            validation is null ? null : () => DataFingerprint.Of(validation, cancellation), parameters, lazySparseSteps: false);
        int seed = RankSeed(checkpoints?.Seed ?? _seed);
        return Train(layout, new StreamedData(train, _options.Shuffle, seed, nameof(train), _objective),
            validation is null ? null : new StreamedData(validation, false, seed, nameof(validation)), parameters, lazySparseSteps: false,
            checkpoints);
    }

    private TrainingResult Train(LinearModelLayout layout, EpochData train, EpochData? validation, float[] parameters, bool lazySparseSteps,
        CheckpointStore? checkpoints)
    {
        TrainingOptions options = _options;
        if (options.Communicator.Size > 1)
        {
            // Every full pass (and, in FirstOrderEpoch, every mini-batch) is reduced across the ranks. Cancellation travels
            // with the reductions, so that every rank stops at the same point; only rank 0 logs. Steps are dense: the summed
            // gradient touches the union of every rank's batch rows, and its Allreduce carries every parameter anyway, so a lazy
            // step (which needs that union on every rank) would save only the local update, not the O(parameters) exchange.
            var reduction = new GradientAllreduce(options.Communicator, layout.ParameterCount, options.CancellationToken);
            train = new ShardedData(train, reduction);
            validation = validation is null ? null : new ShardedData(validation, reduction);
            options = options.Clone();
            options.CancellationToken = CancellationToken.None;
            options.Log = options.Communicator.Rank == 0 ? options.Log : null;
            lazySparseSteps = false;
        }

        // A warm start may begin worse than the all-zero model; the final check then also accepts a model no worse than its start.
        bool warmStart = parameters.AsSpan().ContainsAnyExcept(0f);
        return options.Optimizer switch
        {
            FirstOrderOptimizer firstOrder => TrainFirstOrder(firstOrder, layout, train, validation, parameters, lazySparseSteps, warmStart,
                options, checkpoints),
            _ => new LbfgsRun((Lbfgs)options.Optimizer, _objective, layout, train, validation, options, parameters, warmStart, checkpoints)
                .Run(),
        };
    }

    /// <summary>
    /// The seed of this rank's shuffling and validation split: <see cref="TrainingOptions.Seed"/> on rank 0 (so that one rank
    /// shuffles exactly as one process), mixed with the rank on the others so that their shards are not shuffled alike.
    /// </summary>
    private int RankSeed(int seed) => unchecked(seed ^ (_options.Communicator.Rank * -1640531535));

    /// <summary>
    /// The checkpoint store when <see cref="TrainingOptions.CheckpointDirectory"/> is set (null otherwise), with the checkpoint
    /// to resume from, if any. The run's identity covers everything that steers its trajectory: the data (fingerprinted, one
    /// pass), the model's shape, the objective, the starting point and every shared option; the seed is compared apart, since
    /// a drawn seed is taken from the checkpoint instead.
    /// </summary>
    private CheckpointStore? OpenCheckpoints(LinearModelLayout layout, string dataAccess, Func<string> trainFingerprint,
        Func<string>? validationFingerprint, float[] initialParameters, bool lazySparseSteps)
    {
        if (_options.CheckpointDirectory is null)
        {
            return null;
        }

        KeyValuePair<string, string>[] identity =
        [
            new("the objective", _objective.GetType().Name),
            new("the number of features", layout.FeatureCount.ToString(CultureInfo.InvariantCulture)),
            new("the number of outputs (classes)", layout.OutputCount.ToString(CultureInfo.InvariantCulture)),
            new("the data access", dataAccess),
            new("the training data", trainFingerprint()),
            new("the validation data", validationFingerprint?.Invoke() ?? "none"),
            new("the initial parameters", $"CRC-64 {Crc64.HashToUInt64(MemoryMarshal.AsBytes(initialParameters.AsSpan())):X16}"),
            new("lazy sparse steps", lazySparseSteps ? "yes" : "no"),
            .. _options.SharedSettings(_seed)
                .Where(fact => fact.Name != nameof(TrainingOptions.Seed))
                .Select(fact => new KeyValuePair<string, string>(fact.Name, fact.Text ?? fact.Value.ToString("R", CultureInfo.InvariantCulture))),
        ];
        return CheckpointStore.Open(_options, identity, _seed);
    }

    /// <summary>
    /// Before the first step of a data-parallel run, one exchange between the ranks: each must have rows, and all must agree on
    /// the model's shape, on having validation data and on every shared option. Every rank throws the same error, so none is
    /// left waiting for another. Nothing happens (nothing is read) with one rank.
    /// </summary>
    private void AgreeAcrossRanks(LinearModelLayout layout, Func<bool> trainHasRows, Func<bool>? validationHasRows)
    {
        ICommunicator communicator = _options.Communicator;
        if (communicator.Size == 1)
        {
            return;
        }

        RankAgreement.EnsureEveryRankHasRows(communicator, trainHasRows(), "train");
        RankAgreement.EnsureSame(communicator,
        [
            new("the number of features", layout.FeatureCount),
            new("the number of outputs (classes)", layout.OutputCount),
            new("validation data", validationHasRows is null ? 0 : 1),
            .. _options.SharedSettings(_seed),
        ], "Every rank must train the same model with the same options on a shard of the same data (set Seed explicitly).");
        if (validationHasRows is not null)
        {
            RankAgreement.EnsureEveryRankHasRows(communicator, validationHasRows(), "validation");
        }
    }

    /// <summary>Whether a source yields at least one row, reading no further than its first one.</summary>
    private static bool HasRows(ITrainingBatchSource source) => source.ReadBatches(1, shuffleSeed: null).Any(batch => batch.RowCount > 0);

    /// <summary>Epoch after epoch: the steps, then validation, early stopping and the report at the evaluation point.</summary>
    private TrainingResult TrainFirstOrder(FirstOrderOptimizer optimizer, LinearModelLayout layout, EpochData train,
        EpochData? validation, float[] parameters, bool lazySparseSteps, bool warmStart, TrainingOptions options,
        CheckpointStore? checkpoints)
    {
        double? startLoss = warmStart && train.InMemory
            ? train.FullPass(_objective, parameters, default, withGradient: false, 1, options.CancellationToken, out _)
            : null;
        var epochSteps = new FirstOrderEpoch(_objective, optimizer, layout, options, lazySparseSteps);
        var recorder = new EpochRecorder(_objective, validation, options, layout.ParameterCount);
        var evaluationPoint = new float[layout.ParameterCount];
        bool finished = false;
        if (checkpoints?.Resumed is { } saved)
        {
            saved.Parameters.CopyTo(parameters, 0);
            epochSteps.Restore(saved.OptimizerState, saved.StartLoss, parameters, evaluationPoint);
            recorder.Restore(saved);
            train.SkipEpochs(saved.CompletedEpochs, options.BatchSize);
            finished = saved.Finished;
        }

        for (int epoch = recorder.CompletedEpochs + 1; !finished && epoch <= options.NumberOfEpochs; epoch++)
        {
            double trainingLoss = epochSteps.Run(epoch, train, parameters, evaluationPoint);
            Divergence.EnsureBounded(epoch, epochSteps.StartLoss, trainingLoss, epochSteps.LearningRate);
            finished = recorder.EndEpoch(epoch, epochSteps.Steps, trainingLoss, evaluationPoint, epochSteps.LearningRate)
                || epoch == options.NumberOfEpochs;
            if (checkpoints is not null && (finished || checkpoints.IsDue(epoch)))
            {
                checkpoints.Write(epoch, finished, stopReason: null, epochSteps.StartLoss, parameters, epochSteps.SaveState, recorder);
            }
        }

        var result = recorder.Result(layout, evaluationPoint);

        // An epoch's loss is the mean over its batches, each taken before its step. Data in memory are evaluated once more at the
        // returned parameters (and, for a warm start, at the start), reading nothing; streamed data are not read again for it:
        // the returned epoch's and the first epoch's recorded losses stand in (comparable means over the same batches).
        double? finalLoss = train.InMemory
            ? train.FullPass(_objective, result.Parameters, default, withGradient: false, recorder.CompletedEpochs, options.CancellationToken, out _)
            : recorder.ReturnedTrainingLoss;
        startLoss ??= warmStart ? recorder.FirstEpochTrainingLoss : null;
        FinalModelCheck.Ensure(_objective, layout, train, result.Parameters, finalLoss, startLoss, recorder.CompletedEpochs, options.Communicator);
        return result;
    }

    /// <summary>
    /// True when each mini-batch can cost O(non-zeros) instead of O(parameters): sparse rows, an optimizer that takes lazy
    /// sparse steps, mini-batches and no clipping (it needs the whole gradient). L2 and L1 are caught up by
    /// <see cref="LazyWeightPenalty"/> (exact for plain SGD, approximate for the other rules).
    /// </summary>
    private bool UsesLazySparseSteps(TrainingData train) =>
        LazySparseSteps && train.IsSparse && _options.BatchSize > 0
        && _options.Optimizer is ISparseStepOptimizer { SupportsSparseSteps: true }
        && _options.GradientClipNorm is null;

    private static void EnsureSameFeatureCount(int trainFeatures, int? validationFeatures)
    {
        if (validationFeatures is int features && features != trainFeatures)
        {
            throw new ArgumentException(
                $"validation has {features} features but train has {trainFeatures}; they must be equal.", "validation");
        }
    }

    private static float[] InitialParameters(LinearModelLayout layout, ReadOnlySpan<float> initialParameters)
    {
        var parameters = new float[layout.ParameterCount];
        if (!initialParameters.IsEmpty)
        {
            layout.EnsureLength(initialParameters, nameof(initialParameters));
            if (!TensorPrimitives.IsFiniteAll(initialParameters))
            {
                throw new ArgumentException("initialParameters contains a NaN or infinite value.", nameof(initialParameters));
            }

            initialParameters.CopyTo(parameters);
        }

        return parameters;
    }

    /// <summary>Rejects data before any epoch runs: labels the objective cannot take, or no positive weight.</summary>
    private void EnsureUsable(TrainingData data, string name)
    {
        _objective.EnsureValidLabels(data);
        if (!(data.TotalWeight > 0))
        {
            throw new ArgumentException(
                $"{name} has {data.RowCount} rows whose weights sum to {data.TotalWeight}; at least one row with a positive weight is needed.", name);
        }
    }
}
