using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Comparison;

namespace MLNet.Optimizers.Tests.Comparison;

/// <summary>A fault of the data stops the comparison with its cause and where it happened, instead of counting as divergence.</summary>
public class ComparisonDataFaultTests
{
    [Fact]
    public void An_io_fault_while_reading_the_data_stops_the_run_with_the_original_exception()
    {
        var mlContext = new MLContext(seed: 1);
        var fault = new IOException("the network share went away");
        var options = new OptimizerComparisonOptions
        {
            Data = new FaultyFeaturesView(ComparisonData.BreastCancer(mlContext), failAtRow: 100, fault),
            Candidates = [new ComparisonCandidate(new Adam(learningRate: 0.01))],
            NumberOfFolds = 2,
            MaximumNumberOfEpochs = 2,
        };

        var error = Assert.Throws<IOException>(() => new OptimizerComparison(mlContext).Run(options));

        Assert.Contains("before any candidate is trained", error.Message); // the data is read once, up front
        Assert.Contains("the network share went away", error.Message);
        Assert.Same(fault, Causes(error).Last());
    }

    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    /// <summary>A view whose cursors throw <paramref name="fault"/> at row <paramref name="failAtRow"/> when the features are read.</summary>
    private sealed class FaultyFeaturesView(IDataView inner, int failAtRow, Exception fault) : IDataView
    {
        public bool CanShuffle => false;

        public DataViewSchema Schema => inner.Schema;

        public long? GetRowCount() => inner.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var columns = columnsNeeded.ToArray();
            var cursor = inner.GetRowCursor(columns);
            return columns.Any(c => c.Name == "Features") ? new FaultyCursor(cursor, failAtRow, fault) : cursor;
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }

    private sealed class FaultyCursor(DataViewRowCursor inner, int failAtRow, Exception fault) : DataViewRowCursor
    {
        public override DataViewSchema Schema => inner.Schema;

        public override long Position => inner.Position;

        public override long Batch => inner.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => inner.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => inner.GetGetter<TValue>(column);

        public override bool MoveNext() => inner.Position + 1 >= failAtRow ? throw fault : inner.MoveNext();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
