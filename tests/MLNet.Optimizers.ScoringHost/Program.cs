using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: MLNet.Optimizers.ScoringHost <model.zip saved with its loader> <data file>
// Prints one line per row: the row's Score (and Probability, when present) values in round-trip format, separated by spaces,
// then a last line listing the assemblies loaded, so the caller can check that MLNet.Optimizers was never loaded.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: MLNet.Optimizers.ScoringHost <model.zip> <data file>");
    return 2;
}

var mlContext = new MLContext(seed: 0);
ITransformer model = mlContext.Model.LoadWithDataLoader(args[0], out IDataLoader<IMultiStreamSource> loader);
IDataView scored = model.Transform(loader.Load(new MultiFileSource(args[1])));

DataViewSchema.Column score = scored.Schema["Score"];
DataViewSchema.Column? probability = scored.Schema.GetColumnOrNull("Probability");
var columns = probability is { } p ? new[] { score, p } : [score];
using (DataViewRowCursor cursor = scored.GetRowCursor(columns))
{
    var fields = new List<string>();
    Func<IEnumerable<float>> readScore = score.Type is VectorDataViewType
        ? VectorReader(cursor.GetGetter<VBuffer<float>>(score))
        : ScalarReader(cursor.GetGetter<float>(score));
    Func<IEnumerable<float>>? readProbability = probability is { } pc ? ScalarReader(cursor.GetGetter<float>(pc)) : null;
    while (cursor.MoveNext())
    {
        fields.Clear();
        fields.AddRange(readScore().Select(Format));
        if (readProbability is not null)
        {
            fields.AddRange(readProbability().Select(Format));
        }

        Console.WriteLine(string.Join(' ', fields));
    }
}

Console.WriteLine("assemblies: " + string.Join(',', AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name)));
return 0;

static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

static Func<IEnumerable<float>> ScalarReader(ValueGetter<float> getter) => () =>
{
    float value = 0;
    getter(ref value);
    return [value];
};

static Func<IEnumerable<float>> VectorReader(ValueGetter<VBuffer<float>> getter) => () =>
{
    VBuffer<float> value = default;
    getter(ref value);
    return value.DenseValues().ToArray();
};
