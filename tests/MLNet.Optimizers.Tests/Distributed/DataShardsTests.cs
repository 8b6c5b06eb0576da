using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Distributed;

namespace MLNet.Optimizers.Tests.Distributed;

/// <summary>Keeping every N-th row of an IDataView as a rank's shard.</summary>
public class DataShardsTests
{
    private sealed class Row
    {
        public float Index { get; set; }
    }

    /// <summary>A view that knows its row count (in-memory enumerables report none).</summary>
    private sealed class CountedView(IDataView rows, long count) : IDataView
    {
        public bool CanShuffle => false;

        public DataViewSchema Schema => rows.Schema;

        public long? GetRowCount() => count;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            rows.GetRowCursor(columnsNeeded, rand);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            rows.GetRowCursorSet(columnsNeeded, n, rand);
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 3)]
    [InlineData(5, 7)] // more shards than rows: the last ones are empty
    public void Shards_keep_every_nth_row_in_order_and_together_hold_each_row_once(int rowCount, int shardCount)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = new CountedView(
            mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, rowCount).Select(i => new Row { Index = i })), rowCount);

        var shards = Enumerable.Range(0, shardCount).Select(shard => mlContext.Data.KeepEveryNthRow(data, shardCount, shard)).ToArray();

        for (int shard = 0; shard < shardCount; shard++)
        {
            float[] expected = Enumerable.Range(0, rowCount).Where(i => i % shardCount == shard).Select(i => (float)i).ToArray();
            Assert.Equal(expected, shards[shard].GetColumn<float>(nameof(Row.Index)).ToArray());
            Assert.Equal(expected.Length, shards[shard].GetRowCount());
            Assert.Equal(expected, shards[shard].GetColumn<float>(nameof(Row.Index)).ToArray()); // every pass yields the same rows
        }
    }

    [Fact]
    public void Shard_for_rank_uses_the_communicators_rank_and_size()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 7).Select(i => new Row { Index = i }));

        var shards = ThreadCommunicators.Run(3, communicator =>
            mlContext.Data.ShardForRank(data, communicator).GetColumn<float>(nameof(Row.Index)).ToArray());

        Assert.Equal([[0f, 3, 6], [1f, 4], [2f, 5]], shards);
    }

    [Theory]
    [InlineData(0, 0, "shardCount")]
    [InlineData(3, 3, "shardIndex")]
    [InlineData(3, -1, "shardIndex")]
    public void Invalid_shard_arguments_name_the_argument(int shardCount, int shardIndex, string argument)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new Row() });

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Data.KeepEveryNthRow(data, shardCount, shardIndex));

        Assert.Equal(argument, error.ParamName);
    }
}
