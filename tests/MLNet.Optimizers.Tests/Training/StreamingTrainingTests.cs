using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Schedules;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Tests.Training;

/// <summary><see cref="TrainingLoop.Train(ITrainingBatchSource, ITrainingBatchSource?, ReadOnlySpan{float})"/> against the
/// in-memory path on the same rows.</summary>
public class StreamingTrainingTests
{
    private static TrainingOptions Options(IOptimizer optimizer, int batchSize) => new()
    {
        Optimizer = optimizer,
        BatchSize = batchSize,
        NumberOfEpochs = 4,
        Shuffle = false,
        Seed = 3,
        L2Regularization = 1e-3,
        L1Regularization = 1e-3,
        GradientClipNorm = 0.5,
        LearningRateSchedule = new CosineAnnealing(period: 40),
    };

    [Theory]
    [InlineData(LabelKind.Binary)]
    [InlineData(LabelKind.Multiclass)]
    [InlineData(LabelKind.Regression)]
    public void Mini_batches_in_the_same_order_give_bit_identical_parameters_and_history(LabelKind kind)
    {
        // Same batches, same order, same per-batch step code (L2, clipping, schedule, L1 all on): nothing may differ.
        var synthetic = SyntheticData.Create(kind, rowCount: 300, featureCount: 5, seed: 4, weighted: true);
        var options = Options(new Adam(0.05), batchSize: 32);

        var cached = new TrainingLoop(ObjectiveTests.Create(kind), options).Train(synthetic.Dense());
        var streamed = new TrainingLoop(ObjectiveTests.Create(kind), options).Train(new SlicedSource(synthetic.Dense()));

        Assert.Equal(cached.Parameters, streamed.Parameters);
        Assert.Equal(cached.History.Select(h => h.TrainingLoss), streamed.History.Select(h => h.TrainingLoss));
    }

    [Fact]
    public void Full_batch_and_Lbfgs_take_one_pass_per_step_or_evaluation_and_match_the_cached_run()
    {
        // 5,000 rows span two 4,096-row chunks, so the streamed sum is ordered differently: equal up to rounding, not bitwise.
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 5000, featureCount: 4, seed: 5, weighted: true);
        var fullBatch = Options(new Sgd(0.5), batchSize: 0);
        fullBatch.L1Regularization = 0;
        fullBatch.KeepBestModel = false; // return the last epoch's parameters with the validation source as without it
        var lbfgs = new TrainingOptions { Optimizer = new Lbfgs(), NumberOfEpochs = 20, L2Regularization = 1e-3, KeepBestModel = false };
        foreach (var options in new[] { fullBatch, lbfgs })
        {
            var cached = new TrainingLoop(new LogisticObjective(), options).Train(synthetic.Dense());
            var source = new SlicedSource(synthetic.Dense());
            var validation = new SlicedSource(synthetic.Dense());
            var streamed = new TrainingLoop(new LogisticObjective(), options).Train(source, validation);

            for (int i = 0; i < cached.Parameters.Length; i++)
            {
                Assert.True(Math.Abs(cached.Parameters[i] - streamed.Parameters[i]) <= 1e-4 * (1 + Math.Abs(cached.Parameters[i])),
                    $"{options.Optimizer}: parameter {i}: {cached.Parameters[i]} vs {streamed.Parameters[i]}");
            }

            // Full batch: one pass per epoch; L-BFGS: at least one per iteration. Validation: one pass per epoch.
            Assert.True(options.Optimizer is Lbfgs ? source.Passes >= streamed.History.Count : source.Passes == streamed.History.Count);
            Assert.Equal(streamed.History.Count, validation.Passes);
            Assert.All(source.ShuffleSeeds.Concat(validation.ShuffleSeeds), seed => Assert.Null(seed));
            // Validation on the training rows: the last epoch's validation loss is the data loss at the returned point.
            Assert.Equal(new LogisticObjective().Loss(synthetic.Dense(), streamed.Parameters), streamed.History[^1].ValidationLoss!.Value, 1e-9);
        }
    }

    [Fact]
    public void Shuffling_asks_the_source_for_a_different_seed_each_epoch_derived_from_the_seed()
    {
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 100, featureCount: 3, seed: 6);
        var options = Options(new Sgd(0.1), batchSize: 10);
        options.Shuffle = true;
        var first = new SlicedSource(synthetic.Dense());
        var second = new SlicedSource(synthetic.Dense());
        new TrainingLoop(new LogisticObjective(), options).Train(first);
        new TrainingLoop(new LogisticObjective(), options).Train(second);
        options.Seed = 4;
        var otherSeed = new SlicedSource(synthetic.Dense());
        new TrainingLoop(new LogisticObjective(), options).Train(otherSeed);

        Assert.Equal(4, first.ShuffleSeeds.Distinct().Count());
        Assert.DoesNotContain(null, first.ShuffleSeeds);
        Assert.Equal(first.ShuffleSeeds, second.ShuffleSeeds);
        Assert.Empty(first.ShuffleSeeds.Intersect(otherSeed.ShuffleSeeds));
    }

    [Fact]
    public void ValidationFraction_is_rejected_when_streaming_naming_the_option()
    {
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 50, featureCount: 3, seed: 7);
        var trainer = new TrainingLoop(new LogisticObjective(), new TrainingOptions { Optimizer = new Sgd(0.1), ValidationFraction = 0.2 });

        var error = Assert.Throws<ArgumentException>(() => trainer.Train(new SlicedSource(synthetic.Dense())));
        Assert.Equal(nameof(TrainingOptions.ValidationFraction), error.ParamName);
        Assert.Contains("streaming", error.Message);
    }

    [Fact]
    public void A_source_whose_weights_sum_to_zero_is_rejected()
    {
        var data = TrainingData.Dense(1, [1f, 2f], [0f, 1f], [0f, 0f]);
        var trainer = new TrainingLoop(new LogisticObjective(), new TrainingOptions { Optimizer = new Sgd(0.1), BatchSize = 1 });

        var error = Assert.Throws<ArgumentException>(() => trainer.Train(new SlicedSource(data)));
        Assert.Contains("positive weight", error.Message);
    }
}
