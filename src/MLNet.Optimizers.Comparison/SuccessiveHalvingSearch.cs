using System.Globalization;
using Microsoft.ML.Runtime;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// Runs the rungs of a <see cref="SuccessiveHalvingSchedule"/>: every surviving candidate on every fold through the
/// <see cref="TrialRunner"/>, within the <see cref="SearchBudget"/>, then keeps the best of each rung for the next.
/// </summary>
internal sealed class SuccessiveHalvingSearch(SuccessiveHalvingSchedule schedule, TrialRunner runner, SearchBudget budget,
    ComparisonMetric primary, IProgress<ComparisonProgress>? progress, IChannel log)
{
    private readonly int _plannedTrials = schedule.CandidatesPerRung().Sum() * runner.FoldCount;
    private int _trial;

    /// <summary>Runs every rung (or as many as the budget allows) and sets each candidate's status.</summary>
    public void Run(IReadOnlyList<CandidateState> states)
    {
        List<CandidateState> alive = [.. states];
        for (int rung = 0; rung < schedule.RungCount && alive.Count > 0; rung++)
        {
            int epochs = schedule.RungEpochs[rung];
            Info($"Rung {rung + 1}/{schedule.RungCount}: {alive.Count} candidates x {epochs} epochs.");
            List<CandidateState> completed = [.. alive.Where(state => RunRung(state, rung, epochs) && !budget.Exhausted)];
            if (budget.Exhausted)
            {
                Info($"Time budget spent during rung {rung + 1}; candidates that did not finish it keep their last complete result.");
                MarkUnfinished(alive);
                return;
            }

            alive = Promote(completed, alive.Count, rung);
        }
    }

    /// <summary>Trains one candidate for one rung on every fold; true when every fold completed.</summary>
    private bool RunRung(CandidateState state, int rung, int epochs)
    {
        if (budget.Exhausted)
        {
            return false;
        }

        var folds = new FoldScore[runner.FoldCount];
        var fitClock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            for (int fold = 0; fold < folds.Length; fold++)
            {
                if (budget.SearchTimeSpent)
                {
                    budget.Cancellation.ThrowIfCancellationRequested();
                    budget.MarkExhausted();
                    return false;
                }

                var where = new ComparisonProgress(rung, schedule.RungCount, epochs, ++_trial, _plannedTrials, state.Candidate.Label, fold, 0,
                    budget.Elapsed, budget.Total);
                progress?.Report(where);
                folds[fold] = runner.Run(state.Candidate, epochs, fold, budget.RunToken,
                    report => progress?.Report(where with { Epoch = report.Epoch, Elapsed = budget.Elapsed }));
            }
        }
        catch (OperationCanceledException) when (!budget.Cancellation.IsCancellationRequested)
        {
            budget.MarkExhausted();
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

        state.Complete(rung, epochs, folds);
        Info($"{state.Candidate.Label}: {ComparisonMetrics.ShortName(primary)} = {state.PrimaryMean(primary).ToString("F4", CultureInfo.InvariantCulture)} after {epochs} epochs.");
        return true;
    }

    /// <summary>Keeps the best 1/η of the rung's completed candidates; marks the others stopped (or all finished after the last rung).</summary>
    private List<CandidateState> Promote(List<CandidateState> completed, int entered, int rung)
    {
        List<CandidateState> ranked = [.. completed.OrderBy(s => s, new StateRanking(primary))];
        bool lastRung = rung == schedule.RungCount - 1;
        int keep = lastRung ? ranked.Count : Math.Min(ranked.Count, schedule.Survivors(entered));
        foreach (CandidateState stopped in ranked.Skip(keep))
        {
            stopped.Status = CandidateStatus.StoppedEarly;
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

    /// <summary>After the budget ran out: candidates still in the search keep their last complete rung.</summary>
    private void MarkUnfinished(IEnumerable<CandidateState> alive)
    {
        foreach (CandidateState state in alive.Where(s => !s.Dropped))
        {
            state.Status = state.RungReached < 0 ? CandidateStatus.NotEvaluated
                : state.RungReached == schedule.RungCount - 1 ? CandidateStatus.Finished
                : CandidateStatus.BudgetExhausted;
        }
    }

    private void Info(string message) => log.Info(MessageSensitivity.None, message);
}
