using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Runtime;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// Runs the rungs of a <see cref="SuccessiveHalvingSchedule"/>: every surviving candidate on every fold through the
/// <see cref="TrialRunner"/>, within the <see cref="SearchBudget"/>, then promotes the best of each rung to the next.
/// </summary>
internal sealed class SuccessiveHalvingSearch(SuccessiveHalvingSchedule schedule, TrialRunner runner, SearchBudget budget,
    ComparisonMetric primary, IProgress<ComparisonProgress>? progress, IChannel log)
{
    private readonly int _plannedTrials = schedule.CandidatesPerRung().Sum() * runner.FoldCount;
    private int _trial;

    /// <summary>True when the search stopped because the caller cancelled.</summary>
    public bool Cancelled { get; private set; }

    /// <summary>Runs every rung (or as many as the budget allows) and sets each candidate's status.</summary>
    public void Run(IReadOnlyList<CandidateState> states)
    {
        List<CandidateState> alive = [.. states];
        for (int rung = 0; rung < schedule.RungCount && alive.Count > 0; rung++)
        {
            int epochs = schedule.RungEpochs[rung];
            Info($"Rung {rung + 1}/{schedule.RungCount}: {Plural(alive.Count, "candidate")} x {Plural(epochs, "epoch")}.");
            List<CandidateState> completed = [.. alive.Where(state => RunRung(state, rung, epochs))];
            if (budget.Exhausted || Cancelled)
            {
                Info(Cancelled ? $"Cancelled during rung {rung + 1}." : $"Time budget spent during rung {rung + 1}.");
                MarkUnfinished(alive);
                return;
            }

            alive = Promote(completed, alive.Count, rung);
        }
    }

    /// <summary>Trains one candidate for one rung on every fold; true when every fold completed.</summary>
    private bool RunRung(CandidateState state, int rung, int epochs)
    {
        if (budget.Exhausted || Cancelled)
        {
            return false;
        }

        var folds = new FoldScore[runner.FoldCount];
        var fitClock = Stopwatch.StartNew();
        try
        {
            for (int fold = 0; fold < folds.Length; fold++)
            {
                if (budget.SearchTimeSpent)
                {
                    StopForLackOfTime();
                    return false;
                }

                var where = new ComparisonProgress(rung, schedule.RungCount, epochs, ++_trial, _plannedTrials, state.Candidate.Label, fold, 0,
                    budget.Elapsed, budget.Total);
                progress?.Report(where);
                folds[fold] = runner.Run(state.Candidate, epochs, fold, budget.RunToken,
                    report => progress?.Report(where with { Epoch = report.Epoch, Elapsed = budget.Elapsed }));
            }
        }
        catch (OperationCanceledException)
        {
            StopForLackOfTime();
            return false;
        }
        catch (InvalidOperationException diverged)
        {
            Drop(state, CandidateStatus.Diverged, rung, diverged.Message);
            return false;
        }
        catch (Exception refused) when (refused is NotSupportedException or ArgumentException)
        {
            // One candidate's unsupported setting must not end the comparison of the others.
            Drop(state, CandidateStatus.Failed, rung, refused.Message);
            return false;
        }
        finally
        {
            state.FitTime += fitClock.Elapsed;
        }

        var result = CandidateResult.Of(rung, epochs, folds, fitClock.Elapsed);
        state.Complete(result);
        Info(string.Create(CultureInfo.InvariantCulture,
            $"{state.Candidate.Label}: {ComparisonMetrics.ShortName(primary)} = {result.Mean(primary):F4} after {Plural(result.EpochsTrained, "epoch")}."));
        return true;
    }

    /// <summary>The caller's cancellation or the budget, whichever stopped the search.</summary>
    private void StopForLackOfTime()
    {
        if (budget.Cancellation.IsCancellationRequested)
        {
            Cancelled = true;
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
