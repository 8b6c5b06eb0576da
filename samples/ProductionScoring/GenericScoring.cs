using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

/// <summary>Scores any model saved with its loader on the raw file, and checks its ONNX export where the pipeline converts.</summary>
internal static class GenericScoring
{
    private const double Tolerance = 1e-4;

    public static int Run(MLContext mlContext, ITransformer model, IDataView data, string modelPath, string dataPath)
    {
        IDataView scored = model.Transform(data);
        string[] outputs = [.. new[] { "PredictedLabel", "Score", "Probability" }.Where(name => scored.Schema.GetColumnOrNull(name) is not null)];
        if (outputs.Length == 0)
        {
            Console.Error.WriteLine($"error: '{modelPath}' produces none of PredictedLabel, Score, Probability; it is not a predictor.");
            return 2;
        }

        var preview = scored.Preview(maxRows: 5);
        long rows = 0;
        using (DataViewRowCursor cursor = scored.GetRowCursor([]))
        {
            while (cursor.MoveNext())
            {
                rows++;
            }
        }

        Console.WriteLine($"Model: {modelPath}");
        Console.WriteLine($"Scored {rows} rows of {dataPath}; first rows:");
        foreach (var row in preview.RowView)
        {
            Console.WriteLine("  " + string.Join(", ", row.Values.Where(v => outputs.Contains(v.Key)).GroupBy(v => v.Key).Select(g => g.Last()).Select(v => $"{v.Key} = {Show(v.Value)}")));
        }

        return CheckOnnx(mlContext, model, data, scored, modelPath);
    }

    /// <summary>Exports to ONNX and compares ONNX Runtime's scores with ML.NET's; 0 when they agree or the pipeline does not convert.</summary>
    private static int CheckOnnx(MLContext mlContext, ITransformer model, IDataView data, IDataView scored, string modelPath)
    {
        string onnxPath = Path.ChangeExtension(modelPath, ".onnx");
        try
        {
            using var stream = File.Create(onnxPath);
            mlContext.Model.ConvertToOnnx(model, data, stream);
        }
        catch (Exception error) when (error is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            File.Delete(onnxPath);
            Console.WriteLine($"ONNX: this pipeline does not convert ({error.Message.ReplaceLineEndings(" ")}); ML.NET scoring only.");
            return 0;
        }

        using var session = new InferenceSession(onnxPath);
        var inputs = new List<NamedOnnxValue>();
        foreach ((string name, NodeMetadata metadata) in session.InputMetadata)
        {
            DataViewSchema.Column column = data.Schema[name];
            inputs.Add(column.Type is TextDataViewType
                ? NamedOnnxValue.CreateFromTensor(name, Tensor(data.GetColumn<ReadOnlyMemory<char>>(column).Select(v => v.ToString())))
                : column.Type == NumberDataViewType.Single
                    ? NamedOnnxValue.CreateFromTensor(name, Tensor(data.GetColumn<float>(column)))
                    : throw new NotSupportedException($"ONNX input '{name}' has the type {column.Type}, which this check does not feed."));
        }

        float[] expected = [.. Flatten(scored, "Score")];
        float[] actual;
        using (var results = session.Run(inputs))
        {
            actual = [.. results.Single(r => r.Name == "Score.output").AsEnumerable<float>()];
        }

        double difference = expected.Length == actual.Length
            ? expected.Zip(actual, (a, b) => Math.Abs((double)a - b)).Where(d => !double.IsNaN(d)).DefaultIfEmpty(0).Max()
            : double.PositiveInfinity;
        Console.WriteLine($"ONNX Runtime vs ML.NET: max |Δscore| = {difference:E2} (ONNX model written to {onnxPath})");
        return difference <= Tolerance ? 0 : 1;
    }

    private static DenseTensor<T> Tensor<T>(IEnumerable<T> values)
    {
        T[] array = [.. values];
        return new DenseTensor<T>(array, [array.Length, 1]);
    }

    private static IEnumerable<float> Flatten(IDataView scored, string column) => scored.Schema[column].Type is VectorDataViewType
        ? scored.GetColumn<VBuffer<float>>(scored.Schema[column]).SelectMany(v => v.DenseValues())
        : scored.GetColumn<float>(scored.Schema[column]);

    private static string Show(object value) => value switch
    {
        VBuffer<float> vector => "[" + string.Join(", ", vector.DenseValues().Select(v => v.ToString("F3"))) + "]",
        float number => number.ToString("F4"),
        ReadOnlyMemory<char> text => text.ToString(),
        _ => value.ToString() ?? "",
    };
}
