using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// Checks the label column for the task, drops the rows whose label is blank (empty, NA, NaN, ? or a missing number), converts the label to the
/// type the trainer needs (any two values to Boolean for binary, values to keys for multiclass, numeric to Single for
/// regression), and reads each row's label as text for stratification.
/// </summary>
internal sealed class LabelPreparation
{
    private LabelPreparation(IDataView data, IReadOnlyList<string>? strata, int rowCount, int blankRows, bool mappedToKeys, string? positiveClass)
    {
        Data = data;
        Strata = strata;
        RowCount = rowCount;
        BlankLabelRows = blankRows;
        MappedToKeys = mappedToKeys;
        PositiveClass = positiveClass;
    }

    /// <summary>The rows with a label, the label converted.</summary>
    public IDataView Data { get; }

    /// <summary>Each kept row's label as text (classification), or null (regression: folds are not stratified).</summary>
    public IReadOnlyList<string>? Strata { get; }

    public int RowCount { get; }

    /// <summary>The rows dropped because their label is blank.</summary>
    public int BlankLabelRows { get; }

    /// <summary>True when a multiclass label was mapped to keys here (so predictions are mapped back for the caller).</summary>
    public bool MappedToKeys { get; }

    /// <summary>Binary: the label value that became <c>true</c>.</summary>
    public string? PositiveClass { get; }

    public static LabelPreparation Prepare(MLContext mlContext, IDataView data, ComparisonTask task, string labelColumnName)
    {
        DataViewSchema.Column label = data.Schema.GetColumnOrNull(labelColumnName)
            ?? throw new ArgumentException(
                $"LabelColumnName '{labelColumnName}' is not a column of the data; columns are: " +
                $"{string.Join(", ", data.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.", nameof(labelColumnName));
        string[] all = ReadAsText(data, label);
        bool[] hasLabel = [.. all.Select(value => !string.IsNullOrWhiteSpace(value))];
        string[] values = [.. all.Where((_, row) => hasLabel[row])];
        int blank = all.Length - values.Length;
        if (values.Length == 0)
        {
            throw new ArgumentException($"Label column '{labelColumnName}' is blank in every row.", nameof(labelColumnName));
        }

        IDataView labelled = blank == 0 ? data : new RowSubsetDataView(data, hasLabel);
        DataViewType type = label.Type;
        bool numeric = type is NumberDataViewType;
        switch (task)
        {
            case ComparisonTask.BinaryClassification:
                string[] distinct = [.. values.Distinct(StringComparer.Ordinal).Order(ValueOrder(numeric))];
                if (distinct.Length != 2)
                {
                    throw new ArgumentException(
                        $"Label column '{labelColumnName}' must have exactly two values for binary classification; it has {Values(distinct)}.",
                        nameof(labelColumnName));
                }

                return new LabelPreparation(ToBoolean(mlContext, labelled, label, distinct), values, values.Length, blank, mappedToKeys: false,
                    positiveClass: distinct[1]);
            case ComparisonTask.MulticlassClassification:
                if (type is KeyDataViewType)
                {
                    return new LabelPreparation(labelled, values, values.Length, blank, mappedToKeys: false, positiveClass: null);
                }

                IDataView keyed = mlContext.Transforms.Conversion.MapValueToKey(labelColumnName, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Fit(labelled).Transform(labelled);
                return new LabelPreparation(keyed, values, values.Length, blank, mappedToKeys: true, positiveClass: null);
            default:
                if (!numeric)
                {
                    throw new ArgumentException(
                        $"Label column '{labelColumnName}' ({type}) must be numeric for regression.", nameof(labelColumnName));
                }

                IDataView single = type == NumberDataViewType.Single
                    ? labelled
                    : mlContext.Transforms.Conversion.ConvertType(labelColumnName, outputKind: DataKind.Single).Fit(labelled).Transform(labelled);
                return new LabelPreparation(single, strata: null, values.Length, blank, mappedToKeys: false, positiveClass: null);
        }
    }

    /// <summary>Maps the two label values to false and true: <paramref name="ordered"/>[1] (the larger) is the positive class.</summary>
    private static IDataView ToBoolean(MLContext mlContext, IDataView data, DataViewSchema.Column label, string[] ordered)
    {
        if (label.Type is BooleanDataViewType)
        {
            return data;
        }

        var conversions = mlContext.Transforms.Conversion;
        IEstimator<ITransformer> toBoolean = label.Type is TextDataViewType
            ? conversions.MapValue(label.Name, [new(ordered[0], false), new KeyValuePair<string, bool>(ordered[1], true)])
            : conversions.ConvertType(label.Name, outputKind: DataKind.Single).Append(conversions.MapValue(label.Name,
                [new(Number(ordered[0]), false), new KeyValuePair<float, bool>(Number(ordered[1]), true)]));
        return toBoolean.Fit(data).Transform(data);
    }

    private static float Number(string text) => float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Numbers by value, text by ordinal order ignoring case: so 0/1, false/true, no/yes and B/M put the positive class second.</summary>
    private static IComparer<string> ValueOrder(bool numeric) => numeric
        ? Comparer<string>.Create((a, b) => double.Parse(a, CultureInfo.InvariantCulture).CompareTo(double.Parse(b, CultureInfo.InvariantCulture)))
        : Comparer<string>.Create((a, b) => StringComparer.OrdinalIgnoreCase.Compare(a, b) is int c && c != 0 ? c : StringComparer.Ordinal.Compare(a, b));

    /// <summary>"3 values (a, b, c)" or "1 value (a)".</summary>
    private static string Values(string[] distinct) => string.Create(CultureInfo.InvariantCulture,
        $"{distinct.Length} value{(distinct.Length == 1 ? "" : "s")} ({string.Join(", ", distinct.Take(5))}{(distinct.Length > 5 ? ", ..." : "")})");

    private static string[] ReadAsText(IDataView data, DataViewSchema.Column label) => label.Type.RawType switch
    {
        var t when t == typeof(bool) => Read<bool>(data, label),
        var t when t == typeof(float) => Read<float>(data, label),
        var t when t == typeof(double) => Read<double>(data, label),
        var t when t == typeof(sbyte) => Read<sbyte>(data, label),
        var t when t == typeof(byte) => Read<byte>(data, label),
        var t when t == typeof(short) => Read<short>(data, label),
        var t when t == typeof(ushort) => Read<ushort>(data, label),
        var t when t == typeof(int) => Read<int>(data, label),
        var t when t == typeof(uint) => Read<uint>(data, label),
        var t when t == typeof(long) => Read<long>(data, label),
        var t when t == typeof(ulong) => Read<ulong>(data, label),
        var t when t == typeof(ReadOnlyMemory<char>) => Read<ReadOnlyMemory<char>>(data, label),
        _ => throw new ArgumentException($"Label column '{label.Name}' has type {label.Type}, which cannot be a label.", "labelColumnName"),
    };

    /// <summary>Each row's label as invariant text; NaN, a missing key and the text NA, NaN or ? read as empty (blank).</summary>
    private static string[] Read<T>(IDataView data, DataViewSchema.Column label) =>
        [.. data.GetColumn<T>(label).Select(value => value switch
        {
            float f when float.IsNaN(f) => "",
            double d when double.IsNaN(d) => "",
            ReadOnlyMemory<char> text when CsvColumnProfile.MissingTokens.Contains(text.ToString().Trim()) => "",
            ReadOnlyMemory<char> text => text.ToString().Trim(),
            _ when label.Type is KeyDataViewType && Convert.ToUInt64(value, CultureInfo.InvariantCulture) == 0 => "",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        })];
}
