using System.Text.RegularExpressions;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Tests.Training;

public class TrainingLoopTests
{
    [Theory]
    [InlineData(LabelKind.Binary, 0.35)]
    [InlineData(LabelKind.Multiclass, 0.45)]
    [InlineData(LabelKind.Regression, 0.1)]
    public void Sgd_mini_batches_reach_a_sensible_loss(LabelKind kind, double maximumLoss)
    {
        // Start: all-zero parameters give log 2 ≈ 0.693 (binary), log 3 ≈ 1.099 (3 classes), and ½·E[y²] (regression).
        // The labels come from a noisy linear model, so a fitted linear model must get well below the start.
        var synthetic = SyntheticData.Create(kind, rowCount: 600, featureCount: 6, seed: 1, zeroFraction: 0);
        var objective = ObjectiveTests.Create(kind);
        var data = synthetic.Dense();
        var trainer = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0.05, momentum: 0.9),
            BatchSize = 32,
            NumberOfEpochs = 15,
            L2Regularization = 0,
            Seed = 7,
        });

        var result = trainer.Train(data);

        double start = objective.Loss(data, new float[result.Layout.ParameterCount]);
        double final = objective.Loss(data, result.Parameters);
        Assert.True(final < maximumLoss && final < 0.5 * start, $"loss went from {start} to {final}");
        Assert.Equal(15, result.History.Count);
        Assert.True(result.History[^1].TrainingLoss < result.History[0].TrainingLoss);
    }

    [Fact]
    public void L1_sets_uninformative_weights_exactly_to_zero_but_never_the_bias()
    {
        // Only features 1 and 2 drive the label (the generator's true weights are 0, 1, 2.1, then 0 from feature 3 on);
        // L1 must zero most of the seven uninformative weights exactly and keep the two.
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 400, featureCount: 10, seed: 2, zeroFraction: 0, informativeFeatures: 3);
        var trainer = new TrainingLoop(new LogisticObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0.5),
            NumberOfEpochs = 200, // full batch: proximal gradient descent (ISTA), which reaches the exact zeros of the L1 optimum
            L2Regularization = 0,
            L1Regularization = 0.02,
        });

        var result = trainer.Train(synthetic.Dense());

        var weights = result.Layout.Weights((ReadOnlySpan<float>)result.Parameters).ToArray();
        Assert.True(weights[1] > 0.5 && weights[2] > 0.5, $"weights: {string.Join(", ", weights)}");
        Assert.True(weights.Skip(3).Count(w => w == 0f) >= 6, $"weights: {string.Join(", ", weights)}");
        Assert.NotEqual(0f, result.Layout.Biases((ReadOnlySpan<float>)result.Parameters)[0]);
    }

    [Fact]
    public void L1_soft_threshold_matches_hand_computation()
    {
        // One full-batch SGD step from θ0 = (w = [0.5, −0.01], b = 0.2), γ = 0.1, L1 = 0.5 → threshold γ·L1 = 0.05.
        // Regression rows x = (1, 0), y = 0.7 and x = (0, 1), y = 0.2 (unweighted):
        //   scores s = (0.5 + 0.2, −0.01 + 0.2) = (0.7, 0.19); residuals r = s − y = (0, −0.01)
        //   ∂/∂w = mean(r·x) = (0, −0.005); ∂/∂b = mean(r) = −0.005
        //   SGD: w = (0.5, −0.01 + 0.0005) = (0.5, −0.0095); b = 0.2 + 0.0005 = 0.2005
        //   soft-threshold: w = (0.45, 0) (|−0.0095| < 0.05); b untouched = 0.2005
        var data = TrainingData.Dense(2, [1f, 0f, 0f, 1f], [0.7f, 0.2f], null);
        var trainer = new TrainingLoop(new SquaredObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0.1),
            NumberOfEpochs = 1,
            L2Regularization = 0,
            L1Regularization = 0.5,
        });

        var result = trainer.Train(data, initialParameters: [0.5f, -0.01f, 0.2f]);

        Assert.Equal(0.45f, result.Parameters[0], 1e-6f);
        Assert.Equal(0f, result.Parameters[1]);
        Assert.Equal(0.2005f, result.Parameters[2], 1e-6f);
    }

    [Fact]
    public void L2_adds_lambda_w_to_weight_gradients_and_nothing_to_the_bias()
    {
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 50, featureCount: 3, seed: 3);
        var data = synthetic.Dense();
        var objective = new LogisticObjective();
        float[] start = [0.4f, -0.3f, 0.2f, 1.5f];
        var dataGradient = new float[4];
        objective.LossAndGradient(data, start, dataGradient);
        const double learningRate = 0.5, l2 = 0.3;
        var trainer = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new Sgd(learningRate),
            NumberOfEpochs = 1,
            L2Regularization = l2,
        });

        var result = trainer.Train(data, initialParameters: start);

        for (int j = 0; j < 3; j++)
        {
            double expected = start[j] - (learningRate * (dataGradient[j] + (l2 * start[j])));
            Assert.Equal(expected, result.Parameters[j], 1e-6);
        }

        // The bias moves by the data gradient alone, exactly as a plain SGD step on it.
        Assert.Equal(start[3] - ((float)learningRate * dataGradient[3]), result.Parameters[3]);
        Assert.NotEqual(start[3] - (learningRate * (dataGradient[3] + (l2 * start[3]))), result.Parameters[3], 1e-3);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Same_data_options_and_seed_give_bit_identical_parameters(bool sparse)
    {
        var synthetic = SyntheticData.Create(LabelKind.Multiclass, rowCount: 2500, featureCount: 5, seed: 4, weighted: true);
        var data = sparse ? synthetic.Sparse() : synthetic.Dense();
        TrainingOptions Options() => new()
        {
            Optimizer = new Sgd(learningRate: 0.05, momentum: 0.9, nesterov: true),
            BatchSize = 1500, // two blocks of rows per batch: the parallel path
            NumberOfEpochs = 3,
            Seed = 42,
            L2Regularization = 1e-3,
            ValidationFraction = 0.2,
        };

        var first = new TrainingLoop(new SoftmaxObjective(3), Options()).Train(data);
        var second = new TrainingLoop(new SoftmaxObjective(3), Options()).Train(data);
        var otherSeed = Options();
        otherSeed.Seed = 43;
        var third = new TrainingLoop(new SoftmaxObjective(3), otherSeed).Train(data);

        Assert.Equal(Bits(first.Parameters), Bits(second.Parameters));
        Assert.Equal(first.History.Select(r => r.ValidationLoss), second.History.Select(r => r.ValidationLoss));
        Assert.NotEqual(Bits(first.Parameters), Bits(third.Parameters));
    }

    [Fact]
    public void Warm_start_continues_where_the_previous_run_stopped()
    {
        // Plain full-batch SGD has no optimizer state, so 3 epochs + a warm-started 2 equal 5 epochs bit for bit.
        var data = SyntheticData.Create(LabelKind.Regression, rowCount: 200, featureCount: 4, seed: 5).Dense();
        TrainingLoop Trainer(int epochs) => new(new SquaredObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0.1),
            NumberOfEpochs = epochs,
            L2Regularization = 0,
        });

        var straight = Trainer(5).Train(data);
        var firstPart = Trainer(3).Train(data);
        var continued = Trainer(2).Train(data, initialParameters: firstPart.Parameters);

        Assert.Equal(Bits(straight.Parameters), Bits(continued.Parameters));
        Assert.Equal(straight.History[3].TrainingLoss, continued.History[0].TrainingLoss);
    }

    [Fact]
    public void Early_stopping_stops_after_patience_and_returns_the_best_epoch()
    {
        // Training targets y = x·w*, validation targets 0.5·x·w*: full-batch GD from 0 moves towards w*, so the validation
        // loss first falls (towards 0.5·w*) and then rises; the best epoch lies in between.
        var synthetic = SyntheticData.Create(LabelKind.Regression, rowCount: 300, featureCount: 4, seed: 6, zeroFraction: 0);
        var train = synthetic.Dense();
        var halfLabels = synthetic.Labels.Select(y => 0.5f * y).ToArray();
        var validation = TrainingData.Dense(4, (float[])synthetic.Features.Clone(), halfLabels, null);
        TrainingOptions Options(int epochs) => new()
        {
            Optimizer = new Sgd(learningRate: 0.05),
            NumberOfEpochs = epochs,
            L2Regularization = 0,
            EarlyStoppingPatience = 3,
            EarlyStoppingTolerance = 1e-6,
        };

        var result = new TrainingLoop(new SquaredObjective(), Options(200)).Train(train, validation);

        Assert.True(result.StoppedEarly);
        Assert.InRange(result.BestEpoch, 2, 150);
        Assert.Equal(result.BestEpoch + 3, result.History.Count);
        double bestValidation = result.History.Min(r => r.ValidationLoss!.Value);
        Assert.Equal(bestValidation, result.History[result.BestEpoch - 1].ValidationLoss);
        var rerun = new TrainingLoop(new SquaredObjective(), Options(result.BestEpoch)).Train(train, validation);
        Assert.Equal(Bits(rerun.Parameters), Bits(result.Parameters));
    }

    [Fact]
    public void Without_validation_patience_watches_the_training_loss()
    {
        // γ = 0 never changes the parameters: the training loss never improves after epoch 1, so patience 2 stops at epoch 3.
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 50, featureCount: 3, seed: 7).Dense();
        var result = new TrainingLoop(new LogisticObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0),
            NumberOfEpochs = 10,
            L2Regularization = 0,
            EarlyStoppingPatience = 2,
        }).Train(data);

        Assert.True(result.StoppedEarly);
        Assert.Equal(3, result.History.Count);
        Assert.Equal(1, result.BestEpoch);
    }

    [Fact]
    public void Cancellation_throws_at_the_next_batch()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 100, featureCount: 3, seed: 8).Dense();
        using var cancellation = new CancellationTokenSource();
        var epochs = new List<int>();
        var trainer = new TrainingLoop(new LogisticObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(),
            BatchSize = 10,
            NumberOfEpochs = 10,
            L2Regularization = 0,
            CancellationToken = cancellation.Token,
            OnEpochEnd = report =>
            {
                epochs.Add(report.Epoch);
                if (report.Epoch == 2)
                {
                    cancellation.Cancel();
                }
            },
        });

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(data));
        Assert.Equal([1, 2], epochs);
    }

    [Fact]
    public void Epoch_reports_count_from_one_with_steps_and_full_batch_loss_before_the_step()
    {
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 80, featureCount: 3, seed: 9);
        var data = synthetic.Dense();
        var objective = new LogisticObjective();
        TrainingOptions Options(int epochs, int batchSize, List<EpochReport> reports) => new()
        {
            Optimizer = new Sgd(learningRate: 0.5),
            NumberOfEpochs = epochs,
            L2Regularization = 0,
            BatchSize = batchSize,
            OnEpochEnd = reports.Add,
        };

        var fullBatch = new List<EpochReport>();
        new TrainingLoop(objective, Options(3, 0, fullBatch)).Train(data);
        var miniBatch = new List<EpochReport>();
        new TrainingLoop(objective, Options(2, 30, miniBatch)).Train(data);

        Assert.Equal([1, 2, 3], fullBatch.Select(r => r.Epoch));
        Assert.Equal([1L, 2L, 3L], fullBatch.Select(r => r.Steps));
        Assert.Equal([3L, 6L], miniBatch.Select(r => r.Steps)); // 80 rows in batches of 30: 30, 30, 20
        // Epoch e's loss is taken before its step, i.e. at the parameters after e − 1 epochs (zeros for e = 1).
        Assert.Equal(objective.Loss(data, new float[4]), fullBatch[0].TrainingLoss);
        for (int epoch = 2; epoch <= 3; epoch++)
        {
            var previous = new TrainingLoop(objective, Options(epoch - 1, 0, [])).Train(data);
            Assert.Equal(objective.Loss(data, previous.Parameters), fullBatch[epoch - 1].TrainingLoss);
        }
    }

    [Fact]
    public void Log_writes_one_line_per_epoch_with_loss_validation_rate_and_time()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 100, featureCount: 3, seed: 10).Dense();
        var lines = new List<string>();
        new TrainingLoop(new LogisticObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0.001),
            NumberOfEpochs = 2,
            L2Regularization = 0,
            ValidationFraction = 0.25,
            Log = lines.Add,
        }).Train(data);

        Assert.Equal(2, lines.Count);
        Assert.Matches(new Regex(@"^epoch 2/2: loss \d\.\d{6}, validation \d\.\d{6}, lr 0\.001, \d+ ms$"), lines[1]);
    }

    [Fact]
    public void Divergence_throws_naming_the_epoch_and_the_fix()
    {
        var data = SyntheticData.Create(LabelKind.Regression, rowCount: 100, featureCount: 3, seed: 11).Dense();
        var trainer = new TrainingLoop(new SquaredObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 1e30),
            NumberOfEpochs = 10,
            L2Regularization = 0,
        });

        var error = Assert.Throws<InvalidOperationException>(() => trainer.Train(data));

        Assert.Matches(new Regex(@"diverged in epoch [12]\b"), error.Message);
        Assert.Contains("smaller learning rate", error.Message);
        Assert.Contains("normalise the features", error.Message);
    }

    public static TheoryData<string, Action<TrainingOptions>> InvalidOptions() => new()
    {
        { nameof(TrainingOptions.Optimizer), o => o.Optimizer = null! },
        { nameof(TrainingOptions.NumberOfEpochs), o => o.NumberOfEpochs = -1 },
        { nameof(TrainingOptions.NumberOfEpochs), o => o.NumberOfEpochs = 0 },
        { nameof(TrainingOptions.BatchSize), o => o.BatchSize = -1 },
        { nameof(TrainingOptions.L2Regularization), o => o.L2Regularization = -0.1 },
        { nameof(TrainingOptions.L2Regularization), o => o.L2Regularization = double.NaN },
        { nameof(TrainingOptions.L1Regularization), o => o.L1Regularization = double.PositiveInfinity },
        { nameof(TrainingOptions.ValidationFraction), o => o.ValidationFraction = 0 },
        { nameof(TrainingOptions.ValidationFraction), o => o.ValidationFraction = 1 },
        { nameof(TrainingOptions.ValidationFraction), o => o.ValidationFraction = double.NaN },
        { nameof(TrainingOptions.EarlyStoppingPatience), o => o.EarlyStoppingPatience = 0 },
        { nameof(TrainingOptions.EarlyStoppingTolerance), o => o.EarlyStoppingTolerance = -1 },
        { nameof(TrainingOptions.GradientClipNorm), o => o.GradientClipNorm = 0 },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_options_are_rejected_naming_the_option(string option, Action<TrainingOptions> corrupt)
    {
        var options = new TrainingOptions { Optimizer = new Sgd() };
        corrupt(options);

        var error = Assert.ThrowsAny<ArgumentException>(() => new TrainingLoop(new LogisticObjective(), options));

        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void Options_changed_after_construction_do_not_affect_the_trainer()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 40, featureCount: 2, seed: 12).Dense();
        var options = new TrainingOptions { Optimizer = new Sgd(), NumberOfEpochs = 2, L2Regularization = 0 };
        var trainer = new TrainingLoop(new LogisticObjective(), options);
        options.NumberOfEpochs = -5;

        Assert.Equal(2, trainer.Train(data).History.Count);
    }

    [Fact]
    public void Gradient_clipping_bounds_the_step()
    {
        // From zero, one full-batch SGD step with γ = 1 moves the parameters by exactly the clipped gradient, whose
        // norm is max_norm·‖g‖/(‖g‖ + 1e-6) ≈ 0.01 (the data gradient's norm is far larger).
        var data = SyntheticData.Create(LabelKind.Regression, rowCount: 100, featureCount: 3, seed: 13).Dense();
        var result = new TrainingLoop(new SquaredObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 1),
            NumberOfEpochs = 1,
            L2Regularization = 0,
            GradientClipNorm = 0.01,
        }).Train(data);

        double norm = Math.Sqrt(result.Parameters.Sum(p => (double)p * p));
        Assert.Equal(0.01, norm, 1e-6);
    }

    [Fact]
    public void Validation_and_result_use_the_optimizer_evaluation_point()
    {
        // A rule whose evaluation point is the training point + 1 (as schedule-free rules export x, not y).
        // Labels x₀ + x₁ + 1 make the all-ones export the exact fit (the final check refuses a model worse than all zeros).
        var synthetic = SyntheticData.Create(LabelKind.Regression, rowCount: 60, featureCount: 2, seed: 14);
        float[] labels = [.. Enumerable.Range(0, synthetic.RowCount).Select(i => synthetic.Features[2 * i] + synthetic.Features[(2 * i) + 1] + 1f)];
        var train = TrainingData.Dense(2, (float[])synthetic.Features.Clone(), labels, null);
        var validation = SyntheticData.Create(LabelKind.Regression, rowCount: 30, featureCount: 2, seed: 15).Dense();
        var objective = new SquaredObjective();
        var reports = new List<EpochReport>();

        var result = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new ShiftedEvaluationPoint(),
            NumberOfEpochs = 2,
            L2Regularization = 0,
            KeepBestModel = false,
            OnEpochEnd = reports.Add,
        }).Train(train, validation);

        // The training point is still zero (the rule never moves it), so the export and validation use all-ones.
        Assert.Equal([1f, 1f, 1f], result.Parameters);
        Assert.Equal(objective.Loss(validation, [1f, 1f, 1f]), reports[1].ValidationLoss);
        Assert.Equal(objective.Loss(train, new float[3]), reports[1].TrainingLoss);
    }

    [Fact]
    public void Without_keep_best_model_the_last_epoch_is_returned()
    {
        var synthetic = SyntheticData.Create(LabelKind.Regression, rowCount: 100, featureCount: 3, seed: 16, zeroFraction: 0);
        var validation = TrainingData.Dense(3, (float[])synthetic.Features.Clone(), [.. synthetic.Labels.Select(y => -y)], null);
        TrainingOptions Options(int epochs, bool keepBest) => new()
        {
            Optimizer = new Sgd(learningRate: 0.1),
            NumberOfEpochs = epochs,
            L2Regularization = 0,
            KeepBestModel = keepBest,
        };

        // Validation labels are negated, so every epoch makes validation worse: the best epoch is 1.
        var last = new TrainingLoop(new SquaredObjective(), Options(4, keepBest: false)).Train(synthetic.Dense(), validation);
        var best = new TrainingLoop(new SquaredObjective(), Options(4, keepBest: true)).Train(synthetic.Dense(), validation);
        var fourEpochs = new TrainingLoop(new SquaredObjective(), Options(4, keepBest: false)).Train(synthetic.Dense());
        var oneEpoch = new TrainingLoop(new SquaredObjective(), Options(1, keepBest: false)).Train(synthetic.Dense());

        Assert.Equal(1, last.BestEpoch);
        Assert.Equal(Bits(fourEpochs.Parameters), Bits(last.Parameters));
        Assert.Equal(Bits(oneEpoch.Parameters), Bits(best.Parameters));
    }

    /// <summary>Never moves the training point; exports it shifted by +1.</summary>
    private sealed class ShiftedEvaluationPoint() : FirstOrderOptimizer(learningRate: 0.1)
    {
        public override string Name => "Shifted";

        public override bool HasSeparateEvaluationPoint => true;

        public override OptimizerState CreateState(int parameterCount) => new(Name, parameterCount);

        public override void WriteEvaluationPoint(ReadOnlySpan<float> parameters, OptimizerState state, Span<float> destination)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                destination[i] = parameters[i] + 1;
            }
        }

        public override IOptimizer WithLearningRate(double learningRate) => this;

        public override string ToString() => Name;

        protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
        {
        }
    }

    [Fact]
    public void Unusable_data_is_rejected_before_training()
    {
        var trainer = new TrainingLoop(new LogisticObjective(), new TrainingOptions { Optimizer = new Sgd() });
        var train = TrainingData.Dense(1, [1f, 2f], [0f, 1f], null);

        var badLabel = Assert.Throws<ArgumentException>(() => trainer.Train(train, TrainingData.Dense(1, [1f], [3f], null)));
        var noWeight = Assert.Throws<ArgumentException>(() => trainer.Train(TrainingData.Dense(1, [1f, 2f], [0f, 1f], [0f, 0f])));
        var wrongWidth = Assert.Throws<ArgumentException>(() => trainer.Train(train, TrainingData.Dense(2, [1f, 2f], [1f], null)));
        var wrongStart = Assert.Throws<ArgumentException>(() => trainer.Train(train, initialParameters: [1f, 2f, 3f]));

        Assert.Contains("Row 0: label is 3", badLabel.Message);
        Assert.Equal("train", noWeight.ParamName);
        Assert.Equal("validation", wrongWidth.ParamName);
        Assert.Equal("initialParameters", wrongStart.ParamName);
    }

    [Theory]
    [InlineData("iris", 3, 0.95)]
    [InlineData("breast_cancer", 2, 0.97)]
    [InlineData("wine", 3, 0.97)]
    public void Sample_data_sets_are_learned_to_high_training_accuracy(string name, int classCount, double minimumAccuracy)
    {
        var (data, features) = SampleCsv.LoadStandardized(name);
        LinearObjective objective = classCount == 2 ? new LogisticObjective() : new SoftmaxObjective(classCount);
        var result = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0.1, momentum: 0.9),
            BatchSize = 16,
            NumberOfEpochs = 30,
            L2Regularization = 0,
            Seed = 3,
        }).Train(data);

        var layout = result.Layout;
        ReadOnlySpan<float> parameters = result.Parameters;
        int correct = 0;
        var scores = new double[layout.OutputCount];
        for (int row = 0; row < data.RowCount; row++)
        {
            for (int k = 0; k < layout.OutputCount; k++)
            {
                var w = layout.WeightsOf(parameters, k);
                scores[k] = layout.Biases(parameters)[k];
                for (int j = 0; j < layout.FeatureCount; j++)
                {
                    scores[k] += w[j] * features[(row * layout.FeatureCount) + j];
                }
            }

            int predicted = classCount == 2 ? (scores[0] > 0 ? 1 : 0) : Array.IndexOf(scores, scores.Max());
            correct += predicted == (int)data.Labels[row] ? 1 : 0;
        }

        Assert.True(correct >= minimumAccuracy * data.RowCount, $"{name}: {correct} of {data.RowCount} correct");
    }

    [Fact]
    public void Schedule_free_training_validates_and_exports_the_averaged_point()
    {
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 400, featureCount: 5, seed: 17, zeroFraction: 0);
        var train = synthetic.Dense();
        var validation = SyntheticData.Create(LabelKind.Binary, rowCount: 200, featureCount: 5, seed: 18, zeroFraction: 0).Dense();
        var objective = new LogisticObjective();

        var result = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new ScheduleFreeAdamW(learningRate: 0.05),
            BatchSize = 32,
            NumberOfEpochs = 5,
            L2Regularization = 0,
            KeepBestModel = false,
        }).Train(train, validation);

        // The last report's validation loss was computed at the exported parameters, which are x (not the gradient point y).
        Assert.Equal(objective.Loss(validation, result.Parameters), result.History[^1].ValidationLoss);
        Assert.True(result.History[^1].ValidationLoss < 0.45, $"validation loss {result.History[^1].ValidationLoss}");
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
