using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

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

    /// <summary>A finite Single ≥ 0 (Poisson regression's counts).</summary>
    Count,
}

/// <summary>
/// Reads an <see cref="IDataView"/> through the public cursor API into <see cref="TrainingData"/>: all at once
/// (<see cref="ReadAll"/>, the in-memory copy the loop iterates over for many epochs) or one batch at a time on every pass
/// (<see cref="ReadBatches"/>, streaming). Both go through the same row reading, so every value is checked on the way in the same
/// way; an error names the column, the first offending row (0-based, in cursor order) and what was expected.
/// </summary>
internal sealed class TrainingDataReader : ITrainingBatchSource
{
    private readonly IDataView _data;
    private readonly LabelKind _labelKind;
    private readonly string _labelColumnName;
    private readonly string _featureColumnName;
    private readonly string? _weightColumnName;
    private readonly string _role;
    private readonly DataViewSchema.Column _features;
    private readonly DataViewSchema.Column _label;
    private readonly DataViewSchema.Column? _weight;
    private readonly CancellationToken _cancellationToken;

    /// <summary>Checks the schema; no row is read yet.</summary>
    /// <param name="data">The data view.</param>
    /// <param name="labelKind">The label type the trainer needs.</param>
    /// <param name="labelColumnName">The label column.</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="weightColumnName">The optional example-weight column: Single, finite, ≥ 0.</param>
    /// <param name="role">"training" or "validation", for messages.</param>
    /// <param name="cancellationToken">Checked before a pass starts and every <see cref="CancellationCheckRows"/> rows.</param>
    internal TrainingDataReader(IDataView data, LabelKind labelKind, string labelColumnName, string featureColumnName,
        string? weightColumnName, string role, CancellationToken cancellationToken = default)
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

        _data = data;
        _labelKind = labelKind;
        _labelColumnName = labelColumnName;
        _featureColumnName = featureColumnName;
        _weightColumnName = weightColumnName;
        _role = role;
        _features = features;
        _label = label;
        _weight = weight;
        _cancellationToken = cancellationToken;
        FeatureCount = featureCount;
        ClassCount = classCount;
        LabelNames = labelNames;
    }

    /// <summary>Rows read between two cancellation checks: one block of the objective's evaluation, well under a millisecond
    /// of reading for ordinary rows, so a streamed pass stops within one block of its 4,096-row chunks.</summary>
    internal const int CancellationCheckRows = LinearObjective.DefaultRowsPerBlock;

    /// <summary>D, the feature vector's size.</summary>
    public int FeatureCount { get; }

    /// <summary>K for multiclass labels (the key's cardinality), 1 otherwise.</summary>
    internal int ClassCount { get; }

    /// <summary>The label's text key values (multiclass), or null when the key has none.</summary>
    internal string[]? LabelNames { get; }

    /// <summary>
    /// Whether each pass over the training data checks on its own that two classes have positive weight. Off on the ranks of a
    /// data-parallel job, where one shard may hold a single class: the ranks check their union instead
    /// (<see cref="EnsureClassesWeighted"/> on the summed <see cref="ClassWeights"/>).
    /// </summary>
    internal bool ChecksClassesPerPass { get; init; } = true;

    /// <summary>The total example weight per class (binary: false, true) of the last complete pass; empty before one and for regression.</summary>
    internal double[] ClassWeights { get; private set; } = [];

    /// <summary>
    /// Throws unless at least two classes of <paramref name="classWeights"/> have positive weight: a class whose rows all have
    /// weight 0 is absent as far as training goes, and the model would predict one class everywhere.
    /// </summary>
    /// <param name="classWeights">Total example weight per class.</param>
    /// <param name="scope">Where the weights were counted, appended to "the training data", e.g. " (all 2 ranks' shards together)".</param>
    internal void EnsureClassesWeighted(double[] classWeights, string scope)
    {
        int[] weighted = Enumerable.Range(0, classWeights.Length).Where(k => classWeights[k] > 0).ToArray();
        if (classWeights.Length > 0 && weighted.Length < 2)
        {
            string present = weighted.Length == 0 ? "no class" : $"only the class {ClassName(weighted[0])}";
            throw new ArgumentException(
                $"Label column '{_labelColumnName}' of the {_role} data{scope} has positive total example weight in {present}; " +
                $"{(_labelKind == LabelKind.Binary ? "binary classification needs both classes" : "multiclass classification needs at least two classes")} " +
                "with weight > 0.", "data");
        }
    }

    /// <summary>One pass over the data that keeps nothing but <see cref="ClassWeights"/>, which it returns (streamed data, whose
    /// class weights are otherwise known only after the first epoch).</summary>
    internal double[] ReadClassWeights()
    {
        _ = ReadBatches(CancellationCheckRows, shuffleSeed: null).Count();
        return ClassWeights;
    }

    private string ClassName(int k) =>
        _labelKind == LabelKind.Binary ? (k == 1 ? "true" : "false") : LabelNames is { } names ? $"'{names[k]}'" : $"{k + 1} (key value)";

    /// <summary>Reads every row in the data view's order; dense rows become a row-major matrix, and as soon as one row arrives
    /// sparse the whole set is kept in CSR form.</summary>
    internal TrainingData ReadAll()
    {
        using var pass = new Pass(this, shuffleSeed: null, intoMemory: true);
        pass.Read(int.MaxValue);
        pass.Finish();
        return pass.TakeBatch();
    }

    /// <summary>One pass over the data view, <paramref name="batchSize"/> rows at a time (each batch dense, or CSR as soon as one
    /// of its rows is sparse). With <paramref name="shuffleSeed"/>, the cursor is shuffled with <c>new Random(seed)</c> when the
    /// data view can shuffle (<see cref="IDataView.CanShuffle"/>); otherwise rows come in the view's order.</summary>
    /// <param name="batchSize">Rows per batch; at least 1.</param>
    /// <param name="shuffleSeed">The shuffle seed, or null.</param>
    public IEnumerable<TrainingData> ReadBatches(int batchSize, int? shuffleSeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var pass = new Pass(this, shuffleSeed, intoMemory: false);
        while (pass.Read(batchSize) > 0)
        {
            yield return pass.TakeBatch();
        }

        pass.Finish();
    }

    private static DataViewSchema.Column FindColumn(IDataView data, string name, string role, string dataRole) =>
        data.Schema.GetColumnOrNull(name)
        ?? throw new ArgumentException(
            $"The {dataRole} data has no {role} column '{name}'; its columns are: {string.Join(", ", data.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.",
            nameof(data));

    /// <summary>One cursor over the data view: reads and checks rows into the current batch, and the checks that need the
    /// whole pass (no rows, weights summing to 0, a class without weight) at its end. An I/O fault of the cursor becomes an
    /// <see cref="IOException"/> naming the data and the row, with the original as its inner exception (a streamed pass's
    /// epoch is added by the training loop, which knows it).</summary>
    private sealed class Pass : IDisposable
    {
        private readonly TrainingDataReader _reader;
        private readonly DataViewRowCursor _cursor;
        private readonly ValueGetter<VBuffer<float>> _getFeatures;
        private readonly ValueGetter<float>? _getWeight;
        private readonly ValueGetter<bool>? _getBool;
        private readonly ValueGetter<uint>? _getKey;
        private readonly ValueGetter<float>? _getFloat;
        private readonly RowBuilder _builder;
        private readonly List<float> _labels = [];
        private readonly List<float>? _weights;
        private readonly long? _rowCount;
        private readonly double[] _classWeights;
        private readonly bool _intoMemory;
        private VBuffer<float> _row;
        private long _rowIndex = -1;
        private double _weightSum;

        internal Pass(TrainingDataReader reader, int? shuffleSeed, bool intoMemory)
        {
            reader._cancellationToken.ThrowIfCancellationRequested();
            _reader = reader;
            _intoMemory = intoMemory;
            _classWeights = new double[reader._labelKind switch { LabelKind.Binary => 2, LabelKind.Multiclass => reader.ClassCount, _ => 0 }];
            _builder = new RowBuilder(reader.FeatureCount);
            _weights = reader._weight is null ? null : [];
            var columns = reader._weight is { } wc ? new[] { reader._features, reader._label, wc } : [reader._features, reader._label];
            Random? shuffle = shuffleSeed is int seed && reader._data.CanShuffle ? new Random(seed) : null;
            _cursor = reader._data.GetRowCursor(columns, shuffle);
            _rowCount = reader._data.GetRowCount();
            _getFeatures = _cursor.GetGetter<VBuffer<float>>(reader._features);
            _getWeight = reader._weight is { } wcol ? _cursor.GetGetter<float>(wcol) : null;
            _getBool = reader._labelKind == LabelKind.Binary ? _cursor.GetGetter<bool>(reader._label) : null;
            _getKey = reader._labelKind == LabelKind.Multiclass ? _cursor.GetGetter<uint>(reader._label) : null;
            _getFloat = reader._labelKind is LabelKind.Regression or LabelKind.Count ? _cursor.GetGetter<float>(reader._label) : null;
        }

        /// <summary>Reads up to <paramref name="maxRows"/> more rows into the current batch; returns how many it read.</summary>
        internal int Read(int maxRows)
        {
            try
            {
                return ReadRows(maxRows);
            }
            catch (Exception e) when (InputFault(e) is { } fault)
            {
                string when = _intoMemory ? " into memory (before the first epoch)" : "";
                throw new IOException(
                    $"Reading the {_reader._role} data{when} failed at row {_rowIndex + 1}: {fault.GetType().Name}: {fault.Message}", e);
            }
        }

        /// <summary>The I/O fault behind <paramref name="e"/>, also when the data view wrapped it (ML.NET's parallel text cursor
        /// rethrows it inside an <see cref="InvalidOperationException"/>); null when it is not one.</summary>
        private static IOException? InputFault(Exception e)
        {
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            {
                if (inner is IOException fault)
                {
                    return fault;
                }
            }

            return null;
        }

        private int ReadRows(int maxRows)
        {
            var r = _reader;
            string role = r._role;
            int read = 0;
            _builder.ExpectRows(_rowCount is long total ? Math.Min(maxRows, total - (_rowIndex + 1)) : 0);
            while (read < maxRows && _cursor.MoveNext())
            {
                read++;
                long rowIndex = ++_rowIndex;
                if (rowIndex % CancellationCheckRows == 0)
                {
                    r._cancellationToken.ThrowIfCancellationRequested();
                }

                _getFeatures(ref _row);
                _builder.Add(_row, r._featureColumnName, rowIndex, role);

                switch (r._labelKind)
                {
                    case LabelKind.Binary:
                        bool flag = false;
                        _getBool!(ref flag);
                        _labels.Add(flag ? 1f : 0f);
                        break;
                    case LabelKind.Multiclass:
                        uint key = 0;
                        _getKey!(ref key);
                        if (key == 0)
                        {
                            throw new ArgumentException(
                                $"Label column '{r._labelColumnName}' of the {role} data, row {rowIndex}: key value is missing (0); every row needs a class " +
                                "(filter out rows with missing labels, or map unknown values to a class).", "data");
                        }

                        _labels.Add(key - 1);
                        break;
                    default:
                        float value = 0;
                        _getFloat!(ref value);
                        if (!float.IsFinite(value))
                        {
                            throw new ArgumentException(
                                $"Label column '{r._labelColumnName}' of the {role} data, row {rowIndex}: value is {value}; labels must be finite " +
                                "(filter out rows with missing labels).", "data");
                        }

                        if (r._labelKind == LabelKind.Count && value < 0)
                        {
                            throw new ArgumentException(
                                $"Label column '{r._labelColumnName}' of the {role} data, row {rowIndex}: value is {value}; Poisson regression needs " +
                                "labels >= 0 (counts).", "data");
                        }

                        _labels.Add(value);
                        break;
                }

                if (_getWeight is not null)
                {
                    float exampleWeight = 0;
                    _getWeight(ref exampleWeight);
                    if (!(exampleWeight >= 0) || !float.IsFinite(exampleWeight))
                    {
                        throw new ArgumentException(
                            $"Example weight column '{r._weightColumnName}' of the {role} data, row {rowIndex}: value is {exampleWeight}; weights must be finite and >= 0.",
                            "data");
                    }

                    _weights!.Add(exampleWeight);
                    _weightSum += exampleWeight;
                    AddClassWeight(exampleWeight);
                }
                else
                {
                    AddClassWeight(1);
                }
            }

            return read;
        }

        private void AddClassWeight(float weight)
        {
            if (_classWeights.Length > 0)
            {
                _classWeights[(int)_labels[^1]] += weight;
            }
        }

        /// <summary>The rows read since the last call, as new <see cref="TrainingData"/>; the batch buffers are then reused.</summary>
        internal TrainingData TakeBatch()
        {
            var batch = _builder.Build(_labels.ToArray(), _weights?.ToArray());
            _builder.Clear();
            _labels.Clear();
            _weights?.Clear();
            return batch;
        }

        /// <summary>The checks over the whole pass, once the cursor is exhausted.</summary>
        internal void Finish()
        {
            var r = _reader;
            if (_rowIndex < 0)
            {
                throw new ArgumentException($"The {r._role} data contains no rows.", "data");
            }

            if (_weights is not null && !(_weightSum > 0))
            {
                throw new ArgumentException($"Example weight column '{r._weightColumnName}' of the {r._role} data sums to 0; at least one weight must be > 0.", "data");
            }

            r.ClassWeights = _classWeights;
            if (r._role == "training" && r.ChecksClassesPerPass)
            {
                r.EnsureClassesWeighted(_classWeights, "");
            }
        }

        public void Dispose() => _cursor.Dispose();
    }

    /// <summary>Accumulates rows: dense row-major until the first sparse row, then CSR for all rows.</summary>
    /// <remarks>
    /// <para>Each row is copied in (<c>CopyTo</c>) and checked with one vectorised finiteness pass; sparse rows also have their
    /// slot indices checked, so every error names the column and the row in the whole pass, cached or streamed.</para>
    /// <para>Dense memory: when the number of rows is known (<see cref="ExpectRows"/>) the whole matrix is allocated once and
    /// handed over without a copy. When it is not, the values grow in one array up to <see cref="ChunkValues"/> and then
    /// continue in further chunks of that size, handed over as they are (<see cref="TrainingData.FromDenseChunks"/>): no
    /// doubling beyond one chunk and no final copy, so reading costs at most one chunk (16 MiB) beyond the data itself.</para>
    /// </remarks>
    private sealed class RowBuilder
    {
        /// <summary>The values of one dense chunk: 4 Mi floats (16 MiB), rounded down to whole rows.</summary>
        private const int ChunkValues = 1 << 22;

        private readonly int _featureCount;
        private readonly int _rowsPerChunk;
        private readonly List<float[]> _fullChunks = [];
        private List<int> _rowOffsets = [0];
        private float[] _values = [];
        private int _valueCount;
        private int _rowCount;
        private List<int>? _indices;
        private long _expectedRows;

        internal RowBuilder(int featureCount)
        {
            _featureCount = featureCount;
            _rowsPerChunk = Math.Max(1, ChunkValues / featureCount);
        }

        private int ChunkLength => _rowsPerChunk * _featureCount;

        /// <summary>How many rows the current batch will most likely hold (0 when unknown); only used to size the values once.</summary>
        internal void ExpectRows(long rows) => _expectedRows = rows;

        internal void Add(in VBuffer<float> row, string column, long rowIndex, string role)
        {
            if (row.Length != _featureCount)
            {
                throw new ArgumentException($"Feature column '{column}' of the {role} data, row {rowIndex}: vector has {row.Length} slots; expected {_featureCount}.");
            }

            ReadOnlySpan<float> values = row.GetValues();
            if (!TensorPrimitives.IsFiniteAll(values))
            {
                int i = FirstNonFinite(values);
                int slot = row.IsDense ? i : row.GetIndices()[i];
                throw new ArgumentException(
                    $"Feature column '{column}' of the {role} data, row {rowIndex}, slot {slot}: value is {values[i]}; features must be finite " +
                    "(replace missing values, e.g. with ReplaceMissingValues).");
            }

            if (!row.IsDense)
            {
                EnsureValidIndices(row.GetIndices(), column, rowIndex, role);
                if (_indices is null)
                {
                    SwitchToSparse();
                }
            }

            if (_valueCount == 0 && _rowCount == 0 && row.IsDense && _expectedRows * _featureCount is var dense and > 0 && dense <= Array.MaxLength && dense != _values.Length)
            {
                // The first row of a dense batch of known size: room for all of it at once (every slot will be written).
                _values = GC.AllocateUninitializedArray<float>((int)dense);
            }

            if (_values.Length - _valueCount < values.Length)
            {
                MakeRoom(values.Length, column, rowIndex, role);
            }

            values.CopyTo(_values.AsSpan(_valueCount));
            _valueCount += values.Length;
            _rowCount++;
            if (_indices is not null)
            {
                if (row.IsDense)
                {
                    for (int j = 0; j < _featureCount; j++)
                    {
                        _indices.Add(j);
                    }
                }
                else
                {
                    _indices.AddRange(row.GetIndices());
                }

                _rowOffsets.Add(_valueCount);
            }
        }

        /// <summary>Forgets the rows (keeping the single buffer's capacity); the next row starts dense again.</summary>
        internal void Clear()
        {
            _valueCount = 0;
            _rowCount = 0;
            _rowOffsets.RemoveRange(1, _rowOffsets.Count - 1);
            _indices = null;
        }

        internal TrainingData Build(float[] labels, float[]? weights)
        {
            if (_indices is not null)
            {
                return TrainingData.Sparse(_featureCount, _rowOffsets.ToArray(), _indices.ToArray(), TakeValues(), labels, weights);
            }

            if (_fullChunks.Count == 0)
            {
                return TrainingData.Dense(_featureCount, TakeValues(), labels, weights);
            }

            float[][] chunks = [.. _fullChunks, _values];
            _fullChunks.Clear();
            _values = [];
            return TrainingData.FromDenseChunks(_featureCount, chunks, _rowsPerChunk, labels, weights);
        }

        /// <summary>
        /// Grows the values for one more row: a full dense chunk is set aside and a new one started; a dense array grows
        /// (doubling) up to one chunk; CSR values (and dense values sized for a known row count that was exceeded) double.
        /// </summary>
        private void MakeRoom(int rowValues, string column, long rowIndex, string role)
        {
            bool denseChunking = _indices is null && _values.Length <= ChunkLength;
            if (denseChunking && _valueCount == ChunkLength)
            {
                _fullChunks.Add(_values);
                _values = GC.AllocateUninitializedArray<float>(ChunkLength);
                _valueCount = 0;
                return;
            }

            long needed = (long)_valueCount + rowValues;
            if (needed > Array.MaxLength)
            {
                throw new InvalidOperationException(
                    $"Feature column '{column}' of the {role} data, row {rowIndex}: the cached sparse feature values would exceed {Array.MaxLength} " +
                    "(the largest .NET array); set CacheData = false to stream the data instead.");
            }

            long grown = Math.Min(Math.Max(needed, 2L * _values.Length), Array.MaxLength);
            Array.Resize(ref _values, (int)(denseChunking ? Math.Min(grown, ChunkLength) : grown));
        }

        /// <summary>First sparse row: the dense rows so far get explicit indices and offsets, and everything continues in CSR.</summary>
        private void SwitchToSparse()
        {
            if (_fullChunks.Count > 0)
            {
                // Rare: a sparse row after more than a chunk of dense rows; CSR needs the values in one array.
                float[] all = new float[checked((long)_rowCount * _featureCount)];
                int offset = 0;
                foreach (float[] chunk in _fullChunks)
                {
                    chunk.CopyTo(all, offset);
                    offset += chunk.Length;
                }

                _values.AsSpan(0, _valueCount).CopyTo(all.AsSpan(offset));
                _fullChunks.Clear();
                _values = all;
                _valueCount = all.Length;
            }
            else
            {
                Array.Resize(ref _values, _valueCount); // give back room reserved for dense rows that will not come
            }

            _indices = new List<int>(_rowCount * _featureCount);
            _rowOffsets = new List<int>(_rowCount + 1) { 0 };
            for (int r = 0; r < _rowCount; r++)
            {
                for (int j = 0; j < _featureCount; j++)
                {
                    _indices.Add(j);
                }

                _rowOffsets.Add((r + 1) * _featureCount);
            }
        }

        private void EnsureValidIndices(ReadOnlySpan<int> indices, string column, long rowIndex, string role)
        {
            int previous = -1;
            for (int p = 0; p < indices.Length; p++)
            {
                if (indices[p] <= previous || indices[p] >= _featureCount)
                {
                    throw new ArgumentException(
                        $"Feature column '{column}' of the {role} data, row {rowIndex}: slot index {indices[p]} at position {p} must be in " +
                        $"[0, {_featureCount}) and greater than the previous index {previous}; the sparse vector is malformed.");
                }

                previous = indices[p];
            }
        }

        /// <summary>The values read, as an array of exactly their length: the buffer itself when it is full (it then starts
        /// afresh), otherwise a copy.</summary>
        private float[] TakeValues()
        {
            if (_valueCount != _values.Length)
            {
                return _values.AsSpan(0, _valueCount).ToArray();
            }

            float[] values = _values;
            _values = [];
            return values;
        }

        private static int FirstNonFinite(ReadOnlySpan<float> values)
        {
            int i = 0;
            while (float.IsFinite(values[i]))
            {
                i++;
            }

            return i;
        }
    }
}
