using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Tests.Training;

/// <summary>The one options type of the loop and the trainers: its defaults and <see cref="TrainingOptions.Validate"/>.</summary>
public class TrainingOptionsTests
{
    [Fact]
    public void Defaults_are_the_Defaults_constants_for_the_loop_and_every_trainer()
    {
        TrainingOptions[] all =
        [
            new TrainingOptions(), new LogisticRegressionTrainer.Options(), new SoftmaxRegressionTrainer.Options(),
            new LinearRegressionTrainer.Options(),
        ];

        foreach (var options in all)
        {
            Assert.IsType<Lbfgs>(options.Optimizer);
            Assert.Equal(TrainingOptions.Defaults.BatchSize, options.BatchSize);
            Assert.Equal(TrainingOptions.Defaults.NumberOfEpochs, options.NumberOfEpochs);
            Assert.Equal(TrainingOptions.Defaults.Shuffle, options.Shuffle);
            Assert.Null(options.Seed);
            Assert.Equal(TrainingOptions.Defaults.L2Regularization, options.L2Regularization);
            Assert.Equal(TrainingOptions.Defaults.L1Regularization, options.L1Regularization);
            Assert.Equal(TrainingOptions.Defaults.EarlyStoppingTolerance, options.EarlyStoppingTolerance);
            Assert.Equal(TrainingOptions.Defaults.KeepBestModel, options.KeepBestModel);
            options.Validate();
        }
    }

    [Theory]
    [MemberData(nameof(TrainingLoopTests.InvalidOptions), MemberType = typeof(TrainingLoopTests))]
    public void Validate_names_the_invalid_option(string option, Action<TrainingOptions> corrupt)
    {
        var options = new TrainingOptions { Optimizer = new Sgd() };
        corrupt(options);

        var error = Assert.ThrowsAny<ArgumentException>(options.Validate);

        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void Trainer_options_also_check_their_columns_and_what_streaming_rules_out()
    {
        var noLabel = new LogisticRegressionTrainer.Options { LabelColumnName = "" };
        var splitWhileStreaming = new LinearRegressionTrainer.Options { CacheData = false, ValidationFraction = 0.2 };

        Assert.Equal(nameof(LinearTrainerOptions.LabelColumnName), Assert.ThrowsAny<ArgumentException>(noLabel.Validate).ParamName);
        Assert.Equal(nameof(TrainingOptions.ValidationFraction), Assert.Throws<ArgumentException>(splitWhileStreaming.Validate).ParamName);
    }
}
