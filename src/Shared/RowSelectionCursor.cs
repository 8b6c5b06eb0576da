using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Optimizers.Shared;

/// <summary>
/// A cursor over some of the rows of another cursor, in its order: a subclass moves <see cref="Input"/> to the next row it
/// keeps; the columns, getters and row ids pass through. Compiled (as linked source) into the packages that select rows of an
/// <see cref="IDataView"/>: the comparison's folds and the distributed package's shards.
/// </summary>
/// <param name="input">The source cursor; disposed with this one.</param>
internal abstract class RowSelectionCursor(DataViewRowCursor input) : DataViewRowCursor
{
    private long _position = -1;

    public override DataViewSchema Schema => input.Schema;

    public override long Position => _position;

    public override long Batch => 0;

    /// <summary>The source cursor.</summary>
    protected DataViewRowCursor Input => input;

    public sealed override bool MoveNext()
    {
        if (!MoveInputToNextKeptRow())
        {
            return false;
        }

        _position++;
        return true;
    }

    public override bool IsColumnActive(DataViewSchema.Column column) => input.IsColumnActive(column);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => input.GetGetter<TValue>(column);

    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

    /// <summary>Moves <see cref="Input"/> to the next row to keep; false when the source has no more.</summary>
    protected abstract bool MoveInputToNextKeptRow();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Dispose();
        }

        base.Dispose(disposing);
    }
}
