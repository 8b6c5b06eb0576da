using MLNet.Optimizers.Internal;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.Optimizers.Training;

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
    private const double SearchShareOfBudget = 0.9;
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
    /// <param name="progress">Receives a report at the start and end of every epoch, synchronously on the calling thread.</param>
    /// <param name="cancellationToken">Cancels the run (then <see cref="OperationCanceledException"/> is thrown).</param>
    /// <returns>The leaderboard, the convergence curves and the refitted best model.</returns>
    /// <exception cref="ArgumentException">An option, column or label type is invalid; the message names it.</exception>
    /// <exception cref="InvalidOperationException">No candidate completed its first rung (every one diverged, or the budget was too small).</exception>
    public ComparisonResult Run(OptimizerComparisonOptions options, IProgress<ComparisonProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        IDataView data = options.Data
            ?? throw new ArgumentNullException(nameof(options), "OptimizerComparisonOptions.Data must be set to the data to compare on.");
        ComparisonMetric primary = ValidatedPrimaryMetric(options);
        Check.AtLeast(options.NumberOfFolds, 2, nameof(options.NumberOfFolds));
        Check.AtLeast(options.MaximumNumberOfEpochs, 1, nameof(options.MaximumNumberOfEpochs));
        Check.AtLeast(options.ReductionFactor, 2, nameof(options.ReductionFactor));
        if (options.BatchSize is int batch)
        {
            Check.AtLeast(batch, 0, nameof(options.BatchSize));
        }

        if (options.TimeBudget <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options.TimeBudget), options.TimeBudget, "TimeBudget must be > 0.");
        }

        IReadOnlyList<ComparisonCandidate> candidates = options.Candidates ?? DefaultCandidates(options.LearningRateMultipliers);
        if (candidates.Count == 0 || candidates.Any(c => c is null))
        {
            throw new ArgumentException("Candidates must be null (the defaults) or a non-empty list without null entries.", nameof(options));
        }

        IHost host = ((IHostEnvironment)_mlContext).Register(nameof(OptimizerComparison));
        using IChannel log = host.Start("Run");

        var labels = LabelPreparation.Prepare(_mlContext, data, options.Task, options.LabelColumnName);
        int[] foldOfRow = StratifiedFolds.Assign(labels.Strata, labels.RowCount, options.NumberOfFolds, options.Seed);
        var folds = PrepareFolds(labels.Data, foldOfRow, options);

        int[] rungEpochs = SuccessiveHalving.RungEpochs(candidates.Count, options.MaximumNumberOfEpochs, options.ReductionFactor);
        int plannedTrials = PlannedTrials(candidates.Count, rungEpochs.Length, options.ReductionFactor) * options.NumberOfFolds;
        Info(log, $"{candidates.Count} candidates, {options.NumberOfFolds} folds of {labels.RowCount} rows, rungs of " +
            $"{string.Join("/", rungEpochs)} epochs (eta = {options.ReductionFactor}), budget {options.TimeBudget.TotalSeconds:0.#} s, " +
            $"ranked by {ComparisonMetrics.ShortName(primary)}.");

        var trainer = new CandidateTrainer(_mlContext, options.Task, options.LabelColumnName, options.FeatureColumnName, options.Seed,
            options.BatchSize);
        var states = candidates.Select((candidate, index) => new CandidateState(candidate, index)).ToList();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        TimeSpan budgetLeft = options.TimeBudget - clock.Elapsed;
        budget.CancelAfter(budgetLeft > TimeSpan.Zero ? budgetLeft : TimeSpan.Zero);
        TimeSpan searchDeadline = options.TimeBudget * SearchShareOfBudget;

        List<CandidateState> alive = states;
        bool budgetExhausted = false;
        int trial = 0;
        for (int rung = 0; rung < rungEpochs.Length && !budgetExhausted; rung++)
        {
            int epochs = rungEpochs[rung];
            Info(log, $"Rung {rung + 1}/{rungEpochs.Length}: {alive.Count} candidates x {epochs} epochs.");
            var completed = new List<CandidateState>();
            foreach (CandidateState state in alive)
            {
                var run = new RungRun(options.NumberOfFolds);
                for (int fold = 0; fold < options.NumberOfFolds && !state.Dropped; fold++)
                {
                    if (clock.Elapsed >= searchDeadline || budget.IsCancellationRequested)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        budgetExhausted = true;
                        break;
                    }

                    trial++;
                    var where = new ComparisonProgress(rung, rungEpochs.Length, epochs, trial, plannedTrials, state.Candidate.Label, fold, 0,
                        clock.Elapsed, options.TimeBudget);
                    progress?.Report(where);
                    var fitClock = Stopwatch.StartNew();
                    try
                    {
                        run.Add(fold, TrainAndScore(trainer, state.Candidate, epochs, folds[fold], options, budget.Token, report =>
                            progress?.Report(where with { Epoch = report.Epoch, Elapsed = clock.Elapsed })));
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        budgetExhausted = true;
                    }
                    catch (IOException fault)
                    {
                        // A fault of the data, not of the candidate (the trainers wrap every cursor I/O fault in IOException, with the
                        // row): every candidate would meet it, so the run stops with it instead of counting the candidate as diverged.
                        throw new IOException(
                            $"Candidate {state.Candidate.Label}, rung {rung + 1}, fold {fold + 1}: reading the data failed: {fault.Message}", fault);
                    }
                    catch (InvalidOperationException diverged)
                    {
                        state.Drop(CandidateStatus.Diverged, diverged.Message);
                        Info(log, $"{state.Candidate.Label}: diverged at rung {rung + 1}, fold {fold + 1}: {diverged.Message}");
                    }
                    catch (Exception refused) when (refused is NotSupportedException or ArgumentException)
                    {
                        // One candidate's unsupported setting must not end the comparison of the others.
                        state.Drop(CandidateStatus.Failed, refused.Message);
                        Info(log, $"{state.Candidate.Label}: failed at rung {rung + 1}, fold {fold + 1}: {refused.Message}");
                    }
                    finally
                    {
                        state.FitTime += fitClock.Elapsed;
                    }

                    if (budgetExhausted)
                    {
                        break;
                    }
                }

                if (run.IsComplete)
                {
                    state.Complete(rung, epochs, run.Folds);
                    completed.Add(state);
                    Info(log, $"{state.Candidate.Label}: {ComparisonMetrics.ShortName(primary)} = {state.PrimaryMean(primary):F4} after {epochs} epochs.");
                }
                else if (budgetExhausted)
                {
                    break;
                }
            }

            if (budgetExhausted)
            {
                Info(log, $"Time budget spent during rung {rung + 1}; candidates that did not finish it keep their last complete result.");
                foreach (CandidateState state in alive.Where(s => !s.Dropped))
                {
                    state.Status = state.RungReached < 0 ? CandidateStatus.NotEvaluated
                        : state.RungReached == rungEpochs.Length - 1 ? CandidateStatus.Finished
                        : CandidateStatus.BudgetExhausted;
                }

                break;
            }

            List<CandidateState> ranked = [.. completed.OrderBy(s => s, new StateRanking(primary))];
            bool lastRung = rung == rungEpochs.Length - 1;
            int keep = lastRung ? ranked.Count : Math.Min(ranked.Count, SuccessiveHalving.Survivors(alive.Count, options.ReductionFactor));
            foreach (CandidateState stopped in ranked.Skip(keep))
            {
                stopped.Status = CandidateStatus.StoppedEarly;
            }

            alive = ranked.Take(keep).ToList();
            if (lastRung)
            {
                alive.ForEach(finalist => finalist.Status = CandidateStatus.Finished);
            }

            if (alive.Count == 0)
            {
                break;
            }
        }

        List<CandidateState> leaderboard = [.. states.OrderBy(s => s, new StateRanking(primary))];
        CandidateState best = leaderboard[0];
        if (best.RungReached < 0)
        {
            throw new InvalidOperationException(budgetExhausted
                ? $"The time budget of {options.TimeBudget.TotalSeconds:0.#} s ran out before any candidate finished its first rung " +
                  $"({rungEpochs[0]} epochs on {options.NumberOfFolds} folds); increase TimeBudget or pass fewer Candidates."
                : $"Every candidate diverged or failed; the first reported: {states.First(s => s.Note is not null).Note}");
        }

        Info(log, $"Best: {best.Candidate.Label} ({best.Candidate.Configuration}); refitting on all {labels.RowCount} rows for {best.EpochsTrained} epochs.");
        ITransformer bestModel = Refit(trainer, best, labels, options, cancellationToken);
        return new ComparisonResult
        {
            Task = options.Task,
            PrimaryMetric = primary,
            Leaderboard = leaderboard.Select((state, rank) => state.ToRow(rank + 1, primary)).ToList(),
            Curves = states.Select(state => state.ToCurve()).ToList(),
            BestModel = bestModel,
            InputSchema = data.Schema,
            RungEpochs = rungEpochs,
            NumberOfFolds = options.NumberOfFolds,
            Seed = options.Seed,
            TimeBudget = options.TimeBudget,
            Elapsed = clock.Elapsed,
            BudgetExhausted = budgetExhausted,
        };
    }

    private static ComparisonMetric ValidatedPrimaryMetric(OptimizerComparisonOptions options)
    {
        IReadOnlyList<ComparisonMetric> allowed = ComparisonMetrics.For(options.Task);
        ComparisonMetric metric = options.PrimaryMetric ?? allowed[0];
        if (!allowed.Contains(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(options.PrimaryMetric), metric,
                $"PrimaryMetric {metric} does not apply to {options.Task}; use one of: {string.Join(", ", allowed)}.");
        }

        return metric;
    }

    private static int PlannedTrials(int candidateCount, int rungCount, int reductionFactor)
    {
        int total = 0;
        for (int rung = 0, count = candidateCount; rung < rungCount; rung++, count = SuccessiveHalving.Survivors(count, reductionFactor))
        {
            total += count;
        }

        return total;
    }

    private FoldData[] PrepareFolds(IDataView data, int[] foldOfRow, OptimizerComparisonOptions options)
    {
        var folds = new FoldData[options.NumberOfFolds];
        for (int fold = 0; fold < folds.Length; fold++)
        {
            var train = new RowSubsetDataView(data, foldOfRow.Select(f => f != fold).ToArray());
            var heldOut = new RowSubsetDataView(data, foldOfRow.Select(f => f == fold).ToArray());
            ITransformer prefix = options.PipelinePrefix?.Fit(train) ?? new TransformerChain<ITransformer>();
            IDataView trainFeatures = _mlContext.Data.Cache(prefix.Transform(train));
            if (trainFeatures.Schema.GetColumnOrNull(options.FeatureColumnName) is null)
            {
                throw new ArgumentException(
                    $"FeatureColumnName '{options.FeatureColumnName}' is not a column of the data after PipelinePrefix; columns are: " +
                    $"{string.Join(", ", trainFeatures.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.", nameof(options));
            }

            folds[fold] = new FoldData(trainFeatures, _mlContext.Data.Cache(prefix.Transform(heldOut)));
        }

        return folds;
    }

    private FoldScore TrainAndScore(CandidateTrainer trainer, ComparisonCandidate candidate, int epochs, FoldData fold,
        OptimizerComparisonOptions options, CancellationToken budgetToken, Action<EpochReport> onEpoch)
    {
        var trainingLoss = new List<double>(epochs);
        var validationLoss = new List<double>(epochs);
        ITransformer model = trainer.Fit(candidate, epochs, fold.Train, fold.HeldOut, report =>
        {
            trainingLoss.Add(report.TrainingLoss);
            validationLoss.Add(report.ValidationLoss ?? double.NaN);
            onEpoch(report);
        }, budgetToken);
        IDataView scored = model.Transform(fold.HeldOut);
        return new FoldScore(Evaluate(scored, options.Task, options.LabelColumnName), trainingLoss, validationLoss);
    }

    private Dictionary<ComparisonMetric, double> Evaluate(IDataView scored, ComparisonTask task, string label)
    {
        switch (task)
        {
            case ComparisonTask.BinaryClassification:
                var binary = _mlContext.BinaryClassification.Evaluate(scored, label);
                return new() { [ComparisonMetric.AreaUnderRocCurve] = binary.AreaUnderRocCurve, [ComparisonMetric.Accuracy] = binary.Accuracy,
                    [ComparisonMetric.LogLoss] = binary.LogLoss };
            case ComparisonTask.MulticlassClassification:
                var multiclass = _mlContext.MulticlassClassification.Evaluate(scored, label);
                return new() { [ComparisonMetric.MacroAccuracy] = multiclass.MacroAccuracy, [ComparisonMetric.MicroAccuracy] = multiclass.MicroAccuracy,
                    [ComparisonMetric.LogLoss] = multiclass.LogLoss };
            default:
                var regression = _mlContext.Regression.Evaluate(scored, label);
                return new() { [ComparisonMetric.RSquared] = regression.RSquared, [ComparisonMetric.RootMeanSquaredError] = regression.RootMeanSquaredError };
        }
    }

    private ITransformer Refit(CandidateTrainer trainer, CandidateState best, LabelPreparation labels, OptimizerComparisonOptions options,
        CancellationToken cancellationToken)
    {
        ITransformer prefix = options.PipelinePrefix?.Fit(labels.Data) ?? new TransformerChain<ITransformer>();
        IDataView features = _mlContext.Data.Cache(prefix.Transform(labels.Data));
        ITransformer predictor = trainer.Fit(best.Candidate, best.EpochsTrained, features, null, null, cancellationToken);
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

    private sealed record FoldData(IDataView Train, IDataView HeldOut);

    /// <summary>The folds of one candidate's rung, filled as they finish.</summary>
    private sealed class RungRun(int foldCount)
    {
        private readonly FoldScore?[] _folds = new FoldScore?[foldCount];

        public bool IsComplete => _folds.All(f => f is not null);

        public IReadOnlyList<FoldScore> Folds => [.. _folds.Select(f => f!)];

        public void Add(int fold, FoldScore score) => _folds[fold] = score;
    }
}
