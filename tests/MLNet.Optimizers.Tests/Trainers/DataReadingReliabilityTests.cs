using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>
/// How the trainers read an <see cref="IDataView"/>: classes without weight are refused, cancellation is seen while
/// reading, streamed errors name the global row and the column, I/O faults keep their cause, and chunked storage
/// (unknown row count) trains exactly like a single array (known row count).
/// </summary>
public class DataReadingReliabilityTests
{
    private static readonly MLContext Context = new(seed: 1);

    private static LogisticRegressionTrainer Trainer(bool cacheData = true, string? weightColumn = null, int batchSize = 0,
        CancellationToken cancellationToken = default) =>
        Context.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0.1),
            NumberOfEpochs = 1,
            BatchSize = batchSize,
            CacheData = cacheData,
            ExampleWeightColumnName = weightColumn,
            CancellationToken = cancellationToken,
        });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_binary_class_whose_weights_are_all_zero_fails_the_both_classes_check(bool cacheData)
    {
        Row[] rows = SmallBinaryRows(40);
        foreach (Row row in rows.Where(r => !r.Label))
        {
            row.Weight = 0;
        }

        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer(cacheData, weightColumn: "Weight").Fit(Context.Data.LoadFromEnumerable(rows)));

        Assert.Contains("positive total example weight in only the class true", error.Message);
        Assert.Contains("needs both classes", error.Message);
    }

    private sealed class ClassRow
    {
        public float Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [1, 2, 3];

        public float Weight { get; set; }
    }

    [Fact]
    public void A_multiclass_set_with_weight_in_one_class_only_is_refused()
    {
        var rows = Enumerable.Range(0, 30).Select(i => new ClassRow { Label = i % 3, Features = [i, -i, 1], Weight = i % 3 == 1 ? 2 : 0 });
        var data = Context.Transforms.Conversion.MapValueToKey("Label").Fit(Context.Data.LoadFromEnumerable(rows))
            .Transform(Context.Data.LoadFromEnumerable(rows));

        var error = Assert.ThrowsAny<ArgumentException>(() => Context.MulticlassClassification.Trainers
            .SoftmaxRegression(new SoftmaxRegressionTrainer.Options { Optimizer = new Sgd(0.1), ExampleWeightColumnName = "Weight" }).Fit(data));

        Assert.Contains("positive total example weight in only the class", error.Message);
        Assert.Contains("needs at least two classes", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Cancellation_is_seen_while_reading_within_a_few_thousand_rows(bool cacheData)
    {
        const int CancelAt = 10_000;
        using var cancellation = new CancellationTokenSource();
        int produced = 0;
        IEnumerable<Row> Rows()
        {
            var random = new Random(5);
            for (int i = 0; i < 200_000; i++)
            {
                if (++produced == CancelAt)
                {
                    cancellation.Cancel();
                }

                yield return new Row { Label = i % 2 == 0, Features = [(float)random.NextDouble(), 1, 2] };
            }
        }

        Assert.ThrowsAny<OperationCanceledException>(() => Trainer(cacheData, cancellationToken: cancellation.Token).Fit(Context.Data.LoadFromEnumerable(Rows())));

        Assert.InRange(produced, CancelAt, CancelAt + 2 * 4096);
    }

    [Fact]
    public void An_already_cancelled_token_reads_nothing()
    {
        int produced = 0;
        IEnumerable<Row> Rows()
        {
            foreach (Row row in SmallBinaryRows(1000))
            {
                produced++;
                yield return row;
            }
        }

        Assert.ThrowsAny<OperationCanceledException>(() => Trainer(cancellationToken: new CancellationToken(canceled: true))
            .Fit(Context.Data.LoadFromEnumerable(Rows())));
        Assert.Equal(0, produced);
    }

    private sealed class SparseRow
    {
        public bool Label { get; set; }

        [VectorType(5)]
        public VBuffer<float> Features { get; set; }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_malformed_sparse_vector_is_reported_with_the_global_row_and_the_column(bool cacheData)
    {
        var rows = Enumerable.Range(0, 300).Select(i => new SparseRow
        {
            Label = i % 2 == 0,
            Features = i == 250 ? new VBuffer<float>(5, 2, [1f, 2f], [3, 1]) : new VBuffer<float>(5, 2, [1f, i], [0, 4]),
        }).ToArray();

        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer(cacheData, batchSize: 100).Fit(Context.Data.LoadFromEnumerable(rows)));

        Assert.Contains("Feature column 'Features' of the training data, row 250: slot index 1 at position 1", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_io_fault_of_the_cursor_keeps_its_cause_and_names_the_row(bool cacheData)
    {
        var fault = new IOException("disk went away");
        IEnumerable<Row> Rows()
        {
            Row[] rows = SmallBinaryRows(300);
            for (int i = 0; i < rows.Length; i++)
            {
                if (i == 150)
                {
                    throw fault;
                }

                yield return rows[i];
            }
        }

        var error = Assert.Throws<IOException>(() => Trainer(cacheData, batchSize: 64).Fit(Context.Data.LoadFromEnumerable(Rows())));

        Assert.Contains(cacheData ? "training data into memory (before the first epoch) failed at row 150" : "Epoch 1 (streamed train data", error.Message);
        Assert.Contains("failed at row 150: IOException: disk went away", error.Message);
        Assert.Same(fault, Causes(error).Last(e => e is IOException));
    }

    [Fact]
    public void A_streamed_io_fault_names_the_epoch_and_the_row_and_keeps_its_cause()
    {
        var fault = new IOException("disk went away");
        int passes = 0;
        IEnumerable<Row> Rows()
        {
            passes++;
            Row[] rows = SmallBinaryRows(300);
            for (int i = 0; i < rows.Length; i++)
            {
                if (passes == 3 && i == 200)
                {
                    throw fault;
                }

                yield return rows[i];
            }
        }

        var trainer = Context.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0.1), NumberOfEpochs = 5, BatchSize = 64, CacheData = false,
        });

        var error = Assert.Throws<IOException>(() => trainer.Fit(Context.Data.LoadFromEnumerable(Rows())));

        Assert.StartsWith("Epoch 3 (streamed train data", error.Message);
        Assert.Contains("failed at row 200: IOException: disk went away", error.Message);
        Assert.Same(fault, Causes(error).Last(e => e is IOException));
    }

    [Fact]
    public void A_streamed_pass_stops_within_a_block_of_rows_after_cancellation()
    {
        // L-BFGS reads the data once per evaluation; the token is cancelled 100 rows into the second pass.
        const int RowCount = 10_000, CancelAt = RowCount + 100;
        using var cancellation = new CancellationTokenSource();
        int produced = 0;
        IEnumerable<Row> Rows()
        {
            var random = new Random(5);
            for (int i = 0; i < RowCount; i++)
            {
                if (++produced == CancelAt)
                {
                    cancellation.Cancel();
                }

                yield return new Row { Label = i % 2 == 0, Features = [(float)random.NextDouble(), 1, 2] };
            }
        }

        var trainer = Context.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Lbfgs(), NumberOfEpochs = 5, CacheData = false, CancellationToken = cancellation.Token,
        });

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Fit(Context.Data.LoadFromEnumerable(Rows())));

        Assert.InRange(produced - CancelAt, 0, 1024);
    }

    [Fact]
    public void Data_of_unknown_length_read_in_chunks_trains_bit_identically_to_data_of_known_length()
    {
        // 90,000 rows × 50 features is 4.5 Mi values: more than one 4 Mi chunk, so rows on both sides of the boundary are read.
        const int Rows = 90_000, Features = 50;
        var random = new Random(9);
        var rows = new WideRow[Rows];
        for (int i = 0; i < Rows; i++)
        {
            float[] x = new float[Features];
            for (int j = 0; j < Features; j++)
            {
                x[j] = (float)(random.NextDouble() * 2 - 1);
            }

            rows[i] = new WideRow { Features = x, Label = x[0] - x[Features - 1] > 0 };
        }

        IEnumerable<WideRow> Lazily()
        {
            foreach (WideRow row in rows)
            {
                yield return row;
            }
        }

        IDataView unknown = Context.Data.LoadFromEnumerable(Lazily());
        Assert.Null(unknown.GetRowCount());
        var known = new KnownRowCountView(unknown, Rows);

        float[] Weights(IDataView data) => [.. Trainer().Fit(data).Model.SubModel.Weights.ToArray()];

        Assert.Equal(Weights(known), Weights(unknown));
    }

    private sealed class WideRow
    {
        public bool Label { get; set; }

        [VectorType(50)]
        public float[] Features { get; set; } = [];
    }


    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
