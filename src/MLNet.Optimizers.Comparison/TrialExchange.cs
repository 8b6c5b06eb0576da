using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Comparison;

/// <summary>What one trial gave: a score, or a failure with its message, or neither (skipped or cut by the budget).</summary>
internal sealed record TrialOutcome(FoldScore? Score, CandidateStatus? Failure, string? Message, TimeSpan Duration, int EpochsTrained)
{
    public static TrialOutcome Skipped { get; } = new(null, null, null, TimeSpan.Zero, 0);
}

/// <summary>
/// Spreads a rung's trials over the ranks of a job and gives every rank every trial's outcome, so that every rank makes the
/// same promotion decisions. Trial i runs on rank i mod size; its outcome travels as a fixed number of doubles in a
/// sum-allreduce where each trial's owner fills its slots and the other ranks leave zeros (x + 0 = x: exact), then the
/// failure messages travel the same way as character codes.
/// </summary>
/// <remarks>Per trial: [kind, duration ticks, epochs trained, message length, the task's metrics in report order, training and
/// validation loss counts, the two curves padded to the rung's epochs]. Two more slots count the ranks that ran out of time
/// or were cancelled, so that every rank stops the search together.</remarks>
internal sealed class TrialExchange(ICommunicator communicator, IReadOnlyList<ComparisonMetric> metrics)
{
    private const int NotMine = 0, Skipped = 1, Scored = 2, FailedBase = 3;
    private const int Header = 4;

    /// <summary>True when the job has more than one rank, so outcomes must be shared.</summary>
    public bool Distributed => communicator.Size > 1;

    /// <summary>True when this rank runs trial <paramref name="trial"/>.</summary>
    public bool Owns(int trial) => trial % communicator.Size == communicator.Rank;

    /// <summary>
    /// Collective: fills in the trials that other ranks ran (null on entry) and tells whether any rank ran out of time or was
    /// cancelled; the same on every rank.
    /// </summary>
    public (bool OutOfTime, bool Cancelled) Share(TrialOutcome?[] outcomes, int epochs, bool outOfTime, bool cancelled)
    {
        int stride = Header + metrics.Count + 2 + 2 * epochs;
        var numbers = new double[outcomes.Length * stride + 2];
        for (int trial = 0; trial < outcomes.Length; trial++)
        {
            if (Owns(trial))
            {
                Encode(outcomes[trial]!, numbers.AsSpan(trial * stride, stride));
            }
        }

        numbers[^2] = outOfTime ? 1 : 0;
        numbers[^1] = cancelled ? 1 : 0;
        communicator.AllreduceSum(numbers);

        string?[] messages = ShareMessages(outcomes, numbers, stride);
        for (int trial = 0; trial < outcomes.Length; trial++)
        {
            if (!Owns(trial))
            {
                outcomes[trial] = Decode(numbers.AsSpan(trial * stride, stride), epochs, messages[trial]);
            }
        }

        return (numbers[^2] > 0, numbers[^1] > 0);
    }

    private void Encode(TrialOutcome outcome, Span<double> slots)
    {
        slots[0] = outcome.Failure is CandidateStatus failure ? FailedBase + (int)failure : outcome.Score is null ? Skipped : Scored;
        slots[1] = outcome.Duration.Ticks;
        slots[2] = outcome.EpochsTrained;
        slots[3] = outcome.Message?.Length ?? 0;
        if (outcome.Score is FoldScore score)
        {
            Span<double> rest = slots[Header..];
            for (int m = 0; m < metrics.Count; m++)
            {
                rest[m] = score.Metrics[metrics[m]];
            }

            rest = rest[metrics.Count..];
            rest[0] = score.TrainingLoss.Count;
            rest[1] = score.ValidationLoss.Count;
            int epochs = (rest.Length - 2) / 2;
            score.TrainingLoss.ToArray().CopyTo(rest[2..]);
            score.ValidationLoss.ToArray().CopyTo(rest[(2 + epochs)..]);
        }
    }

    private TrialOutcome Decode(ReadOnlySpan<double> slots, int epochs, string? message)
    {
        var duration = TimeSpan.FromTicks((long)slots[1]);
        int epochsTrained = (int)slots[2];
        int kind = (int)slots[0];
        if (kind >= FailedBase)
        {
            return new TrialOutcome(null, (CandidateStatus)(kind - FailedBase), message, duration, epochsTrained);
        }

        if (kind != Scored)
        {
            return TrialOutcome.Skipped with { Duration = duration, EpochsTrained = epochsTrained };
        }

        ReadOnlySpan<double> rest = slots[Header..];
        var values = new Dictionary<ComparisonMetric, double>();
        for (int m = 0; m < metrics.Count; m++)
        {
            values[metrics[m]] = rest[m];
        }

        rest = rest[metrics.Count..];
        List<double> trainingLoss = [.. rest.Slice(2, (int)rest[0])];
        List<double> validationLoss = [.. rest.Slice(2 + epochs, (int)rest[1])];
        return new TrialOutcome(new FoldScore(values, trainingLoss, validationLoss), null, null, duration, epochsTrained);
    }

    /// <summary>Collective when any trial failed: every failure message, as character codes at offsets every rank computes alike.</summary>
    private string?[] ShareMessages(TrialOutcome?[] outcomes, double[] numbers, int stride)
    {
        var messages = new string?[outcomes.Length];
        var offsets = new int[outcomes.Length + 1];
        for (int trial = 0; trial < outcomes.Length; trial++)
        {
            offsets[trial + 1] = offsets[trial] + (int)numbers[trial * stride + 3];
        }

        if (offsets[^1] == 0)
        {
            return messages;
        }

        var characters = new double[offsets[^1]];
        for (int trial = 0; trial < outcomes.Length; trial++)
        {
            if (Owns(trial) && outcomes[trial]!.Message is string text)
            {
                for (int i = 0; i < text.Length; i++)
                {
                    characters[offsets[trial] + i] = text[i];
                }
            }
        }

        communicator.AllreduceSum(characters);
        for (int trial = 0; trial < outcomes.Length; trial++)
        {
            int length = offsets[trial + 1] - offsets[trial];
            messages[trial] = Owns(trial) ? outcomes[trial]!.Message
                : length == 0 ? null : new string([.. characters.AsSpan(offsets[trial], length).ToArray().Select(c => (char)c)]);
        }

        return messages;
    }
}
