using Microsoft.ML;
using Microsoft.ML.Data;

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

    private sealed class Cursor(DataViewRowCursor input, int stride, int offset) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => input.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            // The first kept row is source row `offset`; each later one is `stride` rows further on.
            for (int skip = _position < 0 ? offset : stride - 1; skip > 0; skip--)
            {
                if (!input.MoveNext())
                {
                    return false;
                }
            }

            if (!input.MoveNext())
            {
                return false;
            }

            _position++;
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => input.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => input.GetGetter<TValue>(column);

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                input.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
