using System.Globalization;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Tests.Support;

/// <summary>Reads the repository's samples/data CSV files (header row, numeric columns, last column <c>Label</c>).</summary>
internal static class SampleCsv
{
    /// <summary>Loads <paramref name="name"/>.csv as dense data, each feature standardised to mean 0 and variance 1; also returns the features.</summary>
    public static (TrainingData Data, float[] Features) LoadStandardized(string name)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", name + ".csv"));
        int featureCount = lines[0].Split(',').Length - 1;
        var rows = lines.Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
        var features = new float[rows.Length * featureCount];
        for (int j = 0; j < featureCount; j++)
        {
            double mean = rows.Average(r => r[j]);
            double deviation = Math.Sqrt(rows.Average(r => (r[j] - mean) * (r[j] - mean)));
            for (int i = 0; i < rows.Length; i++)
            {
                features[(i * featureCount) + j] = deviation > 0 ? (float)((rows[i][j] - mean) / deviation) : 0f;
            }
        }

        return (TrainingData.Dense(featureCount, (float[])features.Clone(), [.. rows.Select(r => (float)r[^1])], null), features);
    }
}
