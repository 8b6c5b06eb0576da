using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>The ML.NET trainers take <see cref="TrainingOptions.CheckpointDirectory"/> like every training option: a stopped
/// <c>Fit</c> resumes, with the seed its checkpoint recorded when the seed was drawn from the context.</summary>
public sealed class CheckpointTrainerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mlnet-trainer-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_stopped_Fit_resumes_to_the_uninterrupted_model_with_the_seed_drawn_by_its_first_context(bool cacheData)
    {
        float[] uninterrupted = Fit(contextSeed: 1, cacheData, checkpoints: false);
        Assert.NotEqual(uninterrupted, Fit(contextSeed: 2, cacheData, checkpoints: false)); // the drawn seed matters
        Assert.ThrowsAny<OperationCanceledException>(() => Fit(contextSeed: 1, cacheData, checkpoints: true,
            options => Interruption.CancelAfterEpoch(options, epoch: 3)));
        var log = new List<string>();

        float[] resumed = Fit(contextSeed: 2, cacheData, checkpoints: true, options => options.Log = log.Add);

        Assert.Contains(log, line => line.StartsWith("resuming from checkpoint", StringComparison.Ordinal) && line.Contains("after epoch 3"));
        Assert.Equal(uninterrupted, resumed);
    }

    /// <summary>Logistic regression with shuffled Adam mini-batches and a seed drawn from a context seeded with
    /// <paramref name="contextSeed"/>; the weights, then the bias.</summary>
    private float[] Fit(int contextSeed, bool cacheData, bool checkpoints, Action<LogisticRegressionTrainer.Options>? configure = null)
    {
        var mlContext = new MLContext(seed: contextSeed);
        // Cached by ML.NET, so that a streamed Fit can shuffle its cursor (with the run's seed) too.
        var data = mlContext.Data.Cache(TrainingBehaviourTests.Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false));
        var options = new LogisticRegressionTrainer.Options
        {
            Optimizer = new Adam(learningRate: 0.05),
            BatchSize = 32,
            NumberOfEpochs = 6,
            CacheData = cacheData,
            CheckpointDirectory = checkpoints ? _directory : null,
        };
        configure?.Invoke(options);
        var model = mlContext.BinaryClassification.Trainers.LogisticRegression(options).Fit(data).Model.SubModel;
        return [.. model.Weights, model.Bias];
    }
}
