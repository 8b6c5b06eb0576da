using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Sylvan.Data.Csv;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// A CSV file made ready for a comparison: its separator, label and task inferred (or as given), every column given a role,
/// an ML.NET <see cref="TextLoader"/> for the raw file and a featurizer from the raw columns to one feature vector.
/// </summary>
/// <remarks>
/// One pass with Sylvan.Data.Csv (separator detection, quoting) profiles every column. Numeric columns are features, their
/// missing cells (empty, NA, NaN, ?) replaced by the training rows' mean with a 0/1 indicator feature, as ML.NET's
/// <c>ReplaceMissingValues</c> and <c>IndicateMissingValues</c> do; text columns with at most
/// <see cref="CsvDataSetOptions.MaximumCategories"/> values are one-hot encoded; other columns are ignored, with the reason.
/// The loader and the featurizer are ML.NET's own, so a model that starts with them scores the raw CSV with Microsoft.ML alone.
/// </remarks>
public sealed class CsvDataSet
{
    private const int MaximumClassCount = 100;
    private const int MaximumIntegerClassCount = 20;
    private static readonly string[] LabelNames = ["label", "target", "class", "y", "outcome"];
    private static readonly char[] Separators = [',', ';', '\t', '|'];

    private readonly bool _multiline;
    private readonly bool _numericLabel;

    private CsvDataSet(string path, char separator, char decimalMarker, bool multiline, IReadOnlyList<CsvColumn> columns, string labelReason,
        bool numericLabel, ComparisonTask task, string taskReason, int rowCount, int blankLabelRows, int classCount)
    {
        _numericLabel = numericLabel;
        Path = path;
        Separator = separator;
        DecimalMarker = decimalMarker;
        _multiline = multiline;
        Columns = columns;
        LabelReason = labelReason;
        Task = task;
        TaskReason = taskReason;
        RowCount = rowCount;
        BlankLabelRows = blankLabelRows;
        ClassCount = classCount;
        FeatureColumnName = UniqueName("Features");
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The file name without extension, used to name reports.</summary>
    public string Name => System.IO.Path.GetFileNameWithoutExtension(Path);

    /// <summary>The field separator, as given or detected.</summary>
    public char Separator { get; }

    /// <summary>The decimal marker of the numbers: '.' or, in a file not separated by commas whose numbers use it, ','.</summary>
    public char DecimalMarker { get; }

    /// <summary>Every column with its role.</summary>
    public IReadOnlyList<CsvColumn> Columns { get; }

    /// <summary>The label column.</summary>
    public CsvColumn Label => Columns.Single(c => c.Role == CsvColumnRole.Label);

    /// <summary>How the label was chosen (e.g. <c>named 'target'</c>, <c>the last column</c>, <c>as given</c>).</summary>
    public string LabelReason { get; }

    /// <summary>The task, as given or inferred from the label.</summary>
    public ComparisonTask Task { get; }

    /// <summary>Why this task (e.g. <c>the label has two values</c>).</summary>
    public string TaskReason { get; }

    /// <summary>The data rows, blank labels included.</summary>
    public int RowCount { get; }

    /// <summary>The rows whose label is blank, which the comparison leaves out.</summary>
    public int BlankLabelRows { get; }

    /// <summary>The label's distinct values for classification; 0 for regression.</summary>
    public int ClassCount { get; }

    /// <summary>The name of the assembled feature vector (<c>Features</c>, unless the file has a column of that name).</summary>
    public string FeatureColumnName { get; }

    /// <summary>The numeric and categorical columns the featurizer uses.</summary>
    public IReadOnlyList<CsvColumn> Features => [.. Columns.Where(c => c.Role is CsvColumnRole.Numeric or CsvColumnRole.Categorical)];

    /// <summary>The columns left out, each with its reason.</summary>
    public IReadOnlyList<CsvColumn> Ignored => [.. Columns.Where(c => c.Role == CsvColumnRole.Ignored)];

    /// <summary>Reads <paramref name="path"/> once and decides the separator, label, task and every column's role.</summary>
    /// <param name="path">A CSV file with a header row.</param>
    /// <param name="options">What to use instead of inferring; null infers everything.</param>
    /// <exception cref="CsvDataException">The file cannot be read as asked; the message names the file, column or row.</exception>
    public static CsvDataSet Inspect(string path, CsvDataSetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new CsvDataSetOptions();
        if (!File.Exists(path))
        {
            throw new CsvDataException($"data file '{path}' does not exist.");
        }

        if (options.MaximumCategories < 1)
        {
            throw new CsvDataException($"MaximumCategories must be at least 1; got {options.MaximumCategories}.", nameof(options.MaximumCategories));
        }

        char separator = options.Separator ?? DetectSeparator(path);
        (CsvColumnProfile[] profiles, int rowCount, bool multiline) = Profile(path, separator, Math.Max(options.MaximumCategories, MaximumClassCount));
        if (profiles.Length < 2)
        {
            throw new CsvDataException(options.Separator is null
                ? $"'{path}' has a single column with the separators ',', ';', tab and '|'; give the separator."
                : $"'{path}' has a single column with the separator '{Show(separator)}'.", nameof(options.Separator));
        }

        if (rowCount == 0)
        {
            throw new CsvDataException($"'{path}' has a header but no data rows.");
        }

        char decimalMarker = separator != ',' && profiles.Any(p => !p.AllNumbers && p.AllCommaDecimalNumbers && p.ValueCount > 0) ? ',' : '.';
        (CsvColumnProfile label, string labelReason) = ChooseLabel(path, profiles, options.LabelColumnName);
        (ComparisonTask task, string taskReason) = ChooseTask(label, decimalMarker, options.Task);
        CsvColumn[] columns = [.. profiles.Select(p => p == label
            ? new CsvColumn(p.Name, p.Index, CsvColumnRole.Label, p.MissingCount, p.Distinct.Count, null)
            : Classify(p, decimalMarker, rowCount, options.MaximumCategories))];
        if (!columns.Any(c => c.Role is CsvColumnRole.Numeric or CsvColumnRole.Categorical))
        {
            throw new CsvDataException($"'{path}' has no usable feature besides the label '{label.Name}': " +
                string.Join("; ", columns.Where(c => c.Role == CsvColumnRole.Ignored).Select(c => $"{c.Name}: {c.Reason}")) + ".");
        }

        return new CsvDataSet(path, separator, decimalMarker, multiline, columns, labelReason, IsNumeric(label, decimalMarker), task, taskReason,
            rowCount, label.MissingCount,
            task == ComparisonTask.Regression ? 0 : label.Distinct.Count);
    }

    /// <summary>ML.NET's loader for the raw file: numeric columns as Single (missing cells as NaN), the others as text.</summary>
    /// <param name="mlContext">The context.</param>
    public TextLoader CreateLoader(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = [Separator],
            HasHeader = true,
            AllowQuoting = true,
            ReadMultilines = _multiline,
            MissingRealsAsNaNs = true,
            DecimalMarker = DecimalMarker,
            Columns = [.. Columns.Where(c => c.Role != CsvColumnRole.Ignored).Select(c => new TextLoader.Column(c.Name, LoadedKind(c), c.Index))],
        });
    }

    /// <summary>
    /// The featurizer from the loaded columns to <see cref="FeatureColumnName"/>: missing-value indicators and mean replacement,
    /// one-hot encoding, concatenation, then mean-variance normalization. Fitted by the comparison inside each fold.
    /// </summary>
    /// <param name="mlContext">The context.</param>
    public IEstimator<ITransformer> CreateFeaturizer(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var transforms = mlContext.Transforms;
        IEstimator<ITransformer> chain = new EstimatorChain<ITransformer>();
        var parts = new List<string>();
        foreach (CsvColumn column in Features)
        {
            if (column.Role == CsvColumnRole.Categorical)
            {
                string encoded = UniqueName(column.Name + ".onehot");
                chain = chain.Append(transforms.Categorical.OneHotEncoding(encoded, column.Name));
                parts.Add(encoded);
                continue;
            }

            parts.Add(column.Name);
            if (column.HasMissingValues)
            {
                string indicator = UniqueName(column.Name + ".missing");
                chain = chain.Append(transforms.IndicateMissingValues(indicator, column.Name))
                    .Append(transforms.Conversion.ConvertType(indicator, outputKind: DataKind.Single))
                    .Append(transforms.ReplaceMissingValues(column.Name, replacementMode: MissingValueReplacingEstimator.ReplacementMode.Mean));
                parts.Add(indicator);
            }
        }

        return chain.Append(transforms.Concatenate(FeatureColumnName, [.. parts]))
            .Append(transforms.NormalizeMeanVariance(FeatureColumnName));
    }

    /// <summary>Comparison options for this file: the loaded data, task, label, feature column and featurizer.</summary>
    /// <param name="mlContext">The context.</param>
    public OptimizerComparisonOptions CreateComparisonOptions(MLContext mlContext) => new()
    {
        Data = CreateLoader(mlContext).Load(Path),
        Task = Task,
        LabelColumnName = Label.Name,
        FeatureColumnName = FeatureColumnName,
        PipelinePrefix = CreateFeaturizer(mlContext),
    };

    /// <summary>The lines a console shows before a comparison: rows, label and task, features used, columns ignored.</summary>
    public IReadOnlyList<string> Describe()
    {
        var lines = new List<string>
        {
            Invariant($"{Name}: {RowCount} rows, separator '{Show(Separator)}'{(DecimalMarker == ',' ? ", decimal comma" : "")}"),
            Invariant($"label: '{Label.Name}' ({LabelReason}); task: {TaskName(Task)} ({TaskReason})"),
        };
        if (BlankLabelRows > 0)
        {
            lines.Add(Invariant($"{Rows(BlankLabelRows)} with a blank label dropped"));
        }

        CsvColumn[] numeric = [.. Features.Where(c => c.Role == CsvColumnRole.Numeric)];
        CsvColumn[] categorical = [.. Features.Where(c => c.Role == CsvColumnRole.Categorical)];
        CsvColumn[] withMissing = [.. numeric.Where(c => c.HasMissingValues)];
        string used = Invariant($"features used: {numeric.Length} numeric");
        if (categorical.Length > 0)
        {
            used += Invariant($", {categorical.Length} one-hot ({string.Join(", ", categorical.Select(c => $"{c.Name}: {c.DistinctCount} values"))})");
        }

        lines.Add(used);
        if (withMissing.Length > 0)
        {
            lines.Add("missing values (mean + indicator): " + string.Join(", ", withMissing.Select(c => Invariant($"{c.Name} ({c.MissingCount})"))));
        }

        lines.Add(Ignored.Count == 0 ? "columns ignored: none"
            : "columns ignored: " + string.Join("; ", Ignored.Select(c => $"{c.Name} ({c.Reason})")));
        return lines;
    }

    /// <summary>The task as words: binary classification, multiclass classification or regression.</summary>
    /// <param name="task">The task.</param>
    public static string TaskName(ComparisonTask task) => task switch
    {
        ComparisonTask.BinaryClassification => "binary classification",
        ComparisonTask.MulticlassClassification => "multiclass classification",
        _ => "regression",
    };

    private static char DetectSeparator(string path)
    {
        // Sylvan detects the separator from the header; the loader needs to know which one it chose.
        int fieldCount;
        using (CsvDataReader detected = CsvDataReader.Create(path))
        {
            fieldCount = detected.FieldCount;
        }

        foreach (char candidate in Separators)
        {
            using CsvDataReader reader = CsvDataReader.Create(path, new CsvDataReaderOptions { Delimiter = candidate });
            if (reader.FieldCount == fieldCount && fieldCount > 1)
            {
                return candidate;
            }
        }

        return ',';
    }

    private static (CsvColumnProfile[] Profiles, int RowCount, bool Multiline) Profile(string path, char separator, int distinctCap)
    {
        using CsvDataReader reader = CsvDataReader.Create(path, new CsvDataReaderOptions { Delimiter = separator });
        var names = new HashSet<string>(StringComparer.Ordinal);
        var profiles = new CsvColumnProfile[reader.FieldCount];
        for (int i = 0; i < profiles.Length; i++)
        {
            string name = reader.GetName(i).Trim();
            name = name.Length == 0 ? Invariant($"column{i + 1}") : name;
            for (int copy = 2; !names.Add(name); copy++)
            {
                name = Invariant($"{reader.GetName(i).Trim()}_{copy}");
            }

            profiles[i] = new CsvColumnProfile(name, i, distinctCap);
        }

        int rows = 0;
        bool multiline = false;
        while (reader.Read())
        {
            rows++;
            if (reader.RowFieldCount != profiles.Length && !(reader.RowFieldCount == 1 && reader.GetString(0).Length == 0))
            {
                throw new CsvDataException(Invariant(
                    $"'{path}' data row {rows} has {reader.RowFieldCount} fields; the header has {profiles.Length} (separator '{Show(separator)}')."));
            }

            for (int i = 0; i < profiles.Length; i++)
            {
                string cell = i < reader.RowFieldCount ? reader.GetString(i) : "";
                multiline |= cell.Contains('\n', StringComparison.Ordinal);
                profiles[i].Add(cell);
            }
        }

        return (profiles, rows, multiline);
    }

    private static (CsvColumnProfile Label, string Reason) ChooseLabel(string path, CsvColumnProfile[] profiles, string? requested)
    {
        if (requested is not null)
        {
            CsvColumnProfile? named = profiles.FirstOrDefault(p => p.Name == requested)
                ?? profiles.FirstOrDefault(p => string.Equals(p.Name, requested, StringComparison.OrdinalIgnoreCase));
            return named is null
                ? throw new CsvDataException($"label column '{requested}' is not in '{path}'; its columns are: {string.Join(", ", profiles.Select(p => p.Name))}.",
                    nameof(CsvDataSetOptions.LabelColumnName))
                : (named, "as given");
        }

        foreach (string name in LabelNames)
        {
            if (profiles.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) is { } byName)
            {
                return (byName, $"named '{byName.Name}'");
            }
        }

        return (profiles[^1], "the last column");
    }

    private static (ComparisonTask Task, string Reason) ChooseTask(CsvColumnProfile label, char decimalMarker, ComparisonTask? requested)
    {
        int values = label.Distinct.Count;
        string count = label.DistinctCapped ? Invariant($"more than {values - 1} values") : Invariant($"{values} value{(values == 1 ? "" : "s")}");
        string sample = string.Join(", ", label.Distinct.Take(5)) + (values > 5 ? ", ..." : "");
        bool numeric = IsNumeric(label, decimalMarker);
        const string setting = nameof(CsvDataSetOptions.Task);
        if (values < 2)
        {
            throw new CsvDataException($"label column '{label.Name}' has {count} ({sample}); a comparison needs at least two.", nameof(CsvDataSetOptions.LabelColumnName));
        }

        switch (requested)
        {
            case ComparisonTask.BinaryClassification when values != 2:
                throw new CsvDataException($"binary classification needs a label with two values; '{label.Name}' has {count} ({sample}).", setting);
            case ComparisonTask.MulticlassClassification when label.DistinctCapped || values > MaximumClassCount:
                throw new CsvDataException($"multiclass classification needs at most {MaximumClassCount} label values; '{label.Name}' has {count}.", setting);
            case ComparisonTask.Regression when !numeric:
                throw new CsvDataException($"regression needs a numeric label; '{label.Name}' has values such as {sample}.", setting);
            case ComparisonTask task:
                return (task, "as given");
        }

        if (values == 2)
        {
            return (ComparisonTask.BinaryClassification, "the label has two values");
        }

        if (numeric)
        {
            return label.AllIntegers && values <= MaximumIntegerClassCount
                ? (ComparisonTask.MulticlassClassification, Invariant($"the label has {values} whole-number values"))
                : (ComparisonTask.Regression, "the label is numeric with " + count);
        }

        return label.DistinctCapped || values > MaximumClassCount
            ? throw new CsvDataException($"label column '{label.Name}' is text with {count}; a class label needs at most {MaximumClassCount}.",
                nameof(CsvDataSetOptions.LabelColumnName))
            : (ComparisonTask.MulticlassClassification, Invariant($"the label has {values} text values"));
    }

    private static CsvColumn Classify(CsvColumnProfile profile, char decimalMarker, int rowCount, int maximumCategories)
    {
        CsvColumn Column(CsvColumnRole role, string? reason = null) =>
            new(profile.Name, profile.Index, role, profile.MissingCount, profile.Distinct.Count, reason);

        if (profile.ValueCount == 0)
        {
            return Column(CsvColumnRole.Ignored, "empty");
        }

        if (profile.Distinct.Count == 1 && profile.MissingCount == 0)
        {
            return Column(CsvColumnRole.Ignored, "constant");
        }

        if (IsNumeric(profile, decimalMarker))
        {
            bool identifier = IsIdentifierName(profile.Name) && profile.AllIntegers && profile.MissingCount == 0
                && (profile.DistinctCapped || profile.Distinct.Count == rowCount);
            return identifier ? Column(CsvColumnRole.Ignored, "an identifier: named like one, whole numbers, all different")
                : Column(CsvColumnRole.Numeric);
        }

        if (!profile.DistinctCapped && profile.Distinct.Count <= maximumCategories)
        {
            return Column(CsvColumnRole.Categorical);
        }

        return Column(CsvColumnRole.Ignored, Invariant($"text with more than {maximumCategories} distinct values"));
    }

    private static bool IsNumeric(CsvColumnProfile profile, char decimalMarker) =>
        profile.ValueCount > 0 && (decimalMarker == ',' ? profile.AllCommaDecimalNumbers : profile.AllNumbers);

    private static bool IsIdentifierName(string name) =>
        name.Equals("id", StringComparison.OrdinalIgnoreCase) || name.EndsWith("_id", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith("Id", StringComparison.Ordinal) || name.Equals("index", StringComparison.OrdinalIgnoreCase);

    private DataKind LoadedKind(CsvColumn column) => column.Role switch
    {
        CsvColumnRole.Numeric => DataKind.Single,
        CsvColumnRole.Label when _numericLabel => DataKind.Single,
        _ => DataKind.String,
    };

    private string UniqueName(string name)
    {
        string unique = name;
        for (int copy = 2; Columns.Any(c => c.Name == unique); copy++)
        {
            unique = Invariant($"{name}{copy}");
        }

        return unique;
    }

    private static string Rows(int count) => Invariant($"{count} row{(count == 1 ? "" : "s")}");

    private static string Show(char separator) => separator == '\t' ? "\\t" : separator.ToString();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
