using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// Checks the label column for the task, converts it to the type the trainer needs (numeric to Boolean for binary, values to
/// keys for multiclass, numeric to Single for regression), and reads each row's label as text for stratification.
/// </summary>
internal sealed class LabelPreparation
{
    private LabelPreparation(IDataView data, IReadOnlyList<string>? strata, int rowCount, bool mappedToKeys)
    {
        Data = data;
        Strata = strata;
        RowCount = rowCount;
        MappedToKeys = mappedToKeys;
    }

    /// <summary>The data with the label converted.</summary>
    public IDataView Data { get; }

    /// <summary>Each row's label as text (classification), or null (regression: folds are not stratified).</summary>
    public IReadOnlyList<string>? Strata { get; }

    public int RowCount { get; }

    /// <summary>True when a multiclass label was mapped to keys here (so predictions are mapped back for the caller).</summary>
    public bool MappedToKeys { get; }

    public static LabelPreparation Prepare(MLContext mlContext, IDataView data, ComparisonTask task, string labelColumnName)
    {
        DataViewSchema.Column label = data.Schema.GetColumnOrNull(labelColumnName)
            ?? throw new ArgumentException(
                $"LabelColumnName '{labelColumnName}' is not a column of the data; columns are: " +
                $"{string.Join(", ", data.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.", nameof(labelColumnName));
        string[] values = ReadAsText(data, label);
        DataViewType type = label.Type;
        bool numeric = type is NumberDataViewType;
        switch (task)
        {
            case ComparisonTask.BinaryClassification:
                string[] distinct = [.. values.Distinct(StringComparer.Ordinal)];
                if (!(type is BooleanDataViewType || numeric) || distinct.Length > 2 || (numeric && distinct.Any(v => v is not ("0" or "1"))))
                {
                    throw new ArgumentException(
                        $"Label column '{labelColumnName}' ({type}) must be Boolean or numeric 0/1 for binary classification; found the values " +
                        $"{string.Join(", ", distinct.Take(5))}{(distinct.Length > 5 ? ", ..." : "")}.", nameof(labelColumnName));
                }

                IDataView binary = type is BooleanDataViewType
                    ? data
                    : mlContext.Transforms.Conversion.ConvertType(labelColumnName, outputKind: DataKind.Boolean).Fit(data).Transform(data);
                return new LabelPreparation(binary, values, values.Length, mappedToKeys: false);
            case ComparisonTask.MulticlassClassification:
                if (type is KeyDataViewType)
                {
                    return new LabelPreparation(data, values, values.Length, mappedToKeys: false);
                }

                IDataView keyed = mlContext.Transforms.Conversion.MapValueToKey(labelColumnName, keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Fit(data).Transform(data);
                return new LabelPreparation(keyed, values, values.Length, mappedToKeys: true);
            default:
                if (!numeric)
                {
                    throw new ArgumentException(
                        $"Label column '{labelColumnName}' ({type}) must be numeric for regression.", nameof(labelColumnName));
                }

                IDataView single = type == NumberDataViewType.Single
                    ? data
                    : mlContext.Transforms.Conversion.ConvertType(labelColumnName, outputKind: DataKind.Single).Fit(data).Transform(data);
                return new LabelPreparation(single, strata: null, values.Length, mappedToKeys: false);
        }
    }

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

    private static string[] Read<T>(IDataView data, DataViewSchema.Column label) =>
        [.. data.GetColumn<T>(label).Select(value => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")];
}
