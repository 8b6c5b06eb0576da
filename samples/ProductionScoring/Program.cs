using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Scores a saved model with Microsoft.ML and ONNX Runtime only (this project never references MLNet.Optimizers).
// QuickStart's breast-cancer model (the default) is scored three ways — PredictionEngine, batch Transform, and the ONNX export
// run by ONNX Runtime — and they must agree. Any other model saved with its loader (the OptimizerComparison main job's
// model.zip reads the raw CSV columns) scores the CSV given, and its ONNX export is checked where the pipeline converts.
// Usage: ProductionScoring [model.zip] [data.csv]. Exit codes: 0 agree, 1 disagree beyond 1e-5, 2 bad input.
const double Tolerance = 1e-5;
string modelPath = Path.GetFullPath(args.Length > 0 ? args[0] : "model.zip");
string dataPath = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "data", "breast_cancer.csv");
if (!File.Exists(modelPath) || !File.Exists(dataPath))
{
    Console.Error.WriteLine($"error: {(File.Exists(modelPath) ? $"data file '{dataPath}'" : $"model '{modelPath}' (run samples/QuickStart first)")} does not exist.");
    return 2;
}

var mlContext = new MLContext(seed: 0);
ITransformer model;
IDataLoader<IMultiStreamSource> loader;
try
{
    model = mlContext.Model.LoadWithDataLoader(modelPath, out loader);
}
catch (Exception error) when (error is InvalidOperationException or FormatException or InvalidDataException)
{
    Console.Error.WriteLine($"error: '{modelPath}' holds no data loader, so it cannot read a CSV file; save it with its loader " +
        "(mlContext.Model.Save(model, loader, path)).");
    return 2;
}

IDataView data = loader.Load(new MultiFileSource(dataPath));
if (data.Schema.GetColumnOrNull("Measurements") is not { Type: VectorDataViewType { Size: 30 } })
{
    return GenericScoring.Run(mlContext, model, data, modelPath, dataPath);
}

// 1. Batch scoring with Transform.
IDataView scored = model.Transform(data);
float[] batchScores = [.. scored.GetColumn<float>("Score")];
float[] batchProbabilities = [.. scored.GetColumn<float>("Probability")];

// 2. One row at a time with a PredictionEngine.
var engine = mlContext.Model.CreatePredictionEngine<TumorMeasurements, TumorPrediction>(model);
TumorMeasurements[] rows = [.. mlContext.Data.CreateEnumerable<TumorMeasurements>(data, reuseRowObject: false)];
TumorPrediction[] predictions = [.. rows.Select(engine.Predict)];
double engineDiff = MaxAbsDiff(batchProbabilities, predictions.Select(p => p.Probability));

// 3. ONNX: export, then score with ONNX Runtime.
string onnxPath = Path.ChangeExtension(modelPath, ".onnx");
using (var stream = File.Create(onnxPath))
{
    mlContext.Model.ConvertToOnnx(model, data, stream);
}

using var session = new InferenceSession(onnxPath);
var inputs = new List<NamedOnnxValue>();
foreach ((string name, NodeMetadata metadata) in session.InputMetadata)
{
    inputs.Add(name switch
    {
        "Measurements" => NamedOnnxValue.CreateFromTensor(name,
            new DenseTensor<float>(rows.SelectMany(r => r.Measurements).ToArray(), [rows.Length, 30])),
        "Label" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(rows.Select(r => r.Label).ToArray(), [rows.Length, 1])),
        _ => throw new InvalidOperationException($"The ONNX graph has an unexpected input '{name}' ({metadata.ElementType})."),
    });
}

float[] onnxScores, onnxProbabilities;
using (var results = session.Run(inputs))
{
    onnxScores = [.. results.Single(r => r.Name == "Score.output").AsEnumerable<float>()];
    onnxProbabilities = [.. results.Single(r => r.Name == "Probability.output").AsEnumerable<float>()];
}

double onnxScoreDiff = MaxAbsDiff(batchScores, onnxScores);
double onnxProbabilityDiff = MaxAbsDiff(batchProbabilities, onnxProbabilities);
Console.WriteLine($"Model: {modelPath}");
Console.WriteLine($"Scored {rows.Length} rows; ONNX model written to {onnxPath}");
Console.WriteLine($"PredictionEngine vs Transform: max |Δprobability| = {engineDiff:E2}");
Console.WriteLine($"ONNX Runtime vs ML.NET:        max |Δscore| = {onnxScoreDiff:E2}, max |Δprobability| = {onnxProbabilityDiff:E2}");
Console.WriteLine($"First row: score {batchScores[0]:F4}, probability {batchProbabilities[0]:F4}, predicted {predictions[0].PredictedLabel}");
bool agree = Math.Max(engineDiff, Math.Max(onnxScoreDiff, onnxProbabilityDiff)) <= Tolerance;
Console.WriteLine(agree ? $"OK: all three agree within {Tolerance:E0}." : $"MISMATCH: a difference exceeds {Tolerance:E0}.");
return agree ? 0 : 1;

static double MaxAbsDiff(IReadOnlyList<float> expected, IEnumerable<float> actual)
{
    float[] values = [.. actual];
    if (values.Length != expected.Count)
    {
        return double.PositiveInfinity;
    }

    return expected.Zip(values, (a, b) => Math.Abs((double)a - b)).DefaultIfEmpty(0).Max();
}

/// <summary>The model's input: the 30 measurements and the label, as QuickStart's loader reads them.</summary>
internal sealed class TumorMeasurements
{
    [VectorType(30)]
    public float[] Measurements { get; set; } = [];

    public bool Label { get; set; }
}

/// <summary>The binary model's outputs.</summary>
internal sealed class TumorPrediction
{
    public bool PredictedLabel { get; set; }

    public float Score { get; set; }

    public float Probability { get; set; }
}
