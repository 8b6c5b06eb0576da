using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Tests.Training;

/// <summary>
/// Cancellation is seen within one evaluation of the full batch, cached or streamed, not only between evaluations: counted in
/// rows evaluated after the token was cancelled, so the tests do not depend on the machine's speed.
/// </summary>
public class CancellationWithinAPassTests
{
    private const int Rows = 20_000;

    /// <summary>Blocks that had started when the token was cancelled may finish: at most one per core.</summary>
    private static int RowsInFlight => Environment.ProcessorCount * 1024;

    /// <summary>Squared loss that cancels its token once it has evaluated <paramref name="cancelAfterRows"/> rows, and counts
    /// the rows it evaluates after that.</summary>
    private sealed class CancellingObjective(CancellationTokenSource cancellation, long cancelAfterRows) : LinearObjective
    {
        private long _rows;
        private long _rowsAfterCancellation;

        public long RowsAfterCancellation => Interlocked.Read(ref _rowsAfterCancellation);

        public override int OutputCount => 1;

        protected override string LabelRequirement => "a finite value";

        protected override bool IsValidLabel(float label) => float.IsFinite(label);

        protected override double RowLoss(Span<double> scores, float label, bool writeScoreGradient)
        {
            // Only evaluations count (they take the gradient); the all-zero model's loss, gathered while reading, does not.
            if (writeScoreGradient && cancellation.IsCancellationRequested)
            {
                Interlocked.Increment(ref _rowsAfterCancellation);
            }
            else if (writeScoreGradient && Interlocked.Increment(ref _rows) == cancelAfterRows)
            {
                cancellation.Cancel();
            }

            double residual = scores[0] - label;
            if (writeScoreGradient)
            {
                scores[0] = residual;
            }

            return 0.5 * residual * residual;
        }
    }

    private static TrainingData Regression() =>
        SyntheticData.Create(LabelKind.Regression, rowCount: Rows, featureCount: 3, seed: 11).Dense();

    [Fact]
    public void Lbfgs_on_cached_data_stops_inside_its_first_evaluation()
    {
        using var cancellation = new CancellationTokenSource();
        var objective = new CancellingObjective(cancellation, cancelAfterRows: 1_500);
        var loop = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new Lbfgs(), NumberOfEpochs = 5, CancellationToken = cancellation.Token,
        });

        Assert.ThrowsAny<OperationCanceledException>(() => loop.Train(Regression()));

        Assert.InRange(objective.RowsAfterCancellation, 0, RowsInFlight);
    }

    [Fact]
    public void Full_batch_sgd_on_streamed_data_stops_inside_a_chunk()
    {
        // 20,000 rows are five chunks of 4,096; cancelled after 100 rows of the first chunk.
        using var cancellation = new CancellationTokenSource();
        var objective = new CancellingObjective(cancellation, cancelAfterRows: 100);
        var loop = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new Sgd(0.1), BatchSize = 0, NumberOfEpochs = 5, CancellationToken = cancellation.Token,
        });

        Assert.ThrowsAny<OperationCanceledException>(() => loop.Train(new SlicedSource(Regression())));

        Assert.InRange(objective.RowsAfterCancellation, 0, RowsInFlight);
    }
}
