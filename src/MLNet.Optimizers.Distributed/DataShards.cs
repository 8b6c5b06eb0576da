using Microsoft.ML;
using MLNet.Optimizers.Internal;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Distributed;

/// <summary>
/// Splits one data set into the shards of a data-parallel job when every rank can read the same file: rank r keeps rows
/// r, r + N, r + 2N, … of N ranks. Each rank still reads (and skips) every row; with data too large for that, give each rank
/// its own file instead.
/// </summary>
public static class DataShards
{
    /// <summary>The rows of <paramref name="data"/> whose index i (from 0) satisfies <c>i mod shardCount = shardIndex</c>, in order.</summary>
    /// <remarks>The view is lazy: it reads <paramref name="data"/> on every pass (so it streams with <c>CacheData = false</c>), and
    /// needs a view whose cursor yields the same rows in the same order every time (files, in-memory views).</remarks>
    /// <param name="catalog">ML.NET's data catalog (<c>mlContext.Data</c>).</param>
    /// <param name="data">The whole data set.</param>
    /// <param name="shardCount">N, the number of shards; at least 1.</param>
    /// <param name="shardIndex">This shard, in [0, N).</param>
    /// <returns>A view of every N-th row, starting at row <paramref name="shardIndex"/>.</returns>
    public static IDataView KeepEveryNthRow(this DataOperationsCatalog catalog, IDataView data, int shardCount, int shardIndex)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        Check.AtLeast(shardCount, 1);
        Check.Index(shardIndex, shardCount);
        return new EveryNthRowDataView(data, shardCount, shardIndex);
    }

    /// <summary>This rank's shard: <see cref="KeepEveryNthRow"/> with N = <see cref="ICommunicator.Size"/> and the shard index
    /// <see cref="ICommunicator.Rank"/>, so the ranks' shards together are the whole data set, each row once.</summary>
    /// <param name="catalog">ML.NET's data catalog (<c>mlContext.Data</c>).</param>
    /// <param name="data">The whole data set, the same on every rank.</param>
    /// <param name="communicator">The job's communicator.</param>
    /// <returns>Rows Rank, Rank + Size, Rank + 2·Size, ….</returns>
    public static IDataView ShardForRank(this DataOperationsCatalog catalog, IDataView data, ICommunicator communicator)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        return catalog.KeepEveryNthRow(data, communicator.Size, communicator.Rank);
    }
}
