using MLNet.Optimizers.CheckpointHost;

namespace MLNet.Optimizers.Tests.Training;

/// <summary>
/// <see cref="TrainingOptions.CheckpointDirectory"/>: a run stopped after some epoch (here by cancelling it from the epoch
/// callback; the kill test in <see cref="CheckpointKillTests"/> kills a real process) resumes from its newest checkpoint and
/// ends exactly where an uninterrupted run ends; checkpoints of other runs, corrupted or truncated ones are refused.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mlnet-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Runs by name, each stressing another part of the state a checkpoint must carry.</summary>
    public static TheoryData<string, int> Runs => new()
    {
        { "adam, shuffled mini-batches, cached", 3 },
        { "sgd with momentum, full batch, streamed", 2 },
        { "lazy sparse sgd with L2 and L1", 2 },
        { "adamw with schedule, clipping, validation split, best model", 4 },
        { "schedule-free adamw, validation data, early stopping", 2 },
        { "lbfgs with L1 (OWL-QN), validation split, best model", 3 },
        { "lbfgs without line search, streamed", 5 },
        { "softmax lbfgs, cached", 6 },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void A_run_stopped_after_an_epoch_resumes_to_the_uninterrupted_result(string run, int stopAfter)
    {
        string uninterrupted = CheckpointedFits.Describe(Train(run, checkpoints: false));

        StopAfter(run, stopAfter);
        var log = new List<string>();
        var epochsRun = new List<int>();
        var resumed = Train(run, checkpoints: true, configure: options =>
        {
            options.Log = log.Add;
            options.OnEpochEnd = report => epochsRun.Add(report.Epoch);
        });

        Assert.Contains(log, line => line.StartsWith("resuming from checkpoint", StringComparison.Ordinal) && line.Contains($"after epoch {stopAfter}"));
        Assert.Equal(stopAfter + 1, epochsRun[0]);
        Assert.Equal(uninterrupted, CheckpointedFits.Describe(resumed));
    }

    [Fact]
    public void A_run_that_had_ended_returns_its_result_again_without_training()
    {
        const string Run = "schedule-free adamw, validation data, early stopping";
        string first = CheckpointedFits.Describe(Train(Run, checkpoints: true));
        int epochs = 0;

        var again = Train(Run, checkpoints: true, configure: options => options.OnEpochEnd = _ => epochs++);

        Assert.Equal(0, epochs);
        Assert.Equal(first, CheckpointedFits.Describe(again));
    }

    [Fact]
    public void Checkpoints_are_written_every_CheckpointEveryEpochs_epochs_and_a_resumed_run_starts_after_the_newest()
    {
        StopAfter("adam, shuffled mini-batches, cached", epoch: 5, options => options.CheckpointEveryEpochs = 2);
        var log = new List<string>();

        Train("adam, shuffled mini-batches, cached", checkpoints: true, configure: options =>
        {
            options.CheckpointEveryEpochs = 2;
            options.Log = log.Add;
        });

        Assert.Contains(log, line => line.Contains("after epoch 4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_checkpoint_of_other_data_or_options_is_refused_naming_what_differs()
    {
        Train("adam, shuffled mini-batches, cached", checkpoints: true);

        string Refusal(Action<TrainingOptions> configure, TrainingData? data = null) =>
            Assert.Throws<InvalidOperationException>(() => Train("adam, shuffled mini-batches, cached", checkpoints: true, configure, data)).Message;

        string features = Refusal(_ => { }, Data(features: 7));
        Assert.Contains("the number of features: the checkpoint has 6, this run has 7", features);
        Assert.Contains("delete the checkpoint files in " + _directory, features);
        Assert.Contains("L2Regularization: the checkpoint has 0.001, this run has 0.01", Refusal(options => options.L2Regularization = 1e-2));
        Assert.Contains("BatchSize: the checkpoint has 16, this run has 17", Refusal(options => options.BatchSize = 17));
        Assert.Contains("Seed: the checkpoint has 3, this run has 4", Refusal(options => options.Seed = 4));
        Assert.Contains("Optimizer: the checkpoint has Adam(", Refusal(options => options.Optimizer = new Adam(learningRate: 0.02)));

        var relabelled = SyntheticData.Create(LabelKind.Binary, 200, 6, seed: 8).Dense();
        Assert.Contains("the training data: the checkpoint has 200 rows", Refusal(_ => { }, relabelled));
    }

    [Fact]
    public void A_corrupted_newest_checkpoint_falls_back_to_the_previous_one()
    {
        const string Run = "adam, shuffled mini-batches, cached";
        string uninterrupted = CheckpointedFits.Describe(Train(Run, checkpoints: false));
        StopAfter(Run, epoch: 4);
        FlipByte(Newest, 100);
        var log = new List<string>();

        var resumed = Train(Run, checkpoints: true, configure: options => options.Log = log.Add);

        Assert.Contains(log, line => line.Contains("is unreadable", StringComparison.Ordinal) && line.Contains("checksum", StringComparison.Ordinal));
        Assert.Contains(log, line => line.Contains("checkpoint.previous.bin after epoch 3", StringComparison.Ordinal));
        Assert.Equal(uninterrupted, CheckpointedFits.Describe(resumed));
    }

    [Fact]
    public void When_no_checkpoint_is_readable_the_run_refuses_to_start_naming_each_file()
    {
        const string Run = "adam, shuffled mini-batches, cached";
        StopAfter(Run, epoch: 4);
        FlipByte(Newest, 40);
        byte[] previous = File.ReadAllBytes(Previous);
        File.WriteAllBytes(Previous, previous[..^3]);

        var error = Assert.Throws<InvalidDataException>(() => Train(Run, checkpoints: true));

        Assert.Contains($"{Newest}: The checksum of a training checkpoint does not match", error.Message);
        Assert.Contains($"{Previous}: The stream ends", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Every_single_byte_corruption_of_a_checkpoint_file_is_rejected()
    {
        StopAfter("lbfgs with L1 (OWL-QN), validation split, best model", epoch: 2);
        byte[] intact = File.ReadAllBytes(Newest);
        Assert.Equal(2, TrainingCheckpoint.Read(new MemoryStream(intact)).CompletedEpochs);

        int accepted = 0;
        for (int position = 0; position < intact.Length; position++)
        {
            byte[] corrupted = (byte[])intact.Clone();
            corrupted[position] ^= 0x5A;
            try
            {
                TrainingCheckpoint.Read(new MemoryStream(corrupted));
                accepted++;
            }
            catch (InvalidDataException)
            {
            }
        }

        Assert.Equal(0, accepted);
        Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Read(new MemoryStream(intact[..^1])));
        Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Read(new MemoryStream([.. intact, 0])));
    }

    [Fact]
    public void A_leftover_temporary_file_is_ignored_and_replaced()
    {
        const string Run = "adam, shuffled mini-batches, cached";
        string uninterrupted = CheckpointedFits.Describe(Train(Run, checkpoints: false));
        string temporary = Path.Combine(_directory, CheckpointStore.TemporaryFileName);
        File.WriteAllBytes(temporary, [1, 2, 3]); // a run killed while writing, before any checkpoint was complete
        var epochs = new List<int>();

        var fresh = Train(Run, checkpoints: true, configure: options => options.OnEpochEnd = report => epochs.Add(report.Epoch));

        Assert.Equal(1, epochs[0]);
        Assert.Equal(uninterrupted, CheckpointedFits.Describe(fresh));
        Assert.False(File.Exists(temporary));
    }

    [Fact]
    public void Checkpoint_options_are_checked()
    {
        var everyEpochs = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { CheckpointEveryEpochs = 0 }.Validate());
        Assert.Equal(nameof(TrainingOptions.CheckpointEveryEpochs), everyEpochs.ParamName);
        var blank = Assert.Throws<ArgumentException>(() => new TrainingOptions { CheckpointDirectory = " " }.Validate());
        Assert.Equal(nameof(TrainingOptions.CheckpointDirectory), blank.ParamName);

        var ranks = ThreadCommunicators.Run(2, communicator => Record.Exception(
            () => new TrainingOptions { CheckpointDirectory = _directory, Communicator = communicator }.Validate()));

        Assert.All(ranks, error => Assert.Contains("cannot be used with a Communicator of 2 ranks", Assert.IsType<ArgumentException>(error).Message));
    }

    private string Newest => Path.Combine(_directory, CheckpointStore.NewestFileName);

    private string Previous => Path.Combine(_directory, CheckpointStore.PreviousFileName);

    /// <summary>Runs with checkpoints until epoch <paramref name="epoch"/> has ended, then stops it.</summary>
    private void StopAfter(string run, int epoch, Action<TrainingOptions>? configure = null) =>
        Assert.ThrowsAny<OperationCanceledException>(() => Train(run, checkpoints: true, configure: options =>
        {
            configure?.Invoke(options);
            Interruption.CancelAfterEpoch(options, epoch);
        }));

    private static void FlipByte(string path, int position)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[position] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }

    private static TrainingData Data(int features = 6, bool sparse = false, LabelKind kind = LabelKind.Binary)
    {
        var data = SyntheticData.Create(kind, 200, features, seed: 7);
        return sparse ? data.Sparse() : data.Dense();
    }

    private TrainingResult Train(string run, bool checkpoints, Action<TrainingOptions>? configure = null, TrainingData? data = null)
    {
        var options = new TrainingOptions
        {
            NumberOfEpochs = 8,
            Seed = 3,
            L2Regularization = 1e-3,
            CheckpointDirectory = checkpoints ? _directory : null,
        };
        LinearObjective objective = new LogisticObjective();
        bool streamed = false;
        switch (run)
        {
            case "adam, shuffled mini-batches, cached":
                (options.Optimizer, options.BatchSize) = (new Adam(learningRate: 0.01), 16);
                break;
            case "sgd with momentum, full batch, streamed":
                options.Optimizer = new Sgd(learningRate: 0.5, momentum: 0.9);
                streamed = true;
                break;
            case "lazy sparse sgd with L2 and L1":
                (options.Optimizer, options.BatchSize, options.L1Regularization) = (new Sgd(learningRate: 0.1), 10, 1e-3);
                data ??= Data(sparse: true);
                break;
            case "adamw with schedule, clipping, validation split, best model":
                (options.Optimizer, options.BatchSize, options.ValidationFraction) = (new AdamW(learningRate: 0.05), 20, 0.25);
                (options.LearningRateSchedule, options.GradientClipNorm) = (new CosineAnnealing(period: 60), 0.5);
                break;
            case "schedule-free adamw, validation data, early stopping":
                (options.Optimizer, options.BatchSize, options.EarlyStoppingPatience) = (new ScheduleFreeAdamW(learningRate: 0.05), 25, 2);
                (options.NumberOfEpochs, options.EarlyStoppingTolerance) = (30, 1e-3);
                break;
            case "lbfgs with L1 (OWL-QN), validation split, best model":
                (options.L1Regularization, options.ValidationFraction) = (1e-2, 0.2);
                break;
            case "lbfgs without line search, streamed":
                options.Optimizer = new Lbfgs(learningRate: 0.5, lineSearch: LineSearch.None);
                streamed = true;
                break;
            case "softmax lbfgs, cached":
                objective = new SoftmaxObjective(3);
                data ??= Data(kind: LabelKind.Multiclass);
                break;
            default:
                throw new ArgumentException($"Unknown run '{run}'.", nameof(run));
        }

        configure?.Invoke(options);
        data ??= Data();
        var loop = new TrainingLoop(objective, options);
        TrainingData? validation = run.Contains("validation data", StringComparison.Ordinal)
            ? SyntheticData.Create(LabelKind.Binary, 80, data.FeatureCount, seed: 9).Dense()
            : null;
        return streamed ? loop.Train(new SlicedSource(data)) : loop.Train(data, validation);
    }
}
