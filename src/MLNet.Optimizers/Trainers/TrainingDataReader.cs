using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Trainers;

/// <summary>The label a trainer expects.</summary>
internal enum LabelKind
{
    /// <summary>Boolean: false → 0, true → 1.</summary>
    Binary,

    /// <summary>A key of known cardinality K: key value v (1-based) → class v − 1; key value 0 (missing) is an error.</summary>
    Multiclass,

    /// <summary>A finite Single.</summary>
    Regression,
}

/// <summary>What <see cref="TrainingDataReader.Read"/> found besides the rows.</summary>
/// <param name="Data">The rows, in the data view's order.</param>
/// <param name="ClassCount">K for multiclass labels (the key's cardinality), 1 otherwise.</param>
/// <param name="LabelNames">The label's text key values (multiclass), or null when the key has none.</param>
internal sealed record ReadResult(TrainingData Data, int ClassCount, string[]? LabelNames);

/// <summary>
/// Reads an <see cref="IDataView"/> once, through the public cursor API, into the in-memory <see cref="TrainingData"/> the
/// training loop iterates over for many epochs. Every value is checked on the way in; an error names the column, the first
/// offending row (0-based, in cursor order) and what was expected.
/// </summary>
internal static class TrainingDataReader
{
    /// <summary>Checks the schema and reads every row; dense rows become a row-major matrix, and as soon as one row arrives sparse
    /// the whole set is kept in CSR form.</summary>
    /// <param name="data">The data view.</param>
    /// <param name="labelKind">The label type the trainer needs.</param>
    /// <param name="labelColumnName">The label column.</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="weightColumnName">The optional example-weight column: Single, finite, ≥ 0.</param>
    /// <param name="role">"training" or "validation", for messages.</param>
    internal static ReadResult Read(IDataView data, LabelKind labelKind, string labelColumnName, string featureColumnName,
        string? weightColumnName, string role)
    {
        ArgumentNullException.ThrowIfNull(data);
        DataViewSchema.Column features = FindColumn(data, featureColumnName, "feature", role);
        DataViewSchema.Column label = FindColumn(data, labelColumnName, "label", role);
        DataViewSchema.Column? weight = weightColumnName is null ? null : FindColumn(data, weightColumnName, "example weight", role);

        if (features.Type is not VectorDataViewType { IsKnownSize: true } featureType || featureType.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentException(
                $"Feature column '{featureColumnName}' of the {role} data has type {features.Type}; expected a known-size vector of Single " +
                "(use Concatenate, and a conversion transform for other numeric types).", nameof(data));
        }

        int featureCount = featureType.Size;
        int classCount = 1;
        string[]? labelNames = null;
        string expectedLabel = labelKind switch
        {
            LabelKind.Binary => "Boolean",
            LabelKind.Multiclass => "a key type of known cardinality (use MapValueToKey)",
            _ => "Single",
        };
        bool labelTypeOk = labelKind switch
        {
            LabelKind.Binary => label.Type is BooleanDataViewType,
            LabelKind.Multiclass => label.Type is KeyDataViewType { Count: > 0 and <= int.MaxValue },
            _ => label.Type == NumberDataViewType.Single,
        };
        if (!labelTypeOk)
        {
            throw new ArgumentException($"Label column '{labelColumnName}' of the {role} data has type {label.Type}; expected {expectedLabel}.", nameof(data));
        }

        if (labelKind == LabelKind.Multiclass)
        {
            classCount = (int)((KeyDataViewType)label.Type).Count;
            if (classCount < 2)
            {
                throw new ArgumentException(
                    $"Label column '{labelColumnName}' of the {role} data is a key with {classCount} value; multiclass classification needs at least 2.", nameof(data));
            }
            if (label.HasKeyValues(TextDataViewType.Instance))
            {
                VBuffer<ReadOnlyMemory<char>> keyValues = default;
                label.GetKeyValues(ref keyValues);
                labelNames = keyValues.DenseValues().Select(v => v.ToString()).ToArray();
            }
        }

        if (weight is { } w && w.Type != NumberDataViewType.Single)
        {
            throw new ArgumentException($"Example weight column '{weightColumnName}' of the {role} data has type {w.Type}; expected Single.", nameof(data));
        }

        var columns = weight is { } wc ? new[] { features, label, wc } : [features, label];
        var builder = new RowBuilder(featureCount);
        var labels = new List<float>();
        var weights = weight is null ? null : new List<float>();
        bool sawFalse = false, sawTrue = false;

        using (DataViewRowCursor cursor = data.GetRowCursor(columns))
        {
            ValueGetter<VBuffer<float>> getFeatures = cursor.GetGetter<VBuffer<float>>(features);
            ValueGetter<float>? getWeight = weight is { } wcol ? cursor.GetGetter<float>(wcol) : null;
            ValueGetter<bool>? getBool = labelKind == LabelKind.Binary ? cursor.GetGetter<bool>(label) : null;
            ValueGetter<uint>? getKey = labelKind == LabelKind.Multiclass ? cursor.GetGetter<uint>(label) : null;
            ValueGetter<float>? getFloat = labelKind == LabelKind.Regression ? cursor.GetGetter<float>(label) : null;
            VBuffer<float> row = default;
            long rowIndex = -1;
            while (cursor.MoveNext())
            {
                rowIndex++;
                getFeatures(ref row);
                builder.Add(row, featureColumnName, rowIndex, role);

                switch (labelKind)
                {
                    case LabelKind.Binary:
                        bool flag = false;
                        getBool!(ref flag);
                        sawTrue |= flag;
                        sawFalse |= !flag;
                        labels.Add(flag ? 1f : 0f);
                        break;
                    case LabelKind.Multiclass:
                        uint key = 0;
                        getKey!(ref key);
                        if (key == 0)
                        {
                            throw new ArgumentException(
                                $"Label column '{labelColumnName}' of the {role} data, row {rowIndex}: key value is missing (0); every row needs a class " +
                                "(filter out rows with missing labels, or map unknown values to a class).", nameof(data));
                        }

                        labels.Add(key - 1);
                        break;
                    default:
                        float value = 0;
                        getFloat!(ref value);
                        if (!float.IsFinite(value))
                        {
                            throw new ArgumentException(
                                $"Label column '{labelColumnName}' of the {role} data, row {rowIndex}: value is {value}; labels must be finite " +
                                "(filter out rows with missing labels).", nameof(data));
                        }

                        labels.Add(value);
                        break;
                }

                if (getWeight is not null)
                {
                    float exampleWeight = 0;
                    getWeight(ref exampleWeight);
                    if (!(exampleWeight >= 0) || !float.IsFinite(exampleWeight))
                    {
                        throw new ArgumentException(
                            $"Example weight column '{weightColumnName}' of the {role} data, row {rowIndex}: value is {exampleWeight}; weights must be finite and >= 0.",
                            nameof(data));
                    }

                    weights!.Add(exampleWeight);
                }
            }
        }

        if (labels.Count == 0)
        {
            throw new ArgumentException($"The {role} data contains no rows.", nameof(data));
        }

        if (weights is not null && !(weights.Sum(x => (double)x) > 0))
        {
            throw new ArgumentException($"Example weight column '{weightColumnName}' of the {role} data sums to 0; at least one weight must be > 0.", nameof(data));
        }

        if (labelKind == LabelKind.Binary && role == "training" && !(sawTrue && sawFalse))
        {
            throw new ArgumentException(
                $"Label column '{labelColumnName}' of the {role} data has only the class {(sawTrue ? "true" : "false")}; binary classification needs both classes.",
                nameof(data));
        }

        return new ReadResult(builder.Build(labels.ToArray(), weights?.ToArray()), classCount, labelNames);
    }

    private static DataViewSchema.Column FindColumn(IDataView data, string name, string role, string dataRole) =>
        data.Schema.GetColumnOrNull(name)
        ?? throw new ArgumentException(
            $"The {dataRole} data has no {role} column '{name}'; its columns are: {string.Join(", ", data.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.",
            nameof(data));

    /// <summary>Accumulates rows: dense row-major until the first sparse row, then CSR for all rows.</summary>
    private sealed class RowBuilder(int featureCount)
    {
        private readonly List<float> _values = [];
        private readonly List<int> _rowOffsets = [0];
        private List<int>? _indices;

        internal void Add(in VBuffer<float> row, string column, long rowIndex, string role)
        {
            if (row.Length != featureCount)
            {
                throw new ArgumentException($"Feature column '{column}' of the {role} data, row {rowIndex}: vector has {row.Length} slots; expected {featureCount}.");
            }

            ReadOnlySpan<float> values = row.GetValues();
            for (int i = 0; i < values.Length; i++)
            {
                if (!float.IsFinite(values[i]))
                {
                    int slot = row.IsDense ? i : row.GetIndices()[i];
                    throw new ArgumentException(
                        $"Feature column '{column}' of the {role} data, row {rowIndex}, slot {slot}: value is {values[i]}; features must be finite " +
                        "(replace missing values, e.g. with ReplaceMissingValues).");
                }
            }

            if (!row.IsDense && _indices is null)
            {
                // First sparse row: give the dense rows read so far explicit indices, then continue in CSR.
                int denseRows = _rowOffsets.Count - 1;
                _indices = new List<int>(denseRows * featureCount);
                for (int r = 0; r < denseRows; r++)
                {
                    for (int j = 0; j < featureCount; j++)
                    {
                        _indices.Add(j);
                    }
                }
            }

            _values.AddRange(values);
            if (_indices is not null)
            {
                if (row.IsDense)
                {
                    for (int j = 0; j < featureCount; j++)
                    {
                        _indices.Add(j);
                    }
                }
                else
                {
                    _indices.AddRange(row.GetIndices());
                }
            }

            _rowOffsets.Add(_values.Count);
        }

        internal TrainingData Build(float[] labels, float[]? weights) =>
            _indices is null
                ? TrainingData.Dense(featureCount, _values.ToArray(), labels, weights)
                : TrainingData.Sparse(featureCount, _rowOffsets.ToArray(), _indices.ToArray(), _values.ToArray(), labels, weights);
    }
}
