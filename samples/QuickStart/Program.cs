using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers;
using MLNet.Optimizers.Trainers;

// The shortest complete pipeline: load, normalise, train logistic regression with Adam, evaluate, save, predict one row.
var mlContext = new MLContext(seed: 0);
var loader = mlContext.Data.CreateTextLoader<TumorMeasurements>(separatorChar: ',', hasHeader: true);
IDataView data = loader.Load(Path.Combine(AppContext.BaseDirectory, "data", "breast_cancer.csv"));
var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 0);

var pipeline = mlContext.Transforms.Concatenate("Features", nameof(TumorMeasurements.Measurements))
    .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
    .Append(mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
    {
        Optimizer = new Adam(learningRate: 0.01),
        BatchSize = 32,
        NumberOfEpochs = 50,
        Seed = 0,
    }));
var model = pipeline.Fit(split.TrainSet);

var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine($"Test set: AUC {metrics.AreaUnderRocCurve:F4}, accuracy {metrics.Accuracy:F4}, log-loss {metrics.LogLoss:F4}");

// Saved with its loader, so a scoring process can read the same CSV layout without this program's classes.
string modelPath = Path.GetFullPath(args.Length > 0 ? args[0] : "model.zip");
mlContext.Model.Save(model, loader, modelPath);
Console.WriteLine($"Model saved to {modelPath}");

var engine = mlContext.Model.CreatePredictionEngine<TumorMeasurements, TumorPrediction>(model);
TumorMeasurements first = mlContext.Data.CreateEnumerable<TumorMeasurements>(split.TestSet, reuseRowObject: false).First();
TumorPrediction prediction = engine.Predict(first);
Console.WriteLine($"First test row: label {first.Label}, predicted {prediction.PredictedLabel} (probability {prediction.Probability:F4})");

/// <summary>One row of breast_cancer.csv: 30 measurements, then the label (1 = benign).</summary>
internal sealed class TumorMeasurements
{
    [LoadColumn(0, 29), VectorType(30)]
    public float[] Measurements { get; set; } = [];

    [LoadColumn(30)]
    public bool Label { get; set; }
}

/// <summary>The columns the binary trainer adds.</summary>
internal sealed class TumorPrediction
{
    public bool PredictedLabel { get; set; }

    public float Score { get; set; }

    public float Probability { get; set; }
}
