using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Comparison;

namespace OptimizerComparisonSample;

/// <summary>A CSV file with a header, its label column and task, and the ML.NET loader built from the header.</summary>
/// <remarks>Every numeric column except the label is a feature (concatenated into one vector); other columns are ignored.</remarks>
internal sealed class CsvDataset
{
    private const int MaximumClassCount = 100;

    private CsvDataset(string path, string label, ComparisonTask task, TextLoader.Column[] columns, int featureCount, int rowCount, int classCount)
    {
        Path = path;
        LabelColumnName = label;
        Task = task;
        Columns = columns;
        FeatureCount = featureCount;
        RowCount = rowCount;
        ClassCount = classCount;
    }

    public string Path { get; }

    public string Name => System.IO.Path.GetFileNameWithoutExtension(Path);

    public string LabelColumnName { get; }

    public string FeatureColumnName => LabelColumnName == "Features" ? "FeatureVector" : "Features";

    public ComparisonTask Task { get; }

    public int FeatureCount { get; }

    public int RowCount { get; }

    public int ClassCount { get; }

    private TextLoader.Column[] Columns { get; }

    public IDataView Load(MLContext mlContext) =>
        mlContext.Data.LoadFromTextFile(Path, Columns, separatorChar: ',', hasHeader: true, allowQuoting: true);

    /// <summary>Reads the header and the values, checks the label against the task (or infers the task), and builds the loader columns.</summary>
    /// <exception cref="UsageException">The file, the label column or the task does not fit.</exception>
    public static CsvDataset Inspect(string path, string? label, ComparisonTask? task)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"data file '{path}' does not exist.");
        }

        string[][] rows = [.. File.ReadLines(path).Where(line => line.Length > 0).Select(SplitLine)];
        if (rows.Length < 2)
        {
            throw new UsageException($"'{path}' needs a header row and at least one data row.");
        }

        string[] header = rows[0];
        string labelName = label ?? (header.Contains("Label") ? "Label" : header[^1]);
        int labelIndex = Array.IndexOf(header, labelName);
        if (labelIndex < 0)
        {
            throw new UsageException($"label column '{labelName}' is not in '{path}'; its columns are: {string.Join(", ", header)}.");
        }

        string[][] data = rows[1..];
        if (data.FirstOrDefault(row => row.Length != header.Length) is { } ragged)
        {
            throw new UsageException($"'{path}' row {Array.IndexOf(data, ragged) + 2} has {ragged.Length} fields; the header has {header.Length}.");
        }

        int[] features = [.. Enumerable.Range(0, header.Length).Where(c => c != labelIndex && data.All(row => IsNumber(row[c])))];
        if (features.Length == 0)
        {
            throw new UsageException($"'{path}' has no numeric column besides the label '{labelName}' to use as features.");
        }

        string[] labels = [.. data.Select(row => row[labelIndex])];
        string[] distinct = [.. labels.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)];
        bool numeric = labels.All(IsNumber);
        bool zeroOne = distinct.All(v => v is "0" or "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase));
        ComparisonTask chosen = task ?? (zeroOne && distinct.Length <= 2 ? ComparisonTask.BinaryClassification
            : !numeric || (distinct.Length <= 20 && labels.All(IsInteger)) ? ComparisonTask.MulticlassClassification
            : ComparisonTask.Regression);
        string sample = string.Join(", ", distinct.Take(5)) + (distinct.Length > 5 ? ", ..." : "");
        DataKind labelKind = chosen switch
        {
            ComparisonTask.BinaryClassification when !zeroOne || distinct.Length != 2 => throw new UsageException(
                $"--task binary needs a label with the two values 0/1 or true/false; column '{labelName}' has {distinct.Length} values ({sample})."),
            ComparisonTask.BinaryClassification => DataKind.Boolean,
            ComparisonTask.Regression when !numeric => throw new UsageException(
                $"--task regression needs a numeric label; column '{labelName}' has values such as {sample}."),
            ComparisonTask.Regression => DataKind.Single,
            _ when distinct.Length < 2 || distinct.Length > MaximumClassCount => throw new UsageException(
                $"--task multiclass needs 2 to {MaximumClassCount} label values; column '{labelName}' has {distinct.Length} ({sample}); " +
                "use --task regression for a continuous label."),
            _ => numeric ? DataKind.Single : DataKind.String,
        };

        var dataset = new TextLoader.Column[]
        {
            new(labelName == "Features" ? "FeatureVector" : "Features", DataKind.Single, [.. features.Select(c => new TextLoader.Range(c))]),
            new(labelName, labelKind, labelIndex),
        };
        return new CsvDataset(path, labelName, chosen, dataset, features.Length, data.Length,
            chosen == ComparisonTask.Regression ? 0 : distinct.Length);
    }

    private static bool IsNumber(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value);

    private static bool IsInteger(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value == Math.Floor(value);

    /// <summary>Splits one CSV line on commas, honouring double quotes (as the loader does with allowQuoting).</summary>
    private static string[] SplitLine(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '"' && quoted && i + 1 < line.Length && line[i + 1] == '"')
            {
                field.Append('"');
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString().Trim());
        return [.. fields];
    }
}

/// <summary>A problem with the command line or the data that the user can fix; reported as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
