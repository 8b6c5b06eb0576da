using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Shared;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// A read-only view of the rows of another view whose index is selected, in the source's order: the fold split, done by
/// row index so that any label type can be stratified (ML.NET's own split hashes a column and cannot stratify).
/// </summary>
internal sealed class RowSubsetDataView : IDataView
{
    private readonly IDataView _source;
    private readonly bool[] _selected;
    private readonly long _rowCount;

    /// <summary>Creates the view.</summary>
    /// <param name="source">A view whose unshuffled cursor always yields its rows in the same order.</param>
    /// <param name="selected">One flag per source row.</param>
    public RowSubsetDataView(IDataView source, bool[] selected)
    {
        _source = source;
        _selected = selected;
        _rowCount = selected.Count(flag => flag);
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema => _source.Schema;

    public long? GetRowCount() => _rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(_source.GetRowCursor(columnsNeeded), _selected);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(DataViewRowCursor input, bool[] selected) : RowSelectionCursor(input)
    {
        private long _sourceRow = -1;

        protected override bool MoveInputToNextKeptRow()
        {
            while (Input.MoveNext())
            {
                _sourceRow++;
                if (_sourceRow >= selected.Length)
                {
                    throw new InvalidOperationException(
                        $"The data yielded more than the {selected.Length} rows counted when the folds were assigned; it must not change during a comparison.");
                }

                if (selected[_sourceRow])
                {
                    return true;
                }
            }

            return false;
        }
    }
}
