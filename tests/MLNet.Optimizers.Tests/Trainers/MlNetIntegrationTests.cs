using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>The trained models behave as ML.NET models: schema, prediction engine, cross-validation, PFI, ONNX export.</summary>
public class MlNetIntegrationTests
{
    [Fact]
    public void Output_columns_and_info_are_those_of_the_equivalent_MlNet_trainer()
    {
        // SchemaShape.Create is internal, so the output schema is compared through EstimatorChain.Fit (which calls GetOutputSchema
        // on every estimator first) and the scored data's schema, annotations included.
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, "breast_cancer", DataKind.Boolean);
        var ours = mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.5), numberOfEpochs: 2);
        var theirs = mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression(new Microsoft.ML.Trainers.LbfgsLogisticRegressionBinaryTrainer.Options { MaximumNumberOfIterations = 2 });

        var oursScored = Featurize(mlContext, keyLabel: false).Append(ours).Fit(data).Transform(data);
        var theirsScored = Featurize(mlContext, keyLabel: false).Append(theirs).Fit(data).Transform(data);

        Assert.Equal(DescribeSchema(theirsScored.Schema), DescribeSchema(oursScored.Schema));
        Assert.True(ours.Info.NeedNormalization);
        Assert.True(ours.Info.WantCaching);
    }

    [Fact]
    public void Pipeline_fit_rejects_a_missing_label_column_before_training()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, "breast_cancer", DataKind.Boolean);
        var pipeline = Featurize(mlContext, keyLabel: false).Append(mlContext.BinaryClassification.Trainers.LogisticRegression(labelColumnName: "NoSuchColumn"));

        var error = Assert.ThrowsAny<ArgumentException>(() => pipeline.Fit(data));
        Assert.Contains("NoSuchColumn", error.Message);
    }

    private sealed class FlowerInput
    {
        [VectorType(4)]
        public float[] Raw { get; set; } = [];

        public float Label { get; set; }
    }

    private sealed class FlowerPrediction
    {
        public uint PredictedLabel { get; set; }

        public float[] Score { get; set; } = [];
    }

    [Fact]
    public void Prediction_engine_scores_like_Transform()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, "iris", DataKind.Single);
        var model = TrainerTestModels.Fit(mlContext, "iris", data);
        float[] firstRow = data.GetColumn<float[]>("Raw").First();

        var engine = mlContext.Model.CreatePredictionEngine<FlowerInput, FlowerPrediction>(model);
        FlowerPrediction prediction = engine.Predict(new FlowerInput { Raw = firstRow });

        float[] expected = model.Transform(data).GetColumn<float[]>("Score").First();
        Assert.Equal(expected, prediction.Score);
        Assert.Equal(1u, prediction.PredictedLabel); // first iris row is class 0 → key 1
    }

    [Fact]
    public void Cross_validation_runs_five_folds()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, "breast_cancer", DataKind.Boolean);

        var folds = mlContext.BinaryClassification.CrossValidate(data, TrainerTestModels.Pipeline(mlContext, "breast_cancer"), numberOfFolds: 5);

        Assert.Equal(5, folds.Count);
        Assert.All(folds, f => Assert.True(f.Metrics.AreaUnderRocCurve > 0.95, $"fold AUC {f.Metrics.AreaUnderRocCurve}"));
    }

    [Fact]
    public void Permutation_feature_importance_ranks_the_features_that_matter()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Featurize(mlContext, keyLabel: false).Fit(Load(mlContext, "diabetes", DataKind.Single)).Transform(Load(mlContext, "diabetes", DataKind.Single));
        var model = mlContext.Regression.Trainers.LinearRegression(optimizer: new Sgd(0.1), numberOfEpochs: 300).Fit(data);

        var importance = mlContext.Regression.PermutationFeatureImportance(model, data, permutationCount: 1);

        Assert.Equal(FeatureCount("diabetes"), importance.Length);
        // bmi (slot 2) and s5 (slot 8) are the strongest diabetes predictors: permuting either must cost R².
        Assert.True(importance[2].RSquared.Mean < -0.05, $"bmi ΔR² {importance[2].RSquared.Mean}");
        Assert.True(importance[8].RSquared.Mean < -0.05, $"s5 ΔR² {importance[8].RSquared.Mean}");
    }

    [Fact]
    public void Feature_contributions_are_weight_times_feature()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Featurize(mlContext, keyLabel: false).Fit(Load(mlContext, "diabetes", DataKind.Single)).Transform(Load(mlContext, "diabetes", DataKind.Single));
        var model = mlContext.Regression.Trainers.LinearRegression(optimizer: new Sgd(0.1), numberOfEpochs: 20).Fit(data);

        var contributions = mlContext.Transforms.CalculateFeatureContribution(model, numberOfPositiveContributions: 10, numberOfNegativeContributions: 10, normalize: false)
            .Fit(data).Transform(data);

        float[] features = contributions.GetColumn<float[]>("Features").First();
        float[] contribution = contributions.GetColumn<float[]>("FeatureContributions").First();
        for (int j = 0; j < features.Length; j++)
        {
            Assert.Equal(model.Model.Weights[j] * features[j], contribution[j], 1e-5f);
        }
    }

    [Theory]
    [InlineData("breast_cancer", DataKind.Boolean)]
    [InlineData("wine", DataKind.Single)]
    [InlineData("diabetes", DataKind.Single)]
    public void Onnx_export_scores_like_MlNet(string dataset, DataKind labelKind)
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load(mlContext, dataset, labelKind);
        var model = TrainerTestModels.Fit(mlContext, dataset, data);
        float[] expected = Floats(model.Transform(data), "Score");

        float[] actual = OnnxScores(mlContext, model, data);

        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // float rounding of a dot product in another order: relative 1e-5 of the score (absolute near zero).
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"score {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
