using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Optimizers.Tests.Comparison;

/// <summary>Loads the sample data sets for the comparison tests: every column but the last is a feature, the last is the label.</summary>
internal static class ComparisonData
{
    public static IDataView BreastCancer(MLContext mlContext) => Load(mlContext, "breast_cancer.csv", DataKind.Boolean);

    public static IDataView Load(MLContext mlContext, string file, DataKind labelKind)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "data", file);
        int columnCount = File.ReadLines(path).First().Split(',').Length;
        return mlContext.Data.LoadFromTextFile(path,
        [
            new TextLoader.Column("Features", DataKind.Single, 0, columnCount - 2),
            new TextLoader.Column("Label", labelKind, columnCount - 1),
        ], separatorChar: ',', hasHeader: true);
    }
}
