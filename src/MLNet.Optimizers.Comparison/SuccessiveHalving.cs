using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Comparison;

/// <summary>The rung schedule of successive halving, with epochs as the resource.</summary>
/// <remarks>
/// With N candidates, reduction factor η and at most E epochs there are R = 1 + min(⌊log_η N⌋, ⌊log_η E⌋) rungs; rung i
/// trains for max(1, round(E / η^(R−1−i))) epochs and keeps the best max(1, ⌊n/η⌋) of its n candidates. For N = 70, η = 3,
/// E = 81: 70 candidates × 3 epochs, 23 × 9, 7 × 27, 2 × 81.
/// </remarks>
internal static class SuccessiveHalving
{
    /// <summary>The epochs of each rung, strictly increasing and ending at <paramref name="maximumEpochs"/>.</summary>
    public static int[] RungEpochs(int candidateCount, int maximumEpochs, int reductionFactor)
    {
        Check.AtLeast(candidateCount, 1);
        Check.AtLeast(maximumEpochs, 1);
        Check.AtLeast(reductionFactor, 2);
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

    /// <summary>How many of <paramref name="count"/> candidates go on to the next rung.</summary>
    public static int Survivors(int count, int reductionFactor) => Math.Max(1, count / reductionFactor);

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
