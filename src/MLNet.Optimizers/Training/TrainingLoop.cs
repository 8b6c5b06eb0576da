using MLNet.Optimizers.Internal;
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
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
/// and Adam without coupled weight decay; AdamW), and no L2, L1 or clipping: each batch computes its gradient at the
/// touched coordinates only and takes a lazy sparse step, so a batch costs O(non-zeros) whatever the dimension. Rules whose
/// skipped steps still move coordinates (momentum drift, AdamW's decay) first bring the batch's coordinates up to date
/// (<see cref="GradientStepper.CatchUp"/>), since the forward pass reads them; every coordinate is brought up to date
/// (<see cref="GradientStepper.Flush"/>) at the end of every epoch, before validation. Plain SGD and Adagrad give the same
/// parameters as dense steps (batches of up to 1,024 rows), momentum the same up to rounding; Adam/AdamW moments follow
/// PyTorch's SparseAdam.</para>
/// <para><b>Validation and early stopping</b> use the optimizer's evaluation point (<see cref="FirstOrderOptimizer.WriteEvaluationPoint"/>;
/// schedule-free rules: x), never the training point. A validation set passed to <see cref="Train(TrainingData, TrainingData?, ReadOnlySpan{float})"/> takes precedence over
/// <see cref="TrainingOptions.ValidationFraction"/>.</para>
/// <para><b>Streaming.</b> <see cref="Train(ITrainingBatchSource, ITrainingBatchSource?, ReadOnlySpan{float})"/> reads the data
/// again on every pass instead of holding it: the same per-batch steps, one pass accumulating the full gradient for full batch
/// and for each L-BFGS evaluation, and a shuffle seed per epoch derived from <see cref="TrainingOptions.Seed"/> and the epoch.</para>
/// <para><b>Determinism.</b> The same data, options, seed and initial parameters give bit-identical parameters on one
/// machine: the objective reduces in a fixed order and the loop draws random numbers only from the seeded generator.</para>
/// <para>The trainer is reusable; one <see cref="Train(TrainingData, TrainingData?, ReadOnlySpan{float})"/> call at a time.</para>
/// </remarks>
public sealed class TrainingLoop
{
    private readonly LinearObjective _objective;
    private readonly TrainingOptions _options;
    private readonly GradientClipping? _clipping;

    /// <summary>Creates a trainer; the options are checked here and copied.</summary>
    /// <param name="objective">The data term (logistic, softmax, squared, …).</param>
    /// <param name="options">The settings; later changes to this object have no effect on the trainer.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public TrainingLoop(LinearObjective objective, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(options);
        _objective = objective;
        _options = options.Clone();
        Validate(_options);
        _clipping = _options.GradientClipNorm is double maxNorm ? GradientClipping.ByGlobalNorm(maxNorm) : null;
    }

    /// <summary>
    /// Whether sparse data may be trained with lazy sparse steps (see <see cref="ISparseStepOptimizer"/>); on by default,
    /// off in tests that compare the lazy path with the dense one.
    /// </summary>
    internal bool LazySparseSteps { get; init; } = true;

    /// <summary>The data term being minimised.</summary>
    public LinearObjective Objective => _objective;

    /// <summary>
    /// Trains on <paramref name="train"/>, optionally validating on <paramref name="validation"/> (or on a
    /// <see cref="TrainingOptions.ValidationFraction"/> split), starting from zero or from <paramref name="initialParameters"/>.
    /// </summary>
    /// <param name="train">The training data; at least one row with positive weight.</param>
    /// <param name="validation">Validation data with the same features, or null.</param>
    /// <param name="initialParameters">Warm start (the optimizer state still starts fresh); empty for all zeros.</param>
    /// <returns>The parameters, the per-epoch history and the early-stopping outcome.</returns>
    /// <exception cref="InvalidOperationException">The run diverged (a non-finite loss or parameter); the message names the epoch.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    public TrainingResult Train(TrainingData train, TrainingData? validation = null, ReadOnlySpan<float> initialParameters = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var layout = _objective.LayoutFor(train);
        if (validation is not null && validation.FeatureCount != train.FeatureCount)
        {
            throw new ArgumentException(
                $"validation has {validation.FeatureCount} features but train has {train.FeatureCount}; they must be equal.", nameof(validation));
        }

        var parameters = InitialParameters(layout, initialParameters);
        var random = new Random(_options.Seed);
        if (validation is null && _options.ValidationFraction is double fraction)
        {
            (train, validation) = Split(train, fraction, random);
        }

        EnsureUsable(train, nameof(train));
        if (validation is not null)
        {
            EnsureUsable(validation, nameof(validation));
        }

        return Train(layout, new CachedData(train, _options.Shuffle, random), validation is null ? null : new CachedData(validation, false, random),
            parameters);
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
    /// <exception cref="InvalidOperationException">The run diverged.</exception>
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

        if (validation is not null && validation.FeatureCount != train.FeatureCount)
        {
            throw new ArgumentException(
                $"validation has {validation.FeatureCount} features but train has {train.FeatureCount}; they must be equal.", nameof(validation));
        }

        var layout = new LinearModelLayout(_objective.OutputCount, train.FeatureCount);
        var parameters = InitialParameters(layout, initialParameters);
        return Train(layout, new StreamedData(train, _options.Shuffle, _options.Seed, nameof(train)),
            validation is null ? null : new StreamedData(validation, false, _options.Seed, nameof(validation)), parameters);
    }

    /// <summary>Rows per chunk when a pass over a streamed source sums the full-batch loss and gradient.</summary>
    public const int StreamingPassRows = 4 * LinearObjective.DefaultRowsPerBlock;

    private TrainingResult Train(LinearModelLayout layout, EpochData train, EpochData? validation, float[] parameters) =>
        _options.Optimizer switch
        {
            FirstOrderOptimizer firstOrder => TrainFirstOrder(firstOrder, layout, train, validation, parameters),
            _ => TrainLbfgs((Lbfgs)_options.Optimizer!, layout, train, validation, parameters),
        };

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

    private TrainingResult TrainFirstOrder(FirstOrderOptimizer optimizer, LinearModelLayout layout, EpochData train,
        EpochData? validation, float[] parameters)
    {
        var options = _options;
        bool lazy = train is CachedData cached && options.BatchSize > 0 && UsesLazySparseSteps(optimizer, cached.Data);
        var stepper = new GradientStepper(optimizer, layout.ParameterCount, options.LearningRateSchedule, _clipping, sparseSteps: lazy);
        var gradient = lazy ? [] : new float[layout.ParameterCount];
        var sparseGradient = lazy ? new SparseGradient(layout.ParameterCount) : null;
        bool catchUpBeforeReading = lazy && SparseSteps.MovesSkippedCoordinates((ISparseStepOptimizer)optimizer);
        var evaluation = new float[layout.ParameterCount];
        var monitor = new EarlyStoppingMonitor(options, keepBest: options.KeepBestModel && validation is not null, layout.ParameterCount);
        var history = new List<EpochReport>(options.NumberOfEpochs);
        double learningRate = stepper.CurrentLearningRate;
        double lossSum = 0, weightSum = 0;
        int epoch;

        // What every batch does once its loss (and gradient) is known: the divergence check, the epoch's loss sum, the step.
        void StepOnBatch(double loss, double batchWeight)
        {
            if (!double.IsFinite(loss))
            {
                throw Diverged(epoch, "the training loss", learningRate);
            }

            lossSum += loss * batchWeight;
            weightSum += batchWeight;
            if (sparseGradient is null)
            {
                AddL2Gradient(layout, parameters, gradient);
                learningRate = stepper.Step(parameters, gradient);
                ApplyL1Proximal(layout, parameters, learningRate);
            }
            else
            {
                learningRate = stepper.StepSparse(parameters, sparseGradient.Indices, sparseGradient.Values);
            }
        }

        for (epoch = 1; epoch <= options.NumberOfEpochs; epoch++)
        {
            long started = Stopwatch.GetTimestamp();
            lossSum = 0;
            weightSum = 0;
            if (options.BatchSize == 0)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                double loss = train.FullPass(_objective, parameters, gradient, withGradient: true, out double batchWeight);
                StepOnBatch(loss, batchWeight);
            }
            else
            {
                foreach (var (data, batchRows) in train.Batches(epoch, options.BatchSize))
                {
                    options.CancellationToken.ThrowIfCancellationRequested();
                    var rows = batchRows.AsSpan();
                    double batchWeight;
                    double loss;
                    if (sparseGradient is null)
                    {
                        loss = _objective.Evaluate(data, rows, parameters, gradient, withGradient: true, out batchWeight);
                    }
                    else if (catchUpBeforeReading)
                    {
                        // The forward pass reads exactly the coordinates the step will touch: bring their momentum drift or
                        // decay up to date first, as dense steps would have.
                        _objective.CollectTouched(data, rows, sparseGradient);
                        stepper.CatchUp(parameters, sparseGradient.Indices);
                        loss = _objective.EvaluateSparse(data, rows, parameters, sparseGradient, out batchWeight, touchedCollected: true);
                    }
                    else
                    {
                        loss = _objective.EvaluateSparse(data, rows, parameters, sparseGradient, out batchWeight);
                    }

                    StepOnBatch(loss, batchWeight);
                }
            }

            stepper.Flush(parameters);
            stepper.WriteEvaluationPoint(parameters, evaluation);
            if (!TensorPrimitives.IsFiniteAll(parameters) || !TensorPrimitives.IsFiniteAll(evaluation))
            {
                throw Diverged(epoch, "a parameter", learningRate);
            }

            double trainingLoss = weightSum > 0 ? lossSum / weightSum : 0;
            double? validationLoss = validation?.FullPass(_objective, evaluation, default, withGradient: false, out _);
            if (validationLoss is double v && !double.IsFinite(v))
            {
                throw Diverged(epoch, "the validation loss", learningRate);
            }

            bool stop = monitor.Observe(epoch, validationLoss ?? trainingLoss, evaluation);
            var report = new EpochReport(epoch, stepper.State.Step, trainingLoss, validationLoss, learningRate, Stopwatch.GetElapsedTime(started));
            history.Add(report);
            Report(report);
            if (stop && epoch < options.NumberOfEpochs)
            {
                return new TrainingResult(layout, monitor.BestParameters ?? evaluation, history, stoppedEarly: true, monitor.BestEpoch);
            }
        }

        return new TrainingResult(layout, monitor.BestParameters ?? evaluation, history, stoppedEarly: false, monitor.BestEpoch);
    }

    private TrainingResult TrainLbfgs(Lbfgs lbfgs, LinearModelLayout layout, EpochData train, EpochData? validation, float[] parameters)
    {
        var options = _options;
        var monitor = new EarlyStoppingMonitor(options, keepBest: options.KeepBestModel && validation is not null, layout.ParameterCount);
        var history = new List<EpochReport>(options.NumberOfEpochs);
        bool stoppedEarly = false;
        long epochStarted = Stopwatch.GetTimestamp();

        // Full-batch objective including the L2 penalty, so that L-BFGS minimises the whole J.
        double Objective(ReadOnlySpan<float> point, Span<float> gradient)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            double loss = train.FullPass(_objective, point, gradient, withGradient: true, out _);
            if (!double.IsFinite(loss))
            {
                throw Diverged(history.Count + 1, "the training loss", lbfgs.LearningRate);
            }

            AddL2Gradient(layout, point, gradient);
            return loss + L2Penalty(layout, point);
        }

        bool OnIteration(LbfgsIteration iteration)
        {
            int epoch = history.Count + 1;
            if (!TensorPrimitives.IsFiniteAll(parameters))
            {
                throw Diverged(epoch, "a parameter", iteration.StepSize);
            }

            // The data loss at the new iterate: L-BFGS reports the penalised loss there, except that without a line search the
            // last iteration is not re-evaluated (as in PyTorch), so that one is computed here.
            double trainingLoss = lbfgs.LineSearch == LineSearch.None && epoch == options.NumberOfEpochs
                ? train.FullPass(_objective, parameters, default, withGradient: false, out _)
                : iteration.Loss - L2Penalty(layout, parameters) - L1Penalty(layout, parameters);
            double? validationLoss = validation?.FullPass(_objective, parameters, default, withGradient: false, out _);
            if (validationLoss is double v && !double.IsFinite(v))
            {
                throw Diverged(epoch, "the validation loss", iteration.StepSize);
            }

            bool stop = monitor.Observe(epoch, validationLoss ?? trainingLoss, parameters);
            var report = new EpochReport(epoch, iteration.Iteration, trainingLoss, validationLoss, iteration.StepSize,
                Stopwatch.GetElapsedTime(epochStarted));
            history.Add(report);
            Report(report);
            epochStarted = Stopwatch.GetTimestamp();
            stoppedEarly = stop && epoch < options.NumberOfEpochs;
            return !stop;
        }

        // One epoch is one iteration, so the evaluation budget is left open: each iteration's line search is bounded anyway.
        // L1 goes to L-BFGS as a term of its own (OWL-QN), on the weights only.
        var l1 = new LbfgsL1Penalty(options.L1Regularization, 0, layout.WeightCount);
        var outcome = lbfgs.Minimize(parameters, Objective, options.NumberOfEpochs, maxEvaluations: int.MaxValue, OnIteration,
            options.CancellationToken, l1);
        return new TrainingResult(layout, monitor.BestParameters ?? parameters, history, stoppedEarly, monitor.BestEpoch, outcome.StopReason);
    }

    private double L2Penalty(LinearModelLayout layout, ReadOnlySpan<float> parameters)
    {
        if (_options.L2Regularization == 0)
        {
            return 0;
        }

        var weights = layout.Weights(parameters);
        return 0.5 * _options.L2Regularization * LbfgsMath.Dot(weights, weights);
    }

    private double L1Penalty(LinearModelLayout layout, ReadOnlySpan<float> parameters) =>
        _options.L1Regularization == 0 ? 0 : _options.L1Regularization * LbfgsMath.SumAbs(layout.Weights(parameters));

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

    /// <summary>
    /// True when each mini-batch can cost O(non-zeros) instead of O(parameters): sparse rows, an optimizer that takes lazy
    /// sparse steps, mini-batches, and nothing that needs the whole gradient or every weight each step (L2, L1, clipping).
    /// </summary>
    private bool UsesLazySparseSteps(FirstOrderOptimizer optimizer, TrainingData train) =>
        LazySparseSteps && train.IsSparse && _options.BatchSize > 0
        && optimizer is ISparseStepOptimizer { SupportsSparseSteps: true }
        && _options.L2Regularization == 0 && _options.L1Regularization == 0 && _clipping is null;

    private void AddL2Gradient(LinearModelLayout layout, ReadOnlySpan<float> parameters, Span<float> gradient)
    {
        if (_options.L2Regularization != 0)
        {
            var g = layout.Weights(gradient);
            TensorPrimitives.MultiplyAdd(layout.Weights(parameters), (float)_options.L2Regularization, g, g);
        }
    }

    private void ApplyL1Proximal(LinearModelLayout layout, Span<float> parameters, double learningRate)
    {
        if (_options.L1Regularization == 0)
        {
            return;
        }

        float threshold = (float)(learningRate * _options.L1Regularization);
        foreach (ref float w in layout.Weights(parameters))
        {
            float shrunk = MathF.Abs(w) - threshold;
            w = shrunk > 0 ? MathF.CopySign(shrunk, w) : 0f;
        }
    }

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

    private static InvalidOperationException Diverged(int epoch, string what, double learningRate) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged in epoch {epoch}: {what} became NaN or infinite. Use a smaller learning rate (the last was {learningRate:G6}), normalise the features (e.g. to mean 0 and variance 1), or clip gradients with GradientClipNorm."));

    private static (TrainingData Train, TrainingData Validation) Split(TrainingData data, double fraction, Random random)
    {
        int validationCount = (int)Math.Round(data.RowCount * fraction);
        if (validationCount < 1 || validationCount >= data.RowCount)
        {
            throw new ArgumentException(
                $"ValidationFraction = {fraction} of {data.RowCount} rows gives {validationCount} validation rows; both the training and the validation part need at least one row.",
                nameof(TrainingOptions.ValidationFraction));
        }

        var rows = (int[])data.AllRows.Clone();
        random.Shuffle(rows);
        // Each part keeps the original row order, so a full-batch sum runs in the same order as on unsplit data.
        Array.Sort(rows, 0, validationCount);
        Array.Sort(rows, validationCount, rows.Length - validationCount);
        return (data.Subset(rows.AsSpan(validationCount)), data.Subset(rows.AsSpan(0, validationCount)));
    }

    private static void Validate(TrainingOptions options)
    {
        if (options.Optimizer is not (FirstOrderOptimizer or Lbfgs))
        {
            throw new ArgumentException(
                $"Optimizer must be a first-order optimizer (Sgd, Adam, …) or Lbfgs; got {options.Optimizer?.ToString() ?? "null"}.",
                nameof(TrainingOptions.Optimizer));
        }

        Check.AtLeast(options.NumberOfEpochs, 1, nameof(TrainingOptions.NumberOfEpochs));
        Check.AtLeast(options.BatchSize, 0, nameof(TrainingOptions.BatchSize));
        Check.NonNegative(options.L2Regularization, nameof(TrainingOptions.L2Regularization));
        Check.NonNegative(options.L1Regularization, nameof(TrainingOptions.L1Regularization));
        Check.NonNegative(options.EarlyStoppingTolerance, nameof(TrainingOptions.EarlyStoppingTolerance));
        if (options.GradientClipNorm is double clip)
        {
            Check.Positive(clip, nameof(TrainingOptions.GradientClipNorm));
        }

        if (options.ValidationFraction is double fraction && !(fraction > 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TrainingOptions.ValidationFraction), fraction,
                $"ValidationFraction must be in (0, 1); got {fraction}.");
        }

        if (options.EarlyStoppingPatience is int patience)
        {
            Check.AtLeast(patience, 1, nameof(TrainingOptions.EarlyStoppingPatience));
        }
    }

    /// <summary>Where the epochs read their rows: data held in memory, or a source read again on every pass.</summary>
    private abstract class EpochData
    {
        /// <summary>One epoch's mini-batches: the data holding each batch and the batch's row indices into it.</summary>
        public abstract IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize);

        /// <summary>The weighted mean loss over every row and, when <paramref name="withGradient"/>, its gradient; Σwᵢ in
        /// <paramref name="totalWeight"/>.</summary>
        public abstract double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
            out double totalWeight);
    }

    /// <summary>In-memory data; mini-batches are slices of one row permutation, reshuffled each epoch with the run's generator.</summary>
    private sealed class CachedData(TrainingData data, bool shuffle, Random random) : EpochData
    {
        private readonly int[] _order = (int[])data.AllRows.Clone();

        public TrainingData Data => data;

        public override IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize)
        {
            int rowCount = _order.Length;
            batchSize = Math.Min(batchSize, rowCount);
            if (shuffle && batchSize < rowCount)
            {
                random.Shuffle(_order);
            }

            for (int start = 0; start < rowCount; start += batchSize)
            {
                yield return (data, new ArraySegment<int>(_order, start, Math.Min(batchSize, rowCount - start)));
            }
        }

        public override double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
            out double totalWeight) =>
            objective.Evaluate(data, data.AllRows, point, gradient, withGradient, out totalWeight);
    }

    /// <summary>A source read again on every pass; each epoch's shuffle seed is derived from the run's seed and the epoch.</summary>
    private sealed class StreamedData(ITrainingBatchSource source, bool shuffle, int seed, string name) : EpochData
    {
        public override IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize)
        {
            // A fixed mix (not HashCode, which is randomised per process) so that runs are reproducible across processes.
            int? shuffleSeed = shuffle ? unchecked((seed * -1640531535) + epoch) : null;
            double totalWeight = 0;
            foreach (var batch in source.ReadBatches(batchSize, shuffleSeed))
            {
                EnsureFeatureCount(batch);
                totalWeight += batch.TotalWeight;
                yield return (batch, new ArraySegment<int>(batch.AllRows));
            }

            EnsurePositiveWeight(totalWeight);
        }

        public override double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
            out double totalWeight)
        {
            // Σ over chunks of (chunk mean × chunk weight), in double, divided by the total weight at the end.
            double lossSum = 0, weightSum = 0;
            double[] gradientSum = withGradient ? new double[gradient.Length] : [];
            float[] chunkGradient = withGradient ? new float[gradient.Length] : [];
            foreach (var chunk in source.ReadBatches(StreamingPassRows, shuffleSeed: null))
            {
                EnsureFeatureCount(chunk);
                double loss = objective.Evaluate(chunk, chunk.AllRows, point, chunkGradient, withGradient, out double weight);
                lossSum += loss * weight;
                weightSum += weight;
                for (int i = 0; i < gradientSum.Length; i++)
                {
                    gradientSum[i] += chunkGradient[i] * weight;
                }
            }

            EnsurePositiveWeight(weightSum);
            for (int i = 0; i < gradientSum.Length; i++)
            {
                gradient[i] = (float)(gradientSum[i] / weightSum);
            }

            totalWeight = weightSum;
            return lossSum / weightSum;
        }

        private void EnsureFeatureCount(TrainingData batch)
        {
            if (batch.FeatureCount != source.FeatureCount)
            {
                throw new InvalidOperationException(
                    $"The {name} source declares {source.FeatureCount} features but yielded a batch with {batch.FeatureCount}.");
            }
        }

        private void EnsurePositiveWeight(double totalWeight)
        {
            if (!(totalWeight > 0))
            {
                throw new ArgumentException(
                    $"{name} yielded rows whose weights sum to {totalWeight}; at least one row with a positive weight is needed.", name);
            }
        }
    }

    /// <summary>Tracks the best monitored loss, the epochs since it improved by more than the tolerance, and optionally the best parameters.</summary>
    private sealed class EarlyStoppingMonitor(TrainingOptions options, bool keepBest, int parameterCount)
    {
        private double _best = double.PositiveInfinity;
        private int _epochsWithoutImprovement;

        public float[]? BestParameters { get; } = keepBest ? new float[parameterCount] : null;

        public int BestEpoch { get; private set; }

        /// <summary>Records an epoch; returns true when patience has run out.</summary>
        public bool Observe(int epoch, double monitored, ReadOnlySpan<float> evaluationPoint)
        {
            if (monitored < _best - options.EarlyStoppingTolerance)
            {
                _best = monitored;
                BestEpoch = epoch;
                _epochsWithoutImprovement = 0;
                if (BestParameters is not null)
                {
                    evaluationPoint.CopyTo(BestParameters);
                }
            }
            else
            {
                _epochsWithoutImprovement++;
            }

            return options.EarlyStoppingPatience is int patience && _epochsWithoutImprovement >= patience;
        }
    }
}
