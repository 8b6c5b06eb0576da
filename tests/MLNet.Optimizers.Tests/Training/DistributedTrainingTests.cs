using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Schedules;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Tests.Training;

/// <summary>
/// Data-parallel training with <see cref="TrainingOptions.Communicator"/> on ranks made of threads: each rank trains on every
/// N-th row, and the result must be the single-process model on all the rows (up to rounding), the same on every rank.
/// </summary>
public class DistributedTrainingTests
{
    /// <summary>Rank <paramref name="rank"/>'s rows of <paramref name="size"/>: rows rank, rank + size, …</summary>
    private static TrainingData Shard(TrainingData data, int rank, int size) =>
        data.Subset(Enumerable.Range(0, data.RowCount).Where(row => row % size == rank).ToArray());

    private static TrainingOptions WithCommunicator(TrainingOptions options, ICommunicator communicator)
    {
        var copy = options.Clone();
        copy.Communicator = communicator;
        return copy;
    }

    /// <summary>Trains on <paramref name="size"/> thread ranks, each on its shard; returns every rank's result.</summary>
    private static TrainingResult[] TrainOnRanks(LabelKind kind, TrainingData data, TrainingOptions options, int size,
        TrainingData? validation = null) =>
        ThreadCommunicators.Run(size, communicator =>
            new TrainingLoop(ObjectiveTests.Create(kind), WithCommunicator(options, communicator))
                .Train(Shard(data, communicator.Rank, size), validation is null ? null : Shard(validation, communicator.Rank, size)));

    /// <summary>J = weighted mean loss + (λ₂/2)·‖W‖² over all the rows, in double.</summary>
    private static double Objective(LabelKind kind, TrainingData data, float[] parameters, double l2)
    {
        var objective = ObjectiveTests.Create(kind);
        double loss = objective.Evaluate(data, data.AllRows, parameters, default, withGradient: false, out _);
        var weights = objective.LayoutFor(data).Weights(parameters);
        double squares = 0;
        foreach (float w in weights)
        {
            squares += (double)w * w;
        }

        return loss + (0.5 * l2 * squares);
    }

    private static void AssertRanksIdentical(TrainingResult[] ranks)
    {
        foreach (var rank in ranks.Skip(1))
        {
            Assert.Equal(ranks[0].Parameters, rank.Parameters);
            Assert.Equal(ranks[0].History.Select(h => (h.TrainingLoss, h.ValidationLoss)), rank.History.Select(h => (h.TrainingLoss, h.ValidationLoss)));
        }
    }

    private static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"parameter {i}: {actual[i]} vs {expected[i]} (tolerance {tolerance})");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Sparse_rows_on_several_ranks_train_the_model_of_the_same_rows_stored_dense(int ranks)
    {
        // Sparse rows, mini-batches and plain SGD with L2: one process would take lazy sparse steps. With several ranks the
        // summed gradient touches the union of the ranks' rows, so the loop takes dense steps; the model must be the one the
        // same rows give when stored dense, where lazy steps never apply.
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 400, featureCount: 300, seed: 3, zeroFraction: 0.97);
        var options = new TrainingOptions { Optimizer = new Sgd(learningRate: 0.5), BatchSize = 16, NumberOfEpochs = 4, L2Regularization = 1e-3, Seed = 2 };

        var sparse = TrainOnRanks(LabelKind.Binary, synthetic.Sparse(), options, ranks);
        var dense = TrainOnRanks(LabelKind.Binary, synthetic.Dense(), options, ranks);

        AssertRanksIdentical(sparse);
        AssertClose(dense[0].Parameters, sparse[0].Parameters, 1e-6);
    }

    [Theory]
    [InlineData(LabelKind.Binary, 1)]
    [InlineData(LabelKind.Binary, 2)]
    [InlineData(LabelKind.Binary, 3)]
    [InlineData(LabelKind.Multiclass, 2)]
    [InlineData(LabelKind.Multiclass, 3)]
    [InlineData(LabelKind.Regression, 3)]
    public void Lbfgs_on_shards_reaches_the_single_process_objective(LabelKind kind, int ranks)
    {
        var data = SyntheticData.Create(kind, rowCount: 301, featureCount: 6, seed: 11, weighted: true).Dense();
        var options = new TrainingOptions { Optimizer = new Lbfgs(), NumberOfEpochs = 200, L2Regularization = 1e-3 };

        var single = new TrainingLoop(ObjectiveTests.Create(kind), options).Train(data);
        var distributed = TrainOnRanks(kind, data, options, ranks);

        AssertRanksIdentical(distributed);
        double expected = Objective(kind, data, single.Parameters, 1e-3), actual = Objective(kind, data, distributed[0].Parameters, 1e-3);
        Assert.True(Math.Abs(actual - expected) <= 1e-9 * Math.Abs(expected), $"objective {actual:R} vs {expected:R}");
        if (ranks == 1)
        {
            Assert.Equal(single.Parameters, distributed[0].Parameters); // one rank: no reduction at all
        }
    }

    public static TheoryData<string, int> FirstOrderCases()
    {
        var cases = new TheoryData<string, int>();
        foreach (string optimizer in (string[])["Adam", "Sgd+momentum", "ScheduleFreeAdamW"])
        {
            foreach (int ranks in (int[])[1, 2, 3])
            {
                cases.Add(optimizer, ranks);
            }
        }

        return cases;
    }

    private static IOptimizer FirstOrder(string name) => name switch
    {
        "Adam" => new Adam(learningRate: 0.05),
        "Sgd+momentum" => new Sgd(learningRate: 0.1, momentum: 0.9),
        _ => new ScheduleFreeAdamW(learningRate: 0.05),
    };

    [Theory]
    [MemberData(nameof(FirstOrderCases))]
    public void Full_batch_first_order_trajectories_match_one_process(string optimizer, int ranks)
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 301, featureCount: 6, seed: 12, weighted: true).Dense();
        var validation = SyntheticData.Create(LabelKind.Binary, rowCount: 97, featureCount: 6, seed: 13).Dense();
        var options = new TrainingOptions
        {
            Optimizer = FirstOrder(optimizer),
            NumberOfEpochs = 40,
            L2Regularization = 1e-3,
            L1Regularization = 1e-3,
            GradientClipNorm = 0.5,
            LearningRateSchedule = new CosineAnnealing(period: 40),
        };

        var single = new TrainingLoop(ObjectiveTests.Create(LabelKind.Binary), options).Train(data, validation);
        var distributed = TrainOnRanks(LabelKind.Binary, data, options, ranks, validation);

        AssertRanksIdentical(distributed);
        Assert.Equal(single.History.Count, distributed[0].History.Count);
        for (int epoch = 0; epoch < single.History.Count; epoch++)
        {
            Assert.Equal(single.History[epoch].TrainingLoss, distributed[0].History[epoch].TrainingLoss, 1e-6);
            Assert.Equal(single.History[epoch].ValidationLoss!.Value, distributed[0].History[epoch].ValidationLoss!.Value, 1e-6);
        }

        AssertClose(single.Parameters, distributed[0].Parameters, 1e-6);
    }

    [Theory]
    [InlineData(2, 300)]
    [InlineData(3, 300)]
    [InlineData(2, 301)] // uneven shards: in the last step only rank 0 has a row
    public void Mini_batches_of_the_ranks_together_step_like_one_global_batch(int ranks, int rowCount)
    {
        // Unshuffled, rank r's k-th batch of b rows holds global rows k·b·N + r, k·b·N + r + N, …: the union of the ranks'
        // k-th batches is exactly the single process's k-th batch of b·N rows.
        const int batch = 10;
        var data = SyntheticData.Create(LabelKind.Multiclass, rowCount, featureCount: 5, seed: 14, weighted: true).Dense();
        var options = new TrainingOptions { Optimizer = new Adam(learningRate: 0.02), BatchSize = batch, NumberOfEpochs = 3, Shuffle = false };
        var singleOptions = options.Clone();
        singleOptions.BatchSize = batch * ranks;

        var single = new TrainingLoop(ObjectiveTests.Create(LabelKind.Multiclass), singleOptions).Train(data);
        var distributed = TrainOnRanks(LabelKind.Multiclass, data, options, ranks);

        AssertRanksIdentical(distributed);
        Assert.Equal(single.History.Select(h => h.Steps), distributed[0].History.Select(h => h.Steps));
        AssertClose(single.Parameters, distributed[0].Parameters, 1e-6);
    }

    [Fact]
    public void Shuffled_mini_batches_and_early_stopping_end_identically_on_every_rank()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 400, featureCount: 5, seed: 15).Dense();
        var options = new TrainingOptions
        {
            Optimizer = new Sgd(learningRate: 0.5),
            BatchSize = 16,
            NumberOfEpochs = 60,
            Seed = 5,
            ValidationFraction = 0.25,
            EarlyStoppingPatience = 2,
            EarlyStoppingTolerance = 1e-3,
        };

        var distributed = TrainOnRanks(LabelKind.Binary, data, options, 3);

        AssertRanksIdentical(distributed);
        Assert.True(distributed[0].StoppedEarly);
        Assert.All(distributed, rank => Assert.Equal(distributed[0].BestEpoch, rank.BestEpoch));
    }

    [Fact]
    public void Streamed_shards_reach_the_objective_of_cached_shards()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 301, featureCount: 6, seed: 16, weighted: true).Dense();
        var options = new TrainingOptions { Optimizer = new Lbfgs(), NumberOfEpochs = 200, L2Regularization = 1e-3 };

        var cached = TrainOnRanks(LabelKind.Binary, data, options, 2);
        var streamed = ThreadCommunicators.Run(2, communicator =>
            new TrainingLoop(ObjectiveTests.Create(LabelKind.Binary), WithCommunicator(options, communicator))
                .Train(new SlicedSource(Shard(data, communicator.Rank, 2))));

        AssertRanksIdentical(streamed);
        double expected = Objective(LabelKind.Binary, data, cached[0].Parameters, 1e-3);
        double actual = Objective(LabelKind.Binary, data, streamed[0].Parameters, 1e-3);
        Assert.True(Math.Abs(actual - expected) <= 1e-9 * Math.Abs(expected), $"objective {actual:R} vs {expected:R}");
    }

    [Fact]
    public void Only_rank_0_logs_and_every_rank_gets_the_epoch_reports()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 60, featureCount: 3, seed: 17).Dense();
        var lines = new int[2];
        var reports = new int[2];

        ThreadCommunicators.Run(2, communicator =>
        {
            var options = new TrainingOptions
            {
                Optimizer = new Lbfgs(),
                NumberOfEpochs = 5,
                Communicator = communicator,
                Log = _ => lines[communicator.Rank]++,
                OnEpochEnd = _ => reports[communicator.Rank]++,
            };
            return new TrainingLoop(ObjectiveTests.Create(LabelKind.Binary), options).Train(Shard(data, communicator.Rank, 2));
        });

        Assert.True(lines[0] > 0);
        Assert.Equal(0, lines[1]);
        Assert.Equal(reports[0], reports[1]);
    }

    /// <summary>Every rank must fail, with the same kind of error naming the problem: none may be left waiting.</summary>
    private static void AssertEveryRankThrows<TException>(Exception?[] errors, string expectedText)
        where TException : Exception
    {
        Assert.All(errors, error => Assert.Contains(expectedText, Assert.IsAssignableFrom<TException>(error).Message));
    }

    [Fact]
    public void Ranks_with_different_feature_counts_fail_together()
    {
        var errors = ThreadCommunicators.Errors(2, communicator =>
        {
            var data = SyntheticData.Create(LabelKind.Binary, rowCount: 40, featureCount: 3 + communicator.Rank, seed: 18).Dense();
            new TrainingLoop(new LogisticObjective(), new TrainingOptions { Communicator = communicator }).Train(data);
        });

        AssertEveryRankThrows<ArgumentException>(errors, "number of features: 3 on rank 0 but 4 on rank 1");
    }

    [Fact]
    public void Ranks_with_different_class_counts_fail_together()
    {
        var errors = ThreadCommunicators.Errors(2, communicator =>
        {
            var data = SyntheticData.Create(LabelKind.Multiclass, rowCount: 40, featureCount: 3, seed: 19).Dense();
            new TrainingLoop(new SoftmaxObjective(3 + communicator.Rank), new TrainingOptions { Communicator = communicator }).Train(data);
        });

        AssertEveryRankThrows<ArgumentException>(errors, "number of outputs (classes): 3 on rank 0 but 4 on rank 1");
    }

    [Fact]
    public void Ranks_with_different_options_fail_together_naming_the_option()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 40, featureCount: 3, seed: 20).Dense();

        var batchErrors = ThreadCommunicators.Errors(3, communicator =>
            new TrainingLoop(new LogisticObjective(), new TrainingOptions
            {
                Optimizer = new Adam(),
                BatchSize = communicator.Rank == 2 ? 8 : 4,
                Communicator = communicator,
            }).Train(Shard(data, communicator.Rank, 3)));
        var optimizerErrors = ThreadCommunicators.Errors(2, communicator =>
            new TrainingLoop(new LogisticObjective(), new TrainingOptions
            {
                Optimizer = new Adam(learningRate: communicator.Rank == 0 ? 0.01 : 0.02),
                Communicator = communicator,
            }).Train(Shard(data, communicator.Rank, 2)));

        AssertEveryRankThrows<ArgumentException>(batchErrors, "BatchSize: 4 on rank 0 but 8 on rank 2");
        AssertEveryRankThrows<ArgumentException>(optimizerErrors, "Optimizer: it differs between rank 0 and rank 1");
    }

    [Fact]
    public void A_rank_without_rows_fails_every_rank_naming_it()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 2, featureCount: 3, seed: 21).Dense();

        var errors = ThreadCommunicators.Errors(3, communicator =>
            new TrainingLoop(new LogisticObjective(), new TrainingOptions { Communicator = communicator }).Train(Shard(data, communicator.Rank, 3)));

        AssertEveryRankThrows<ArgumentException>(errors, "rank(s) 2 of 3 have no row with a positive weight");
    }

    [Fact]
    public void Validation_on_some_ranks_only_fails_every_rank()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 40, featureCount: 3, seed: 22).Dense();

        var errors = ThreadCommunicators.Errors(2, communicator =>
            new TrainingLoop(new LogisticObjective(), new TrainingOptions { Communicator = communicator })
                .Train(Shard(data, communicator.Rank, 2), communicator.Rank == 0 ? Shard(data, 0, 2) : null));

        AssertEveryRankThrows<ArgumentException>(errors, "validation data: 1 on rank 0 but 0 on rank 1");
    }

    [Fact]
    public void Cancelling_one_rank_stops_every_rank()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 200, featureCount: 3, seed: 23).Dense();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var errors = ThreadCommunicators.Errors(2, communicator =>
            new TrainingLoop(new LogisticObjective(), new TrainingOptions
            {
                Optimizer = new Adam(),
                BatchSize = 10,
                Communicator = communicator,
                CancellationToken = communicator.Rank == 1 ? cancelled.Token : default,
            }).Train(Shard(data, communicator.Rank, 2)));

        AssertEveryRankThrows<OperationCanceledException>(errors, "cancelled on 1 of the 2 ranks");
    }
}
