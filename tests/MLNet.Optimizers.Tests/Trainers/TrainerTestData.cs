using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>The sample CSVs (copied to data/ in the test output) and the standard pipelines around the trainers.</summary>
internal static class TrainerTestData
{
    internal static string PathOf(string dataset) => Path.Combine(AppContext.BaseDirectory, "data", dataset + ".csv");

    internal static int FeatureCount(string dataset) => File.ReadLines(PathOf(dataset)).First().Split(',').Length - 1;

    /// <summary>Loads the raw features as one vector column <c>Raw</c> and the last column as <c>Label</c> of the given kind.</summary>
    internal static TextLoader Loader(MLContext mlContext, string dataset, DataKind labelKind)
    {
        int featureCount = FeatureCount(dataset);
        return mlContext.Data.CreateTextLoader(
            [new TextLoader.Column("Raw", DataKind.Single, 0, featureCount - 1), new TextLoader.Column("Label", labelKind, featureCount)],
            separatorChar: ',', hasHeader: true);
    }

    internal static IDataView Load(MLContext mlContext, string dataset, DataKind labelKind) =>
        Loader(mlContext, dataset, labelKind).Load(PathOf(dataset));

    /// <summary>Concatenate → NormalizeMeanVariance, preceded by MapValueToKey(Label) for multiclass.</summary>
    internal static IEstimator<ITransformer> Featurize(MLContext mlContext, bool keyLabel)
    {
        IEstimator<ITransformer> featurize = mlContext.Transforms.Concatenate("Features", "Raw")
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"));
        return keyLabel ? mlContext.Transforms.Conversion.MapValueToKey("Label").Append(featurize) : featurize;
    }

    /// <summary>The fixed 80/20 split every parity test uses.</summary>
    internal static DataOperationsCatalog.TrainTestData Split(MLContext mlContext, IDataView data) =>
        mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);

    internal static long RowCount(IDataView data)
    {
        long count = 0;
        using DataViewRowCursor cursor = data.GetRowCursor([]);
        while (cursor.MoveNext())
        {
            count++;
        }

        return count;
    }

    /// <summary>Every float of a column (scalar or vector), row by row.</summary>
    internal static float[] Floats(IDataView data, string column) =>
        data.Schema[column].Type is VectorDataViewType
            ? data.GetColumn<float[]>(column).SelectMany(v => v).ToArray()
            : data.GetColumn<float>(column).ToArray();

    /// <summary>Each column as name, type, hidden flag and annotation names, to compare output schemas.</summary>
    internal static string[] DescribeSchema(DataViewSchema schema) =>
        schema.Select(c => $"{c.Name}:{c.Type}:{c.IsHidden}:{string.Join('|', c.Annotations.Schema.Select(a => a.Name).Order())}").ToArray();

    /// <summary>
    /// Exports <paramref name="model"/> to ONNX and scores <paramref name="data"/>'s <c>Raw</c> column with ONNX Runtime; returns
    /// the <c>Score</c> output, row by row (other inputs, such as the label, get zeros).
    /// </summary>
    internal static float[] OnnxScores(MLContext mlContext, ITransformer model, IDataView data)
    {
        float[][] raw = data.GetColumn<float[]>("Raw").ToArray();
        using var onnx = new MemoryStream();
        mlContext.Model.ConvertToOnnx(model, data, onnx);
        using var session = new InferenceSession(onnx.ToArray());
        var inputs = new List<NamedOnnxValue>();
        foreach (var (name, meta) in session.InputMetadata)
        {
            inputs.Add(name switch
            {
                "Raw" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(raw.SelectMany(r => r).ToArray(), [raw.Length, raw[0].Length])),
                _ when meta.ElementType == typeof(bool) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>([raw.Length, 1])),
                _ => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>([raw.Length, 1])),
            });
        }

        using var results = session.Run(inputs, ["Score.output"]);
        return results.First().AsTensor<float>().ToArray();
    }

    /// <summary>In-memory rows for small hand-made data sets.</summary>
    internal sealed class Row
    {
        public bool Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [];

        public float Weight { get; set; } = 1;
    }

    /// <summary>A small, noisy, linearly separable-ish binary set: label = (x0 + 0.5·x1 − x2 + noise &gt; 0).</summary>
    internal static Row[] SmallBinaryRows(int count = 200, int seed = 3)
    {
        var random = new Random(seed);
        var rows = new Row[count];
        for (int i = 0; i < count; i++)
        {
            float[] x = [(float)(random.NextDouble() * 2 - 1), (float)(random.NextDouble() * 2 - 1), (float)(random.NextDouble() * 2 - 1)];
            double noise = (random.NextDouble() - 0.5) * 0.8;
            rows[i] = new Row { Features = x, Label = x[0] + 0.5 * x[1] - x[2] + noise > 0 };
        }

        return rows;
    }
}

/// <summary>Quickly trained pipelines (full-batch SGD, few epochs) for tests about ML.NET integration rather than accuracy.</summary>
internal static class TrainerTestModels
{
    internal static IEstimator<ITransformer> Pipeline(MLContext mlContext, string dataset) => dataset switch
    {
        "breast_cancer" => TrainerTestData.Featurize(mlContext, keyLabel: false).Append(
            mlContext.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.5), numberOfEpochs: 20)),
        "diabetes" => TrainerTestData.Featurize(mlContext, keyLabel: false).Append(
            mlContext.Regression.Trainers.LinearRegression(optimizer: new Sgd(0.1), numberOfEpochs: 50)),
        _ => TrainerTestData.Featurize(mlContext, keyLabel: true).Append(
            mlContext.MulticlassClassification.Trainers.SoftmaxRegression(optimizer: new Sgd(0.5), numberOfEpochs: 20)),
    };

    internal static ITransformer Fit(MLContext mlContext, string dataset, IDataView data) => Pipeline(mlContext, dataset).Fit(data);
}
