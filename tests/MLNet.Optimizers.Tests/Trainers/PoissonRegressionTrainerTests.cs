using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>The Poisson trainer as an ML.NET estimator: catalog, options, any optimizer, bad labels, save/load and ONNX.</summary>
public class PoissonRegressionTrainerTests
{
    [Fact]
    public void Any_optimizer_trains_ML_NETs_own_model_with_ML_NETs_output_columns()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, "diabetes", DataKind.Single);
        var featurize = Featurize(mlContext, keyLabel: false);

        var adam = featurize.Append(mlContext.Regression.Trainers.PoissonRegression(new PoissonRegressionTrainer.Options
        {
            Optimizer = new Adam(0.05), BatchSize = 32, NumberOfEpochs = 100, Seed = 3,
        })).Fit(data);
        var lbfgs = featurize.Append(mlContext.Regression.Trainers.PoissonRegression()).Fit(data);
        var theirs = featurize.Append(mlContext.Regression.Trainers.LbfgsPoissonRegression(l1Regularization: 0, l2Regularization: 0)).Fit(data);

        Assert.IsType<PoissonRegressionModelParameters>(adam.LastTransformer.Model);
        var scored = adam.Transform(data);
        Assert.Equal(DescribeSchema(theirs.Transform(data).Schema), DescribeSchema(scored.Schema));
        // Score is the predicted mean exp(w·x + b): positive, and near the labels' mean on average.
        float[] scores = Floats(scored, "Score"), labels = Floats(scored, "Label");
        Assert.All(scores, s => Assert.True(s > 0));
        Assert.Equal(labels.Average(), scores.Average(), labels.Average() * 0.05);
        // Mini-batch Adam gets close to the L-BFGS optimum: its Poisson deviance is within 5%.
        Assert.True(Deviance(adam, data) <= 1.05 * Deviance(lbfgs, data), $"Adam {Deviance(adam, data)}, L-BFGS {Deviance(lbfgs, data)}");
    }

    [Fact]
    public void Negative_label_is_rejected_naming_the_column_and_row()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 5).Select(i => new RegressionRow { Label = i == 3 ? -2 : i, Features = [i, 1, 0] });
        var data = mlContext.Data.LoadFromEnumerable(rows);

        var error = Assert.ThrowsAny<ArgumentException>(() => mlContext.Regression.Trainers.PoissonRegression().Fit(data));

        Assert.Contains("Label column 'Label' of the training data, row 3: value is -2", error.Message);
    }

    [Fact]
    public void Warm_start_from_ML_NETs_Poisson_model_continues_from_its_weights()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Featurize(mlContext, keyLabel: false).Fit(Load(mlContext, "diabetes", DataKind.Single)).Transform(Load(mlContext, "diabetes", DataKind.Single));
        var theirs = mlContext.Regression.Trainers.LbfgsPoissonRegression(l1Regularization: 0, l2Regularization: 0).Fit(data).Model;

        // One epoch with a tiny SGD step: the result stays next to the starting point.
        var continued = new PoissonRegressionTrainer(mlContext, new PoissonRegressionTrainer.Options
        {
            Optimizer = new Sgd(1e-6), NumberOfEpochs = 1, L2Regularization = 0,
        }).Fit(data, theirs).Model;

        Assert.Equal(theirs.Bias, continued.Bias, 1e-3f);
        for (int j = 0; j < theirs.Weights.Count; j++)
        {
            Assert.Equal(theirs.Weights[j], continued.Weights[j], 1e-3f);
        }
    }

    [Fact]
    public void Onnx_export_scores_like_ML_NET()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, "diabetes", DataKind.Single);
        var model = Featurize(mlContext, keyLabel: false).Append(mlContext.Regression.Trainers.PoissonRegression(numberOfEpochs: 50)).Fit(data);
        float[] expected = Floats(model.Transform(data), "Score");

        float[] actual = OnnxScores(mlContext, model, data);

        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // float rounding of a dot product in another order, then exp: relative 1e-5.
            Assert.Equal(expected[i], actual[i], 1e-5 * expected[i]);
        }
    }

    private sealed class RegressionRow
    {
        public float Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>Mean Poisson deviance 2·(y·log(y/μ) − (y − μ)) of the model's Score μ.</summary>
    private static double Deviance(ITransformer model, IDataView data)
    {
        var scored = model.Transform(data);
        float[] mu = Floats(scored, "Score"), y = Floats(scored, "Label");
        return mu.Select((m, i) => 2 * ((y[i] > 0 ? y[i] * Math.Log(y[i] / m) : 0) - (y[i] - m))).Average();
    }
}
