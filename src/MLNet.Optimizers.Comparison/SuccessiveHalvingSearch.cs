using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Runtime;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// Runs the rungs of a <see cref="SuccessiveHalvingSchedule"/>: every surviving candidate on every fold through the
/// <see cref="TrialRunner"/>, within the <see cref="SearchBudget"/>, then promotes the best of each rung to the next. In a job of
/// several ranks each rank runs its share of every rung's trials and the <see cref="TrialExchange"/> gives every rank all the
/// outcomes, so every rank promotes the same candidates.
/// </summary>
internal sealed class SuccessiveHalvingSearch(SuccessiveHalvingSchedule schedule, TrialRunner runner, SearchBudget budget,
    ComparisonMetric primary, int parallelism, TrialExchange exchange, IProgress<ComparisonProgress>? progress, IChannel log)
{
    private readonly int _plannedTrials = schedule.CandidatesPerRung().Sum() * runner.FoldCount;
    private readonly Lock _progressLock = new();
    private int _trial;
    private long _epochsTrained;
    private volatile bool _cancelled;

    /// <summary>True when the search stopped because the caller cancelled.</summary>
    public bool Cancelled => _cancelled;

    /// <summary>The epochs trained over every trial and fold so far (unfinished trials included).</summary>
    public long EpochsTrained => Interlocked.Read(ref _epochsTrained);

    /// <summary>The 0-based rung the search was in when the budget or the caller stopped it; null when it ran to the end.</summary>
    public int? StoppedInRung { get; private set; }

    /// <summary>Runs every rung (or as many as the budget allows) and sets each candidate's status.</summary>
    public void Run(IReadOnlyList<CandidateState> states)
    {
        List<CandidateState> alive = Interleaved(states);
        for (int rung = 0; rung < schedule.RungCount && alive.Count > 0; rung++)
        {
            int epochs = schedule.RungEpochs[rung];
            Info($"Rung {rung + 1}/{schedule.RungCount}: {Plural(alive.Count, "candidate")} x {Plural(epochs, "epoch")}.");
            List<CandidateState> completed = RunRung(alive, rung, epochs);
            if (budget.Exhausted || Cancelled)
            {
                Info(Cancelled ? $"Cancelled during rung {rung + 1}." : $"Time budget spent during rung {rung + 1}.");
                StoppedInRung = rung;
                MarkUnfinished(alive);
                return;
            }

            alive = Interleaved(Promote(completed, alive.Count, rung));
        }
    }

    /// <summary>
    /// The candidates in round-robin order over optimizer families (each family's own order kept), so that when the budget
    /// cuts a rung short the cut falls on every family alike rather than on the last ones listed.
    /// </summary>
    internal static List<CandidateState> Interleaved(IEnumerable<CandidateState> candidates) =>
    [
        .. candidates.GroupBy(c => c.Candidate.Name, StringComparer.Ordinal)
            .SelectMany(family => family.Select((state, position) => (state, position)))
            .OrderBy(entry => entry.position)
            .Select(entry => entry.state),
    ];

    /// <summary>
    /// Trains every candidate of the rung on every fold, this rank's trials spread over <c>parallelism</c> threads in order
    /// (candidate by candidate, folds inside); returns the candidates that completed every fold, in the given order.
    /// Each trial depends only on its candidate, epochs, fold and seed, so the results do not depend on the thread or rank count.
    /// </summary>
    private List<CandidateState> RunRung(List<CandidateState> alive, int rung, int epochs)
    {
        int folds = runner.FoldCount;
        var outcomes = new TrialOutcome?[alive.Count * folds];
        // A candidate's folds after its first failed fold are skipped; the folds before it always run, so the failure reported
        // (the first in fold order) is the same for any thread or rank count.
        var firstFailedFold = Enumerable.Repeat(int.MaxValue, alive.Count).ToArray();
        Parallel.ForEach(Partitioner.Create(Enumerable.Range(0, outcomes.Length).Where(exchange.Owns), EnumerablePartitionerOptions.NoBuffering),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            item =>
            {
                int candidate = item / folds, fold = item % folds;
                outcomes[item] = Volatile.Read(ref firstFailedFold[candidate]) < fold ? TrialOutcome.Skipped
                    : RunTrial(alive[candidate].Candidate, rung, epochs, fold);
                if (outcomes[item]!.Failure is not null)
                {
                    lock (firstFailedFold)
                    {
                        firstFailedFold[candidate] = Math.Min(firstFailedFold[candidate], fold);
                    }
                }
            });
        if (exchange.Distributed)
        {
            ShareOutcomes(outcomes, epochs);
        }

        var completed = new List<CandidateState>();
        for (int candidate = 0; candidate < alive.Count; candidate++)
        {
            CandidateState state = alive[candidate];
            TrialOutcome[] trials = outcomes[(candidate * folds)..((candidate + 1) * folds)]!;
            state.FitTime += trials.Aggregate(TimeSpan.Zero, (sum, trial) => sum + trial.Duration);
            if (trials.FirstOrDefault(trial => trial.Failure is not null) is { Failure: CandidateStatus status } first)
            {
                Drop(state, status, rung, first.Message!);
            }
            else if (trials.All(trial => trial.Score is not null))
            {
                var result = CandidateResult.Of(rung, epochs, [.. trials.Select(trial => trial.Score!)],
                    trials.Aggregate(TimeSpan.Zero, (sum, trial) => sum + trial.Duration));
                state.Complete(result);
                completed.Add(state);
                Info(string.Create(CultureInfo.InvariantCulture,
                    $"{state.Candidate.Label}: {ComparisonMetrics.ShortName(primary)} = {result.Mean(primary):F4} after {Plural(result.EpochsTrained, "epoch")}."));
            }
        }

        return completed;
    }

    /// <summary>
    /// Collective: gives every rank the outcomes of the trials the other ranks ran, and stops the search on every rank when any
    /// rank ran out of time or was cancelled, so that every rank takes the same decisions from here on.
    /// </summary>
    private void ShareOutcomes(TrialOutcome?[] outcomes, int epochs)
    {
        (bool outOfTime, bool cancelled) = exchange.Share(outcomes, epochs, budget.Exhausted, _cancelled);
        if (outOfTime)
        {
            budget.MarkExhausted();
        }

        if (cancelled)
        {
            _cancelled = true;
        }

        long othersEpochs = Enumerable.Range(0, outcomes.Length).Where(trial => !exchange.Owns(trial)).Sum(trial => (long)outcomes[trial]!.EpochsTrained);
        Interlocked.Add(ref _epochsTrained, othersEpochs);
    }

    /// <summary>One candidate on one fold; never throws for the candidate's own failures, which the outcome carries.</summary>
    private TrialOutcome RunTrial(ComparisonCandidate candidate, int rung, int epochs, int fold)
    {
        if (budget.SearchTimeSpent || Cancelled)
        {
            StopForLackOfTime();
            return TrialOutcome.Skipped;
        }

        var where = new ComparisonProgress(rung, schedule.RungCount, epochs, Interlocked.Increment(ref _trial), _plannedTrials, candidate.Label,
            fold, 0, budget.Elapsed, budget.Total);
        Report(where);
        var clock = Stopwatch.StartNew();
        int epochsTrained = 0;
        try
        {
            FoldScore score = runner.Run(candidate, epochs, fold, budget.RunToken, report =>
            {
                epochsTrained++;
                Interlocked.Increment(ref _epochsTrained);
                Report(where with { Epoch = report.Epoch, Elapsed = budget.Elapsed });
            });
            return new TrialOutcome(score, null, null, clock.Elapsed, epochsTrained);
        }
        catch (OperationCanceledException)
        {
            StopForLackOfTime();
            return TrialOutcome.Skipped with { Duration = clock.Elapsed, EpochsTrained = epochsTrained };
        }
        catch (InvalidOperationException diverged)
        {
            return new TrialOutcome(null, CandidateStatus.Diverged, diverged.Message, clock.Elapsed, epochsTrained);
        }
        catch (Exception refused) when (refused is NotSupportedException or ArgumentException)
        {
            // One candidate's unsupported setting must not end the comparison of the others.
            return new TrialOutcome(null, CandidateStatus.Failed, refused.Message, clock.Elapsed, epochsTrained);
        }
    }

    private void Report(ComparisonProgress where)
    {
        if (progress is not null)
        {
            lock (_progressLock)
            {
                progress.Report(where);
            }
        }
    }

    /// <summary>The caller's cancellation or the budget, whichever stopped the search.</summary>
    private void StopForLackOfTime()
    {
        if (budget.Cancellation.IsCancellationRequested)
        {
            _cancelled = true;
        }
        else
        {
            budget.MarkExhausted();
        }
    }

    /// <summary>
    /// Keeps the best 1/η of the candidates that entered the rung (ranked by this rung's result) for the next rung. A candidate
    /// that stopped before its epochs on every fold (converged) keeps its result but trains no longer: it would repeat it.
    /// </summary>
    private List<CandidateState> Promote(List<CandidateState> completed, int entered, int rung)
    {
        foreach (CandidateState stopped in completed.Where(s => s.Latest!.StoppedBeforeAllEpochs))
        {
            stopped.Status = StoppedStatus(stopped);
        }

        List<CandidateState> ranked = [.. completed.Where(s => !s.Latest!.StoppedBeforeAllEpochs).OrderBy(s => s, ResultRanking.ByLatest(primary))];
        bool lastRung = rung == schedule.RungCount - 1;
        int keep = lastRung ? ranked.Count : Math.Min(ranked.Count, schedule.Survivors(entered));
        foreach (CandidateState pruned in ranked.Skip(keep))
        {
            pruned.Status = CandidateStatus.Pruned;
        }

        List<CandidateState> survivors = [.. ranked.Take(keep)];
        if (lastRung)
        {
            survivors.ForEach(finalist => finalist.Status = CandidateStatus.Finished);
        }

        return survivors;
    }

    private void Drop(CandidateState state, CandidateStatus status, int rung, string message)
    {
        state.Drop(status, message);
        Info($"{state.Candidate.Label}: {status.ToString().ToLowerInvariant()} at rung {rung + 1}: {message}");
    }

    /// <summary>After the budget ran out or the caller cancelled: candidates that did not complete this rung keep their results so far.</summary>
    private void MarkUnfinished(IEnumerable<CandidateState> alive)
    {
        foreach (CandidateState state in alive.Where(s => !s.Dropped))
        {
            state.Status = state.RungReached == schedule.RungCount - 1 ? CandidateStatus.Finished
                : state.Latest is { StoppedBeforeAllEpochs: true } ? StoppedStatus(state)
                : Cancelled ? CandidateStatus.Cancelled
                : state.RungReached < 0 ? CandidateStatus.NotEvaluated
                : CandidateStatus.BudgetExhausted;
        }
    }

    private static CandidateStatus StoppedStatus(CandidateState state) =>
        state.Candidate.Optimizer is Lbfgs ? CandidateStatus.Converged : CandidateStatus.StoppedEarly;

    private void Info(string message) => log.Info(MessageSensitivity.None, message);

    internal static string Plural(int count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");
}
