using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Training;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>What the trainers promise about the run: determinism, warm start, early stopping, cancellation, callbacks, penalties,
/// sparse input and example weights.</summary>
public class TrainingBehaviourTests
{
    private static LogisticRegressionTrainer.Options MiniBatchOptions(int? seed) => new()
    {
        FeatureColumnName = "Features",
        Optimizer = new Sgd(0.1, momentum: 0.9),
        BatchSize = 16,
        NumberOfEpochs = 5,
        Seed = seed,
    };

    private static float[] Weights(BinaryPredictionTransformer<Microsoft.ML.Calibrators.CalibratedModelParametersBase<Microsoft.ML.Trainers.LinearBinaryModelParameters, Microsoft.ML.Calibrators.PlattCalibrator>> model) =>
        [.. model.Model.SubModel.Weights, model.Model.SubModel.Bias];

    [Fact]
    public void Same_seed_gives_bit_identical_models_and_another_seed_does_not()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(SmallBinaryRows());

        float[] first = Weights(new LogisticRegressionTrainer(mlContext, MiniBatchOptions(seed: 5)).Fit(data));
        float[] second = Weights(new LogisticRegressionTrainer(mlContext, MiniBatchOptions(seed: 5)).Fit(data));
        float[] otherSeed = Weights(new LogisticRegressionTrainer(mlContext, MiniBatchOptions(seed: 6)).Fit(data));

        Assert.Equal(first, second);
        Assert.NotEqual(first, otherSeed);
    }

    [Fact]
    public void Rows_read_once_and_trained_by_the_trainers_loop_give_the_model_of_Fit()
    {
        var mlContext = new MLContext(seed: 1);
        var split = mlContext.Data.TrainTestSplit(mlContext.Data.LoadFromEnumerable(SmallBinaryRows()), testFraction: 0.3, seed: 2);
        var trainer = new LogisticRegressionTrainer(mlContext, MiniBatchOptions(seed: 5));

        var fitted = trainer.Fit(split.TrainSet, split.TestSet);
        var train = trainer.ReadTrainingData(split.TrainSet);
        var fromRows = trainer.CreateModel(split.TrainSet,
            trainer.CreateTrainingLoop(split.TrainSet).Train(train, trainer.ReadTrainingData(split.TestSet)));

        Assert.Equal(TrainerTestData.RowCount(split.TrainSet), train.RowCount);
        Assert.Equal(Weights(fitted), Weights(fromRows));
        Assert.Equal(Floats(fitted.Transform(split.TestSet), "Probability"), Floats(fromRows.Transform(split.TestSet), "Probability"));
    }

    [Fact]
    public void Without_a_seed_the_seeded_context_makes_runs_repeat()
    {
        float[] Run() => Weights(new MLContext(seed: 3).BinaryClassification.Trainers.LogisticRegression(MiniBatchOptions(seed: null))
            .Fit(new MLContext(seed: 3).Data.LoadFromEnumerable(SmallBinaryRows())));

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Without_a_seed_concurrent_fits_of_one_trainer_on_a_seeded_context_give_the_serial_model()
    {
        var mlContext = new MLContext(seed: 4);
        var data = mlContext.Data.LoadFromEnumerable(SmallBinaryRows());
        var trainer = mlContext.BinaryClassification.Trainers.LogisticRegression(MiniBatchOptions(seed: null));
        float[] serial = Weights(trainer.Fit(data));

        var concurrent = new float[8][];
        Parallel.For(0, concurrent.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => concurrent[i] = Weights(trainer.Fit(data)));

        Assert.All(concurrent, weights => Assert.Equal(serial, weights));
    }

    [Fact]
    public void Warm_start_continues_where_the_first_fit_stopped_for_every_model_type()
    {
        // Full-batch SGD without momentum has no optimizer state, so 5 epochs + 5 warm-started epochs are exactly 10 epochs.
        var mlContext = new MLContext(seed: 1);
        var binary = Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false);
        // γ = 0.1: at 0.5 full-batch SGD oscillates on these unnormalised features, and its 5-epoch model (loss 0.90 > log 2)
        // is refused by the final check as worse than the all-zero model.
        LogisticRegressionTrainer Logistic(int epochs) => new(mlContext, new() { Optimizer = new Sgd(0.1), NumberOfEpochs = epochs });
        var tenBinary = Logistic(10).Fit(binary).Model.SubModel;
        var warmBinary = Logistic(5).Fit(binary, Logistic(5).Fit(binary).Model).Model.SubModel;
        Assert.Equal(tenBinary.Weights, warmBinary.Weights);
        Assert.Equal(tenBinary.Bias, warmBinary.Bias);

        var multiclass = Featurized(mlContext, "iris", DataKind.Single, keyLabel: true);
        SoftmaxRegressionTrainer Softmax(int epochs) => new(mlContext, new() { Optimizer = new Sgd(0.5), NumberOfEpochs = epochs });
        var tenSoftmax = Softmax(10).Fit(multiclass).Model;
        var warmSoftmax = Softmax(5).Fit(multiclass, Softmax(5).Fit(multiclass).Model).Model;
        VBuffer<float>[] expected = [], actual = [];
        tenSoftmax.GetWeights(ref expected, out _);
        warmSoftmax.GetWeights(ref actual, out _);
        Assert.Equal(expected.SelectMany(r => r.DenseValues()), actual.SelectMany(r => r.DenseValues()));
        Assert.Equal(tenSoftmax.GetBiases(), warmSoftmax.GetBiases());

        var regression = Featurized(mlContext, "diabetes", DataKind.Single, keyLabel: false);
        LinearRegressionTrainer Linear(int epochs) => new(mlContext, new() { Optimizer = new Sgd(0.1), NumberOfEpochs = epochs });
        var tenLinear = Linear(10).Fit(regression).Model;
        var warmLinear = Linear(5).Fit(regression, Linear(5).Fit(regression).Model).Model;
        Assert.Equal(tenLinear.Weights, warmLinear.Weights);
        Assert.Equal(tenLinear.Bias, warmLinear.Bias);
    }

    [Fact]
    public void Models_interoperate_with_MlNet_Lbfgs_warm_starts_both_ways()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false);
        var theirs = mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression().Fit(data).Model;

        // A zero learning rate keeps the starting point, so the result is exactly ML.NET's model.
        var ours = mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0), numberOfEpochs: 1).Fit(data, theirs).Model;
        Assert.Equal(theirs.SubModel.Weights, ours.SubModel.Weights);
        Assert.Equal(theirs.SubModel.Bias, ours.SubModel.Bias);

        // And ML.NET's L-BFGS accepts our model as its starting point.
        var continued = mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression().Fit(data, ours.SubModel).Model;
        Assert.Equal(theirs.SubModel.Weights.Count, continued.SubModel.Weights.Count);
    }

    [Fact]
    public void Warm_start_from_a_model_of_another_width_is_rejected()
    {
        var mlContext = new MLContext(seed: 1);
        var threeFeatures = mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.1), numberOfEpochs: 1)
            .Fit(mlContext.Data.LoadFromEnumerable(SmallBinaryRows())).Model;

        var error = Assert.Throws<ArgumentException>(() => mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.1))
            .Fit(Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false), threeFeatures));
        Assert.Contains("3 features", error.Message);
    }

    [Fact]
    public void Early_stopping_stops_after_patience_epochs_without_improvement()
    {
        // A zero learning rate never improves the validation loss: epoch 1 sets the best, then `patience` epochs without improvement.
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(SmallBinaryRows());
        var reports = new List<EpochReport>();
        var trainer = mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0), NumberOfEpochs = 50, EarlyStoppingPatience = 2, OnEpochEnd = reports.Add,
        });

        trainer.Fit(data, mlContext.Data.LoadFromEnumerable(SmallBinaryRows(50, seed: 9)));

        Assert.Equal([1, 2, 3], reports.Select(r => r.Epoch));
        Assert.All(reports, r => Assert.NotNull(r.ValidationLoss));
    }

    [Fact]
    public void Validation_fraction_holds_out_rows_for_the_validation_loss()
    {
        var mlContext = new MLContext(seed: 1);
        var reports = new List<EpochReport>();
        mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0.5), NumberOfEpochs = 3, ValidationFraction = 0.25, Seed = 1, OnEpochEnd = reports.Add,
        }).Fit(mlContext.Data.LoadFromEnumerable(SmallBinaryRows()));

        Assert.Equal(3, reports.Count);
        Assert.All(reports, r => Assert.True(r.ValidationLoss is > 0 and < 0.7, $"validation loss {r.ValidationLoss}"));
    }

    [Fact]
    public void OnEpochEnd_reports_every_epoch_in_order_with_a_falling_full_batch_loss()
    {
        var mlContext = new MLContext(seed: 1);
        var reports = new List<EpochReport>();
        mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0.5), NumberOfEpochs = 6, OnEpochEnd = reports.Add,
        }).Fit(mlContext.Data.LoadFromEnumerable(SmallBinaryRows()));

        Assert.Equal([1, 2, 3, 4, 5, 6], reports.Select(r => r.Epoch));
        Assert.Equal(Math.Log(2), reports[0].TrainingLoss, 1e-6); // epoch 1's loss is taken at w = 0
        Assert.True(reports[^1].TrainingLoss < reports[0].TrainingLoss);
    }

    [Fact]
    public void Log_receives_the_progress_lines_that_also_go_to_the_context_log()
    {
        var mlContext = new MLContext(seed: 1);
        var contextLines = new List<string>();
        mlContext.Log += (_, e) => contextLines.Add(e.Message);
        var lines = new List<string>();
        mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0.5), NumberOfEpochs = 3, Log = lines.Add,
        }).Fit(mlContext.Data.LoadFromEnumerable(SmallBinaryRows()));

        Assert.Equal(3, lines.Count);
        Assert.StartsWith("epoch 1/3: loss ", lines[0]);
        Assert.All(lines, line => Assert.Contains(contextLines, message => message.EndsWith(line, StringComparison.Ordinal)));
    }

    [Fact]
    public void Cancellation_stops_training_with_OperationCanceledException()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(SmallBinaryRows());
        using var cancellation = new CancellationTokenSource();
        int epochsSeen = 0;
        var trainer = mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0.5),
            NumberOfEpochs = 100,
            CancellationToken = cancellation.Token,
            OnEpochEnd = r =>
            {
                epochsSeen = r.Epoch;
                if (r.Epoch == 2)
                {
                    cancellation.Cancel();
                }
            },
        });

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Fit(data));
        Assert.Equal(2, epochsSeen);
    }

    [Fact]
    public void L1_penalty_produces_exact_zero_weights()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false);
        float[] Train(double l1) => [.. mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Sgd(0.5), NumberOfEpochs = 100, L1Regularization = l1,
        }).Fit(data).Model.SubModel.Weights];

        int zerosWithout = Train(0).Count(w => w == 0);
        int zerosWith = Train(0.02).Count(w => w == 0);

        Assert.Equal(0, zerosWithout);
        Assert.InRange(zerosWith, 5, 29); // sparse, but not empty: the strongest features survive
    }

    private sealed class SparseRow
    {
        public bool Label { get; set; }

        [VectorType(6)]
        public VBuffer<float> Features { get; set; }
    }

    [Fact]
    public void Sparse_feature_vectors_train_like_their_dense_equivalent()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SmallBinaryRows();
        // Slots 0, 2, 4 hold the features; 1, 3, 5 are always zero and never stored.
        var sparse = rows.Select(r => new SparseRow { Label = r.Label, Features = new VBuffer<float>(6, 3, r.Features, [0, 2, 4]) });
        var dense = rows.Select(r => new SparseRow
        {
            Label = r.Label, Features = new VBuffer<float>(6, [r.Features[0], 0, r.Features[1], 0, r.Features[2], 0]),
        });
        float[] Train(IEnumerable<SparseRow> data) => [.. mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.5), numberOfEpochs: 20)
            .Fit(mlContext.Data.LoadFromEnumerable(data)).Model.SubModel.Weights];

        float[] fromSparse = Train(sparse), fromDense = Train(dense);

        Assert.Equal(0f, fromSparse[1]);
        for (int j = 0; j < 6; j++)
        {
            Assert.Equal(fromDense[j], fromSparse[j], 1e-5f); // same math, summed in another order
        }
    }

    [Fact]
    public void Dense_rows_followed_by_sparse_rows_train_like_their_dense_equivalent()
    {
        // The reader sizes one dense matrix for all rows (the view knows its row count) when the first row is dense, and
        // must switch to CSR, keeping the dense rows read so far, when a sparse row arrives later.
        var mlContext = new MLContext(seed: 1);
        var rows = SmallBinaryRows();
        VBuffer<float> Dense(Row r) => new(6, [r.Features[0], 0, r.Features[1], 0, r.Features[2], 0]);
        var mixed = rows.Select((r, i) => new SparseRow
        {
            Label = r.Label, Features = i < 5 ? Dense(r) : new VBuffer<float>(6, 3, r.Features, [0, 2, 4]),
        });
        var dense = rows.Select(r => new SparseRow { Label = r.Label, Features = Dense(r) });
        float[] Train(IEnumerable<SparseRow> data) => [.. mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.5), numberOfEpochs: 20)
            .Fit(mlContext.Data.LoadFromEnumerable(data.ToList())).Model.SubModel.Weights];

        float[] fromMixed = Train(mixed), fromDense = Train(dense);

        for (int j = 0; j < 6; j++)
        {
            Assert.Equal(fromDense[j], fromMixed[j], 1e-5f); // same math, summed in another order
        }

        Assert.NotEqual(0f, fromMixed[0]);
    }

    [Fact]
    public void An_example_weight_of_two_equals_a_duplicated_row()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SmallBinaryRows(60);
        var weighted = rows.Select((r, i) => new Row { Label = r.Label, Features = r.Features, Weight = i % 3 == 0 ? 2 : 1 });
        var duplicated = rows.SelectMany((r, i) => i % 3 == 0 ? new[] { r, r } : [r]);
        float[] Train(IEnumerable<Row> data, string? weightColumn) => [.. mlContext.BinaryClassification.Trainers.LogisticRegression(
            exampleWeightColumnName: weightColumn, optimizer: new Sgd(0.5), numberOfEpochs: 20)
            .Fit(mlContext.Data.LoadFromEnumerable(data)).Model.SubModel.Weights];

        float[] fromWeights = Train(weighted, "Weight"), fromDuplicates = Train(duplicated, null);

        for (int j = 0; j < fromWeights.Length; j++)
        {
            Assert.Equal(fromDuplicates[j], fromWeights[j], 1e-5f);
        }
    }

    /// <summary>Every rule at a learning rate suited to normalised features and a standardised regression label.</summary>
    public static TheoryData<string, IOptimizer> Optimizers => new()
    {
        { "sgd", new Sgd(0.1) },
        { "momentum", new Sgd(0.1, momentum: 0.9) },
        { "nesterov", new Sgd(0.1, momentum: 0.9, nesterov: true) },
        { "adagrad", new Adagrad(0.5) },
        { "rmsprop", new RmsProp(0.02) },
        { "adadelta", new Adadelta(10.0) },
        { "adam", new Adam(0.05) },
        { "adamw", new AdamW(0.05) },
        { "adamax", new Adamax(0.05) },
        { "nadam", new NAdam(0.05) },
        { "radam", new RAdam(0.2) },
        { "schedule-free adamw", new ScheduleFreeAdamW(0.05) },
        { "schedule-free sgd", new ScheduleFreeSgd(0.25) },
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Every_optimizer_trains_every_model_type_to_a_sensible_loss(string name, IOptimizer optimizer)
    {
        var mlContext = new MLContext(seed: 1);
        var binaryLoss = LastLoss(o => new LogisticRegressionTrainer(mlContext, Configure(new LogisticRegressionTrainer.Options(), optimizer, o))
            .Fit(Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false)));
        var softmaxLoss = LastLoss(o => new SoftmaxRegressionTrainer(mlContext, Configure(new SoftmaxRegressionTrainer.Options(), optimizer, o))
            .Fit(Featurized(mlContext, "wine", DataKind.Single, keyLabel: true)));
        IDataView diabetes = Featurized(mlContext, "diabetes", DataKind.Single, keyLabel: false);
        diabetes = mlContext.Transforms.NormalizeMeanVariance("Label").Fit(diabetes).Transform(diabetes);
        var regressionLoss = LastLoss(o => new LinearRegressionTrainer(mlContext, Configure(new LinearRegressionTrainer.Options(), optimizer, o)).Fit(diabetes));

        Assert.True(binaryLoss < 0.2, $"{name}: logistic loss {binaryLoss} (start: ln 2 = 0.69)");
        Assert.True(softmaxLoss < 0.45, $"{name}: softmax loss {softmaxLoss} (start: ln 3 = 1.10)");
        Assert.True(regressionLoss < 0.35, $"{name}: squared loss {regressionLoss} (start: ½·E[y²] = 0.5; least squares ≈ 0.24)");
    }

    private static double LastLoss(Action<Action<EpochReport>> fit)
    {
        double last = double.NaN;
        fit(r => last = r.TrainingLoss);
        return last;
    }

    private static T Configure<T>(T options, IOptimizer optimizer, Action<EpochReport> onEpochEnd) where T : LinearTrainerOptions
    {
        options.Optimizer = optimizer;
        options.BatchSize = 32;
        options.NumberOfEpochs = 20;
        options.Seed = 1;
        options.OnEpochEnd = onEpochEnd;
        return options;
    }

    /// <summary>A data set run through Concatenate → NormalizeMeanVariance (and MapValueToKey for multiclass) once, for bare trainers.</summary>
    internal static IDataView Featurized(MLContext mlContext, string dataset, DataKind labelKind, bool keyLabel)
    {
        IDataView raw = Load(mlContext, dataset, labelKind);
        return Featurize(mlContext, keyLabel).Fit(raw).Transform(raw);
    }
}
