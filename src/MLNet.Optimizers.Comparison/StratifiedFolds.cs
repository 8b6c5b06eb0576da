using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Comparison;

/// <summary>Deterministic k-fold assignment, stratified by label when labels are given.</summary>
internal static class StratifiedFolds
{
    /// <summary>
    /// Returns the fold (0..k−1) of each row. Rows are grouped by stratum (ordinal order of the keys), shuffled within each
    /// group by one <see cref="Random"/> seeded with <paramref name="seed"/>, concatenated, and dealt round-robin; so every
    /// fold gets each class's rows to within one and the fold sizes differ by at most one.
    /// </summary>
    /// <param name="strata">One key per row (e.g. the label as text), or null for a plain shuffled split.</param>
    /// <param name="rowCount">The number of rows; must equal the number of keys when they are given.</param>
    /// <param name="foldCount">k, at least 2 and at most <paramref name="rowCount"/>.</param>
    /// <param name="seed">The shuffle seed.</param>
    public static int[] Assign(IReadOnlyList<string>? strata, int rowCount, int foldCount, int seed)
    {
        Check.AtLeast(foldCount, 2);
        if (rowCount < foldCount)
        {
            throw new ArgumentException($"The data has {rowCount} rows; NumberOfFolds = {foldCount} needs at least that many rows.");
        }

        if (strata is not null && strata.Count != rowCount)
        {
            throw new ArgumentException($"strata has {strata.Count} keys for {rowCount} rows; they must be equal.", nameof(strata));
        }

        IEnumerable<int[]> groups = strata is null
            ? [Enumerable.Range(0, rowCount).ToArray()]
            : Enumerable.Range(0, rowCount)
                .GroupBy(row => strata[row], StringComparer.Ordinal)
                .OrderBy(group => group.Key, StringComparer.Ordinal)
                .Select(group => group.ToArray());

        var random = new Random(seed);
        var folds = new int[rowCount];
        int dealt = 0;
        foreach (int[] rows in groups)
        {
            random.Shuffle(rows);
            foreach (int row in rows)
            {
                folds[row] = dealt++ % foldCount;
            }
        }

        return folds;
    }
}
