using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>Guards the reflection on ML.NET internals: every member resolves, and a model built through them survives Save/Load.</summary>
public class MlNetModelFactoryTests
{
    [Fact]
    public void Every_reflected_member_resolves_on_this_MlNet_version() => MlNetModelFactory.ResolveAll();

    [Fact]
    public void Built_models_carry_the_given_weights_and_the_identity_Platt_calibrator()
    {
        var mlContext = new MLContext(seed: 1);
        var binary = MlNetModelFactory.CalibratedLinearBinary(mlContext, [1f, -2f], 0.5f);
        Assert.Equal([1f, -2f], binary.SubModel.Weights);
        Assert.Equal(0.5f, binary.SubModel.Bias);
        Assert.Equal(-1.0, binary.Calibrator.Slope);
        Assert.Equal(0.0, binary.Calibrator.Offset);

        var softmax = MlNetModelFactory.MaximumEntropy(mlContext, [[1f, 2f], [3f, 4f], [5f, 6f]], [0.1f, 0.2f, 0.3f], 2, ["a", "b", "c"]);
        VBuffer<float>[] rows = [];
        softmax.GetWeights(ref rows, out int classes);
        Assert.Equal(3, classes);
        Assert.Equal([3f, 4f], rows[1].DenseValues());
        Assert.Equal([0.1f, 0.2f, 0.3f], softmax.GetBiases());

        var regression = MlNetModelFactory.LinearRegression(mlContext, [7f], -1f);
        Assert.Equal([7f], regression.Weights);
        Assert.Equal(-1f, regression.Bias);

        var poisson = MlNetModelFactory.PoissonRegression(mlContext, [0.5f, -0.25f], 1f);
        Assert.Equal([0.5f, -0.25f], poisson.Weights);
        Assert.Equal(1f, poisson.Bias);
    }

    [Fact]
    public void MlNet_constructor_checks_surface_unwrapped_with_their_own_stack()
    {
        // LinearModelParameters rejects a non-finite bias inside its (internal) constructor; the caller must see that exception
        // itself, not a TargetInvocationException, and its stack must still point into ML.NET.
        var error = Assert.ThrowsAny<ArgumentException>(() => MlNetModelFactory.LinearRegression(new MLContext(seed: 1), [1f], float.NaN));
        Assert.Contains("LinearModelParameters", error.StackTrace);
    }

    [Fact]
    public void Catalog_environment_is_the_contexts_and_receives_its_log()
    {
        var mlContext = new MLContext(seed: 1);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) { messages.Add(e.Message); } };
        var data = mlContext.Data.LoadFromEnumerable(SmallBinaryRows());

        mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.5), numberOfEpochs: 3).Fit(data);

        lock (messages)
        {
            Assert.Contains(messages, m => m.Contains("LogisticRegressionTrainer") && m.Contains("200 rows"));
            Assert.Contains(messages, m => m.Contains("epoch 3/3"));
        }
    }

    [Fact]
    public void Saved_models_load_back_as_MlNet_types_and_score_identically()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, "breast_cancer", DataKind.Boolean);
        var model = Featurize(mlContext, keyLabel: false).Append(mlContext.BinaryClassification.Trainers.LogisticRegression(
            new LogisticRegressionTrainer.Options { Optimizer = new Sgd(0.5), NumberOfEpochs = 20 })).Fit(data);

        using var stream = new MemoryStream();
        mlContext.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = (TransformerChain<ITransformer>)mlContext.Model.Load(stream, out _);

        var last = Assert.IsType<BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>>(
            loaded.LastTransformer, exactMatch: false);
        Assert.Equal(model.LastTransformer.Model.SubModel.Weights, last.Model.SubModel.Weights);
        Assert.Equal(Floats(model.Transform(data), "Probability"), Floats(loaded.Transform(data), "Probability"));

        // Platt with slope −1, offset 0: Probability = 1/(1 + exp(−Score)).
        var scored = loaded.Transform(data);
        float[] scores = Floats(scored, "Score"), probabilities = Floats(scored, "Probability");
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(1 / (1 + Math.Exp(-scores[i])), probabilities[i], 1e-6);
        }
    }
}
