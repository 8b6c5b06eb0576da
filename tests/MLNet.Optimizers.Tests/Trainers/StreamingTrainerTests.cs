using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Training;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary><see cref="LinearTrainerOptions.CacheData"/> = false: the trainers stream the data view every pass.</summary>
public class StreamingTrainerTests
{
    private static T MiniBatch<T>(T options, bool cacheData, bool shuffle = false, int seed = 5)
        where T : LinearTrainerOptions
    {
        options.Optimizer = new Adam(0.05);
        options.BatchSize = 32;
        options.NumberOfEpochs = 5;
        options.Shuffle = shuffle;
        options.Seed = seed;
        options.CacheData = cacheData;
        return options;
    }

    [Fact]
    public void Streaming_in_the_view_order_gives_the_cached_parameters_for_every_trainer()
    {
        var mlContext = new MLContext(seed: 1);
        var binary = TrainingBehaviourTests.Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false);
        float[] Logistic(bool cache)
        {
            var losses = new List<double>();
            var options = MiniBatch(new LogisticRegressionTrainer.Options(), cache);
            options.OnEpochEnd = report => losses.Add(report.TrainingLoss);
            var model = new LogisticRegressionTrainer(mlContext, options).Fit(binary).Model.SubModel;
            Assert.True(losses[^1] < 0.3 && losses[^1] < 0.5 * losses[0], $"losses: {string.Join(", ", losses)}"); // log 2 ≈ 0.693 at the start
            return [.. model.Weights, model.Bias];
        }

        Assert.Equal(Logistic(cache: true), Logistic(cache: false));

        var multiclass = TrainingBehaviourTests.Featurized(mlContext, "iris", DataKind.Single, keyLabel: true);
        float[] Softmax(bool cache)
        {
            var model = new SoftmaxRegressionTrainer(mlContext, MiniBatch(new SoftmaxRegressionTrainer.Options(), cache)).Fit(multiclass).Model;
            VBuffer<float>[] weights = [];
            model.GetWeights(ref weights, out _);
            return [.. weights.SelectMany(row => row.DenseValues()), .. model.GetBiases()];
        }

        Assert.Equal(Softmax(cache: true), Softmax(cache: false));

        var regression = TrainingBehaviourTests.Featurized(mlContext, "diabetes", DataKind.Single, keyLabel: false);
        float[] Linear(bool cache)
        {
            var model = new LinearRegressionTrainer(mlContext, MiniBatch(new LinearRegressionTrainer.Options(), cache)).Fit(regression).Model;
            return [.. model.Weights, model.Bias];
        }

        Assert.Equal(Linear(cache: true), Linear(cache: false));
    }

    [Fact]
    public void Shuffled_streaming_is_deterministic_per_seed()
    {
        var mlContext = new MLContext(seed: 1);
        // A cached view can shuffle its cursor; the text loader behind Featurized cannot.
        var data = mlContext.Data.Cache(TrainingBehaviourTests.Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false));
        Assert.True(data.CanShuffle);
        float[] Run(bool shuffle, int seed)
        {
            var model = new LogisticRegressionTrainer(mlContext, MiniBatch(new LogisticRegressionTrainer.Options(), cacheData: false, shuffle, seed))
                .Fit(data).Model.SubModel;
            return [.. model.Weights, model.Bias];
        }

        float[] first = Run(shuffle: true, seed: 5);
        Assert.Equal(first, Run(shuffle: true, seed: 5));
        Assert.NotEqual(first, Run(shuffle: true, seed: 6));
        Assert.NotEqual(first, Run(shuffle: false, seed: 5));
    }

    [Fact]
    public void Validation_data_is_streamed_and_gives_the_cached_validation_losses()
    {
        var mlContext = new MLContext(seed: 1);
        var split = Split(mlContext, TrainingBehaviourTests.Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false));
        double[] ValidationLosses(bool cache)
        {
            var losses = new List<double>();
            var options = MiniBatch(new LogisticRegressionTrainer.Options(), cache);
            options.OnEpochEnd = report => losses.Add(report.ValidationLoss!.Value);
            new LogisticRegressionTrainer(mlContext, options).Fit(split.TrainSet, split.TestSet);
            return [.. losses];
        }

        double[] cached = ValidationLosses(cache: true), streamed = ValidationLosses(cache: false);
        Assert.Equal(5, streamed.Length);
        for (int epoch = 0; epoch < cached.Length; epoch++)
        {
            // One chunk: the streamed pass multiplies the mean by the weight and divides again, hence rounding only.
            Assert.Equal(cached[epoch], streamed[epoch], 1e-12);
        }
    }

    [Fact]
    public void ValidationFraction_with_streaming_is_rejected_naming_both_options()
    {
        var options = new LogisticRegressionTrainer.Options { CacheData = false, ValidationFraction = 0.2 };

        var error = Assert.Throws<ArgumentException>(() => new LogisticRegressionTrainer(new MLContext(seed: 1), options));
        Assert.Equal(nameof(LinearTrainerOptions.ValidationFraction), error.ParamName);
        Assert.Contains("CacheData = false", error.Message);
    }

    [Fact]
    public void A_bad_row_gets_the_same_message_streamed_as_cached()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SmallBinaryRows(100);
        rows[70].Features[1] = float.NaN; // row 70: in the third 32-row batch when streaming
        var data = mlContext.Data.LoadFromEnumerable(rows);
        string Message(bool cache) => Assert.Throws<ArgumentException>(
            () => new LogisticRegressionTrainer(mlContext, MiniBatch(new LogisticRegressionTrainer.Options(), cache)).Fit(data)).Message;

        string cached = Message(cache: true);
        Assert.Contains("row 70, slot 1", cached);
        Assert.Equal(cached, Message(cache: false));
    }

    [Fact]
    public void Lbfgs_streams_one_pass_per_evaluation_and_reaches_the_cached_optimum()
    {
        var mlContext = new MLContext(seed: 1);
        var data = TrainingBehaviourTests.Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false);
        float[] Run(bool cache)
        {
            var model = new LogisticRegressionTrainer(mlContext, new LogisticRegressionTrainer.Options { CacheData = cache, NumberOfEpochs = 30, L2Regularization = 1e-2 })
                .Fit(data).Model.SubModel;
            return [.. model.Weights, model.Bias];
        }

        float[] cached = Run(cache: true), streamed = Run(cache: false);
        for (int i = 0; i < cached.Length; i++)
        {
            Assert.True(Math.Abs(cached[i] - streamed[i]) <= 1e-4 * (1 + Math.Abs(cached[i])), $"parameter {i}: {cached[i]} vs {streamed[i]}");
        }
    }
}
