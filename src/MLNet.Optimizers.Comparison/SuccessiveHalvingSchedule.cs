using MLNet.Optimizers.Internal;

namespace MLNet.Optimizers.Comparison;

/// <summary>The rung schedule of successive halving, with epochs as the resource.</summary>
/// <remarks>
/// With N candidates, reduction factor η and at most E epochs there are R = 1 + min(⌊log_η N⌋, ⌊log_η E⌋) rungs; rung i
/// trains for max(1, round(E / η^(R−1−i))) epochs and keeps the best max(1, ⌊n/η⌋) of its n candidates. For N = 70, η = 3,
/// E = 81: 70 candidates × 3 epochs, 23 × 9, 7 × 27, 2 × 81.
/// </remarks>
internal sealed class SuccessiveHalvingSchedule
{
    private readonly int _reductionFactor;

    public SuccessiveHalvingSchedule(int candidateCount, int maximumEpochs, int reductionFactor)
    {
        Check.AtLeast(candidateCount, 1);
        Check.AtLeast(maximumEpochs, 1);
        _reductionFactor = Check.AtLeast(reductionFactor, 2);
        CandidateCount = candidateCount;
        RungEpochs = ComputeRungEpochs(candidateCount, maximumEpochs, reductionFactor);
    }

    public int CandidateCount { get; }

    /// <summary>The epochs of each rung, strictly increasing and ending at the maximum.</summary>
    public IReadOnlyList<int> RungEpochs { get; }

    public int RungCount => RungEpochs.Count;

    /// <summary>How many of <paramref name="count"/> candidates go on to the next rung.</summary>
    public int Survivors(int count) => Math.Max(1, count / _reductionFactor);

    /// <summary>The candidates each rung trains when none diverges and the budget suffices.</summary>
    public IEnumerable<int> CandidatesPerRung()
    {
        for (int rung = 0, count = CandidateCount; rung < RungCount; rung++, count = Survivors(count))
        {
            yield return count;
        }
    }

    /// <summary>The epochs the whole schedule trains per fold (every rung's candidates × that rung's epochs).</summary>
    public long PlannedEpochs() => CandidatesPerRung().Zip(RungEpochs, (count, epochs) => (long)count * epochs).Sum();

    private static int[] ComputeRungEpochs(int candidateCount, int maximumEpochs, int reductionFactor)
    {
        int rungCount = 1 + Math.Min(FloorLog(candidateCount, reductionFactor), FloorLog(maximumEpochs, reductionFactor));
        var epochs = new List<int>();
        for (int rung = 0; rung < rungCount; rung++)
        {
            int value = Math.Max(1, (int)Math.Round(maximumEpochs / Math.Pow(reductionFactor, rungCount - 1 - rung)));
            if (epochs.Count == 0 || value > epochs[^1])
            {
                epochs.Add(value);
            }
        }

        return [.. epochs];
    }

    private static int FloorLog(int value, int logBase)
    {
        int exponent = 0;
        for (long power = logBase; power <= value; power *= logBase)
        {
            exponent++;
        }

        return exponent;
    }
}
