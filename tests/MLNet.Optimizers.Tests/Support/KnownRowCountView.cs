using Microsoft.ML;

namespace MLNet.Optimizers.Tests.Support;

/// <summary>A view that reports its row count (as loaders of files with a header of counts do); everything else is the
/// inner view's. Shared as source with the benchmark project.</summary>
internal sealed class KnownRowCountView(IDataView inner, long rowCount) : IDataView
{
    public bool CanShuffle => inner.CanShuffle;

    public DataViewSchema Schema => inner.Schema;

    public long? GetRowCount() => rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        inner.GetRowCursor(columnsNeeded, rand);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        inner.GetRowCursorSet(columnsNeeded, n, rand);
}
