using MLNet.Optimizers.Internal;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// An AutoML-style comparison of optimizers on one data set: k-fold cross-validation (stratified for classification) of
/// many candidate configurations, pruned by successive halving within a time budget, scored with ML.NET's evaluators; the
/// winner is refitted on all the data as an ML.NET model.
/// </summary>
/// <remarks>
/// <para><b>Successive halving.</b> Epochs are the resource. Every candidate trains for the first rung's epochs on every
/// fold; the best 1/η (by the primary metric's mean over folds) go on to the next rung, which trains them <b>from scratch</b>
/// for η times more epochs, until the last rung reaches <see cref="OptimizerComparisonOptions.MaximumNumberOfEpochs"/>.
/// Retraining from scratch (rather than continuing) keeps every reported number a plain function of (candidate, epochs, fold,
/// seed), with the optimizer's moments and the loop's shuffling exactly those of a run of that length; since the runs are
/// seeded, a longer run repeats the shorter one's first epochs, so the extra cost is only the repeated epochs.</para>
/// <para><b>Budget.</b> No training run starts once 90% of <see cref="OptimizerComparisonOptions.TimeBudget"/> is spent (the
/// rest is for the final refit), and a run still going when all of it is spent is cancelled. A candidate whose rung was cut
/// keeps its last complete rung's result and is marked <see cref="CandidateStatus.BudgetExhausted"/>. A run that hits the
/// budget is not reproducible; one that does not is: same data, options and seed give the same leaderboard.</para>
/// <para><b>No leaks.</b> Folds are assigned by row index before anything is fitted; the pipeline prefix is fitted on each
/// fold's training rows only; the held-out fold is passed to the trainer as validation data only to record its loss per
/// epoch (KeepBestModel is off, so it never chooses the returned weights). Label conversions (numeric to Boolean for binary,
/// values to keys for multiclass) are fitted on all rows: they only name the classes.</para>
/// </remarks>
public sealed class OptimizerComparison
{
    private const string PredictedLabelColumnName = "PredictedLabel";

    private readonly MLContext _mlContext;

    /// <summary>Creates a comparison that trains, evaluates and logs through <paramref name="mlContext"/>.</summary>
    /// <param name="mlContext">The context; its <c>Log</c> event receives one line per rung and candidate.</param>
    public OptimizerComparison(MLContext mlContext) => _mlContext = mlContext ?? throw new ArgumentNullException(nameof(mlContext));

    /// <summary>
    /// Every optimizer strategy at its default hyperparameters: Sgd, Sgd with momentum 0.9, Sgd with Nesterov momentum 0.9,
    /// Adagrad, RmsProp, Adam, AdamW, Adamax, NAdam, RAdam, Adadelta, ScheduleFreeAdamW, ScheduleFreeSgd and Lbfgs.
    /// </summary>
    public static IReadOnlyList<ComparisonCandidate> DefaultStrategies() =>
    [
        new(new Sgd()),
        new(new Sgd(momentum: 0.9), "Sgd+momentum"),
        new(new Sgd(momentum: 0.9, nesterov: true), "Sgd+Nesterov"),
        new(new Adagrad()),
        new(new RmsProp()),
        new(new Adam()),
        new(new AdamW()),
        new(new Adamax()),
        new(new NAdam()),
        new(new RAdam()),
        new(new Adadelta()),
        new(new ScheduleFreeAdamW()),
        new(new ScheduleFreeSgd()),
        new(new Lbfgs()),
    ];

    /// <summary>The default candidates: <see cref="DefaultStrategies"/>, each over a learning-rate grid around its default.</summary>
    /// <param name="learningRateMultipliers">The grid factors; null means {0.1, 0.3, 1, 3, 10}.</param>
    public static IReadOnlyList<ComparisonCandidate> DefaultCandidates(IReadOnlyList<double>? learningRateMultipliers = null) =>
        ComparisonCandidate.WithLearningRateGrid(DefaultStrategies(),
            learningRateMultipliers ?? OptimizerComparisonOptions.DefaultLearningRateMultipliers);

    /// <summary>Runs the comparison.</summary>
    /// <param name="options">The data, task, candidates and budget.</param>
    /// <param name="progress">Receives a report at the start and end of every epoch of every training run, one at a time, from the thread doing the work.</param>
    /// <param name="cancellationToken">
    /// Cancels the run: the result then holds what completed (candidates cut short are <see cref="CandidateStatus.Cancelled"/>),
    /// with <see cref="ComparisonResult.Cancelled"/> set and no best model; <see cref="OperationCanceledException"/> is thrown
    /// only when no candidate had completed its first rung.
    /// </param>
    /// <returns>The leaderboard, the convergence curves and the refitted best model.</returns>
    /// <exception cref="ArgumentException">An option, column or label type is invalid; the message names it.</exception>
    /// <exception cref="TimeoutException">The budget ran out before any candidate completed its first rung.</exception>
    /// <exception cref="InvalidOperationException">Every candidate diverged or failed.</exception>
    /// <exception cref="IOException">Reading the data failed; the innermost exception is the cause.</exception>
    public ComparisonResult Run(OptimizerComparisonOptions options, IProgress<ComparisonProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        (IDataView data, ComparisonMetric primary, IReadOnlyList<ComparisonCandidate> candidates) = Validate(options);
        using var budget = new SearchBudget(options.TimeBudget, options.TimeProvider ?? TimeProvider.System, cancellationToken);
        IHost host = ((IHostEnvironment)_mlContext).Register(nameof(OptimizerComparison));
        using IChannel log = host.Start("Run");

        // Read the data once: every fold, trial and the refit read this in-memory copy.
        IDataView cached = _mlContext.Data.Cache(data, [.. data.Schema.Where(c => !c.IsHidden).Select(c => c.Name)]);
        ReadOnce(cached);
        var labels = LabelPreparation.Prepare(_mlContext, cached, options.Task, options.LabelColumnName);
        int[] foldOfRow = StratifiedFolds.Assign(labels.Strata, labels.RowCount, options.NumberOfFolds, options.Seed);
        var trainer = new CandidateTrainer(options.Task, options.LabelColumnName, options.FeatureColumnName, options.Seed,
            options.BatchSize);
        var runner = TrialRunner.Prepare(_mlContext, trainer, labels.Data, foldOfRow, options);
        var schedule = new SuccessiveHalvingSchedule(candidates.Count, options.MaximumNumberOfEpochs, options.ReductionFactor);
        if (labels.BlankLabelRows > 0)
        {
            Info(log, $"{SuccessiveHalvingSearch.Plural(labels.BlankLabelRows, "row")} with a blank label left out.");
        }

        Info(log, $"{candidates.Count} candidates, {options.NumberOfFolds} folds of {labels.RowCount} rows, rungs of " +
            $"{string.Join("/", schedule.RungEpochs)} epochs (eta = {options.ReductionFactor}), budget {options.TimeBudget.TotalSeconds:0.#} s, " +
            $"ranked by {ComparisonMetrics.ShortName(primary)}.");

        var states = candidates.Select((candidate, index) => new CandidateState(candidate, index)).ToList();
        var search = new SuccessiveHalvingSearch(schedule, runner, budget, primary,
            options.MaxDegreeOfParallelism ?? Environment.ProcessorCount,
            new TrialExchange(options.Communicator, ComparisonMetrics.For(options.Task)), progress, log);
        TimeSpan searchStart = budget.Elapsed;
        search.Run(states);
        TimeSpan? budgetToComplete = search.StoppedInRung is null || search.EpochsTrained == 0 ? null
            : EstimateBudget(searchStart, budget.Elapsed - searchStart, search.EpochsTrained, schedule.PlannedEpochs() * options.NumberOfFolds);

        List<LeaderboardRow> leaderboard = [.. states.OrderBy(s => s, ResultRanking.ByBest(primary))
            .Select((state, rank) => state.ToRow(rank + 1, primary, trainer, schedule.RungEpochs[0]))];
        LeaderboardRow best = leaderboard[0];
        if (best.BestRung < 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw budget.Exhausted
                ? new TimeoutException($"The time budget of {options.TimeBudget.TotalSeconds:0.#} s ran out before any candidate finished its first " +
                  $"rung ({schedule.RungEpochs[0]} epochs on {options.NumberOfFolds} folds); give more time or fewer candidates.")
                : new InvalidOperationException($"Every candidate diverged or failed; the first reported: {states.First(s => s.Note is not null).Note}");
        }

        ITransformer? bestModel = null;
        bool refits = !search.Cancelled && options.Communicator.Rank == 0;
        if (refits)
        {
            Info(log, $"Best: {best.Label} ({ComparisonMetrics.ShortName(primary)} {best.PrimaryMetricMean:F4} after {best.EpochsTrained} epochs); " +
                $"refitting on all {labels.RowCount} rows.");
            bestModel = Refit(best.TrainerOptions, labels, options, cancellationToken);
        }

        return new ComparisonResult
        {
            DataSetName = options.DataSetName,
            Task = options.Task,
            PrimaryMetric = primary,
            Leaderboard = leaderboard,
            Curves = states.Select(state => state.ToCurve()).ToList(),
            BestModel = bestModel,
            InputSchema = data.Schema,
            RowCount = labels.RowCount,
            BlankLabelRows = labels.BlankLabelRows,
            PositiveClass = labels.PositiveClass,
            RungEpochs = schedule.RungEpochs,
            NumberOfFolds = options.NumberOfFolds,
            Seed = options.Seed,
            TimeBudget = options.TimeBudget,
            Elapsed = budget.Elapsed,
            BudgetExhausted = budget.Exhausted,
            StoppedInRung = search.StoppedInRung,
            EstimatedBudgetToComplete = budget.Exhausted ? budgetToComplete : null,
            Cancelled = search.Cancelled || (refits && bestModel is null),
        };
    }

    /// <summary>
    /// Fills the in-memory copy with one pass over it, so that a fault of the data (an I/O error of its cursor, also when
    /// ML.NET's cache wraps it) stops the run here, with its cause, rather than surfacing later as a candidate's failure.
    /// </summary>
    /// <remarks>No row is named: the cache reads ahead on its own thread, so the rows this cursor saw say nothing about where it failed.</remarks>
    private static void ReadOnce(IDataView cached)
    {
        try
        {
            using var cursor = cached.GetRowCursor(cached.Schema.Where(c => !c.IsHidden));
            while (cursor.MoveNext())
            {
            }
        }
        catch (Exception e) when ((e as IOException ?? e.InnerException as IOException) is { } fault) // the cache wraps it once
        {
            throw new IOException(
                "Reading the data failed (the comparison reads it once, into memory, before any candidate is trained, so no " +
                $"candidate was run): {fault.GetType().Name}: {fault.Message}", e);
        }
    }

    /// <summary>
    /// The budget that would let the whole schedule run: the preparation so far plus the search at the pace measured
    /// (time per epoch trained), over the search's share of the budget, rounded up to 10 s.
    /// </summary>
    private static TimeSpan EstimateBudget(TimeSpan preparation, TimeSpan searched, long epochsTrained, long epochsPlanned)
    {
        double seconds = (preparation.TotalSeconds + searched.TotalSeconds / epochsTrained * epochsPlanned) / SearchBudget.SearchShare;
        return TimeSpan.FromSeconds(10 * Math.Ceiling(seconds / 10));
    }

    /// <summary>Checks the options; returns the data, the primary metric and the candidates.</summary>
    private static (IDataView Data, ComparisonMetric Primary, IReadOnlyList<ComparisonCandidate> Candidates) Validate(OptimizerComparisonOptions options)
    {
        IDataView data = options.Data
            ?? throw new ArgumentNullException(nameof(options), "OptimizerComparisonOptions.Data must be set to the data to compare on.");
        Check.AtLeast(options.NumberOfFolds, 2, nameof(options.NumberOfFolds));
        Check.AtLeast(options.MaximumNumberOfEpochs, 1, nameof(options.MaximumNumberOfEpochs));
        Check.AtLeast(options.ReductionFactor, 2, nameof(options.ReductionFactor));
        if (options.Communicator is null)
        {
            throw new ArgumentNullException(nameof(options),
                "OptimizerComparisonOptions.Communicator must be an ICommunicator (SingleProcessCommunicator.Instance for one process); got null.");
        }

        if (options.MaxDegreeOfParallelism is int parallelism)
        {
            Check.AtLeast(parallelism, 1, nameof(options.MaxDegreeOfParallelism));
        }
        if (options.BatchSize is int batch)
        {
            Check.AtLeast(batch, 0, nameof(options.BatchSize));
        }

        if (options.TimeBudget <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options.TimeBudget), $"TimeBudget must be > 0; got {options.TimeBudget}.");
        }

        IReadOnlyList<ComparisonCandidate> candidates = options.Candidates ?? DefaultCandidates(options.LearningRateMultipliers);
        if (candidates.Count == 0 || candidates.Any(c => c is null))
        {
            throw new ArgumentException("Candidates must be null (the defaults) or a non-empty list without null entries.", nameof(options));
        }

        IReadOnlyList<ComparisonMetric> allowed = ComparisonMetrics.For(options.Task);
        ComparisonMetric primary = options.PrimaryMetric ?? allowed[0];
        if (!allowed.Contains(primary))
        {
            throw new ArgumentOutOfRangeException(nameof(options.PrimaryMetric),
                $"PrimaryMetric {primary} does not apply to {options.Task}; use one of: {string.Join(", ", allowed)}.");
        }

        return (data, primary, candidates);
    }

    /// <summary>The pipeline prefix and the winner's trainer with exactly its options, fitted on all rows; null when cancelled.</summary>
    private ITransformer? Refit(LinearTrainerOptions trainerOptions, LabelPreparation labels, OptimizerComparisonOptions options,
        CancellationToken cancellationToken)
    {
        ITransformer prefix = options.PipelinePrefix?.Fit(labels.Data) ?? new TransformerChain<ITransformer>();
        IDataView features = _mlContext.Data.Cache(prefix.Transform(labels.Data));
        trainerOptions.CancellationToken = cancellationToken;
        ITransformer predictor;
        try
        {
            predictor = CandidateTrainer.Create(_mlContext, trainerOptions).Fit(features);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var chain = new TransformerChain<ITransformer>(prefix, predictor);
        if (labels.MappedToKeys)
        {
            // The label was mapped to keys here, so the caller expects predictions in its own label values.
            ITransformer toValues = _mlContext.Transforms.Conversion.MapKeyToValue(PredictedLabelColumnName)
                .Fit(predictor.Transform(features));
            chain = chain.Append(toValues);
        }

        return chain;
    }

    private static void Info(IChannel log, string message) => log.Info(MessageSensitivity.None, message);
}
