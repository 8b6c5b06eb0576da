using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Shared;

namespace MLNet.Optimizers.Distributed;

/// <summary>A read-only view of rows <c>offset, offset + stride, …</c> of another view, in its order (see <see cref="DataShards"/>).</summary>
internal sealed class EveryNthRowDataView(IDataView source, int stride, int offset) : IDataView
{
    public bool CanShuffle => false;

    public DataViewSchema Schema => source.Schema;

    public long? GetRowCount() => source.GetRowCount() is long rows ? Math.Max(0, (rows - offset + stride - 1) / stride) : null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(source.GetRowCursor(columnsNeeded), stride, offset);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(DataViewRowCursor input, int stride, int offset) : RowSelectionCursor(input)
    {
        private bool _started;

        protected override bool MoveInputToNextKeptRow()
        {
            // The first kept row is source row `offset`; each later one is `stride` rows further on.
            for (int skip = _started ? stride - 1 : offset; skip > 0; skip--)
            {
                if (!Input.MoveNext())
                {
                    return false;
                }
            }

            _started = true;
            return Input.MoveNext();
        }
    }
}
