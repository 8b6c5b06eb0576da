using System.Numerics.Tensors;
using MLNet.Optimizers.Internal;

namespace MLNet.Optimizers.Objectives;

/// <summary>
/// An in-memory, validated copy of a data set for linear models: features (dense row-major or sparse CSR), labels and
/// optional example weights. Built once per fit and read by every epoch.
/// </summary>
/// <remarks>
/// <para>The factory methods take ownership of the arrays they are given (no copy); do not modify them afterwards.</para>
/// <para>Labels: binary 0/1; multiclass the class index 0..K−1 as a float; regression the target value. The objective checks
/// that each label suits it when it reads the row.</para>
/// </remarks>
public sealed class TrainingData
{
    private readonly float[] _labels;
    private readonly float[] _weights;
    private int[]? _allRows;
    private float? _featureMagnitude;

    /// <summary>Dense features in chunks of <see cref="_rowsPerChunk"/> whole rows each (one chunk when given as one array).</summary>
    private readonly float[][]? _denseChunks;
    private readonly int _rowsPerChunk;

    private TrainingData(int featureCount, float[] labels, float[]? weights, float[]? denseFeatures,
        int[]? rowOffsets, int[]? indices, float[]? values)
        : this(featureCount, labels, weights, denseFeatures is null ? null : [denseFeatures], int.MaxValue, rowOffsets, indices, values)
    {
    }

    private TrainingData(int featureCount, float[] labels, float[]? weights, float[][]? denseChunks, int rowsPerChunk,
        int[]? rowOffsets, int[]? indices, float[]? values)
    {
        FeatureCount = featureCount;
        _labels = labels;
        _weights = weights ?? [];
        _denseChunks = denseChunks;
        _rowsPerChunk = rowsPerChunk;
        RowOffsets = rowOffsets;
        Indices = indices;
        Values = values;
        double total = 0;
        foreach (float w in _weights)
        {
            total += w;
        }

        TotalWeight = _weights.Length == 0 ? labels.Length : total;
    }

    /// <summary>Creates dense data: row i's features are <c>features[i·featureCount .. (i+1)·featureCount)</c>.</summary>
    /// <param name="featureCount">D, the number of features per row; at least 1.</param>
    /// <param name="features">RowCount·D finite values, row-major.</param>
    /// <param name="labels">One finite label per row; its length defines the row count.</param>
    /// <param name="weights">One finite, non-negative weight per row, or null for unweighted data.</param>
    /// <exception cref="ArgumentException">A length disagrees, or a value is not finite, or a weight is negative.</exception>
    public static TrainingData Dense(int featureCount, float[] features, float[] labels, float[]? weights)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckCommon(featureCount, labels, weights);
        if ((long)labels.Length * featureCount != features.Length)
        {
            throw new ArgumentException(
                $"features has {features.Length} values but {labels.Length} rows × {featureCount} features need {(long)labels.Length * featureCount}.",
                nameof(features));
        }

        // One vectorised pass; the index of the first bad value is only searched for when there is one.
        if (!TensorPrimitives.IsFiniteAll<float>(features))
        {
            int i = Array.FindIndex(features, value => !float.IsFinite(value));
            throw new ArgumentException(
                $"Row {i / featureCount}, feature {i % featureCount}: value is {features[i]}; features must be finite.", nameof(features));
        }

        return new TrainingData(featureCount, labels, weights, features, null, null, null);
    }

    /// <summary>
    /// Creates dense data stored in chunks, so that reading data of unknown length never needs one array for all of it
    /// (nor a final copy): row i is in chunk i / rowsPerChunk at offset (i % rowsPerChunk)·featureCount. The values must
    /// already be checked (finite); the reader does that row by row.
    /// </summary>
    internal static TrainingData FromDenseChunks(int featureCount, float[][] chunks, int rowsPerChunk, float[] labels, float[]? weights)
    {
        CheckCommon(featureCount, labels, weights);
        int expectedChunks = rowsPerChunk < 1 ? -1 : (labels.Length + rowsPerChunk - 1) / rowsPerChunk;
        for (int c = 0; c < chunks.Length && chunks.Length == expectedChunks; c++)
        {
            long rowsInChunk = Math.Min(rowsPerChunk, labels.Length - (long)c * rowsPerChunk);
            if (chunks[c].Length < rowsInChunk * featureCount)
            {
                expectedChunks = -1;
            }
        }

        if (chunks.Length != expectedChunks)
        {
            throw new ArgumentException($"{chunks.Length} chunks of {rowsPerChunk} rows × {featureCount} features do not hold {labels.Length} rows.", nameof(chunks));
        }

        return new TrainingData(featureCount, labels, weights, chunks, rowsPerChunk, null, null, null);
    }

    /// <summary>
    /// Creates sparse data in compressed sparse row form: row i's non-zeros are <c>values[p]</c> at feature
    /// <c>indices[p]</c> for p in <c>[rowOffsets[i], rowOffsets[i+1])</c>, with strictly increasing indices within a row.
    /// </summary>
    /// <param name="featureCount">D, the number of features per row; at least 1.</param>
    /// <param name="rowOffsets">RowCount + 1 offsets, starting at 0, non-decreasing, ending at <c>indices.Length</c>.</param>
    /// <param name="indices">The feature index of each stored value, in [0, D).</param>
    /// <param name="values">The stored values, finite; same length as <paramref name="indices"/>.</param>
    /// <param name="labels">One finite label per row; its length defines the row count.</param>
    /// <param name="weights">One finite, non-negative weight per row, or null for unweighted data.</param>
    /// <exception cref="ArgumentException">The structure is inconsistent, or a value is not finite, or a weight is negative.</exception>
    public static TrainingData Sparse(int featureCount, int[] rowOffsets, int[] indices, float[] values, float[] labels, float[]? weights)
    {
        ArgumentNullException.ThrowIfNull(rowOffsets);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(values);
        CheckCommon(featureCount, labels, weights);
        if (rowOffsets.Length != labels.Length + 1)
        {
            throw new ArgumentException(
                $"rowOffsets has {rowOffsets.Length} entries but {labels.Length} rows need {labels.Length + 1}.", nameof(rowOffsets));
        }

        if (values.Length != indices.Length)
        {
            throw new ArgumentException($"values has {values.Length} entries but indices has {indices.Length}; they must be equal.", nameof(values));
        }

        if (rowOffsets[0] != 0 || rowOffsets[^1] != indices.Length)
        {
            throw new ArgumentException(
                $"rowOffsets must start at 0 and end at indices.Length = {indices.Length}; got {rowOffsets[0]} … {rowOffsets[^1]}.", nameof(rowOffsets));
        }

        for (int row = 0; row < labels.Length; row++)
        {
            int start = rowOffsets[row], end = rowOffsets[row + 1];
            if (end < start)
            {
                throw new ArgumentException($"rowOffsets must not decrease; row {row} starts at {start} and ends at {end}.", nameof(rowOffsets));
            }

            for (int p = start; p < end; p++)
            {
                int feature = indices[p];
                if ((uint)feature >= (uint)featureCount || (p > start && feature <= indices[p - 1]))
                {
                    throw new ArgumentException(
                        $"Row {row}: feature index {feature} at position {p} must be in [0, {featureCount}) and greater than the previous index in the row.",
                        nameof(indices));
                }

                if (!float.IsFinite(values[p]))
                {
                    throw new ArgumentException($"Row {row}, feature {feature}: value is {values[p]}; features must be finite.", nameof(values));
                }
            }
        }

        return new TrainingData(featureCount, labels, weights, null, rowOffsets, indices, values);
    }

    /// <summary>The number of rows.</summary>
    public int RowCount => _labels.Length;

    /// <summary>D, the number of features per row.</summary>
    public int FeatureCount { get; }

    /// <summary>True when the features are stored in compressed sparse row form.</summary>
    public bool IsSparse => RowOffsets is not null;

    /// <summary>The label of each row.</summary>
    public ReadOnlySpan<float> Labels => _labels;

    /// <summary>The weight of each row; empty when the data are unweighted (every weight is then 1).</summary>
    public ReadOnlySpan<float> Weights => _weights;

    /// <summary>The sum of the example weights (in double), or <see cref="RowCount"/> when unweighted.</summary>
    public double TotalWeight { get; }

    /// <summary>Dense features, row-major, when stored in one array; null when sparse or read in several chunks (see <see cref="DenseRow"/>).</summary>
    internal float[]? DenseFeatures => _denseChunks is [var only] && (long)only.Length == (long)RowCount * FeatureCount ? only : null;

    /// <summary>The features of dense row <paramref name="row"/> (the data must be dense).</summary>
    internal ReadOnlySpan<float> DenseRow(int row) =>
        _denseChunks![row / _rowsPerChunk].AsSpan(row % _rowsPerChunk * FeatureCount, FeatureCount);

    /// <summary>CSR row offsets; null when dense.</summary>
    internal int[]? RowOffsets { get; }

    /// <summary>CSR feature indices; null when dense.</summary>
    internal int[]? Indices { get; }

    /// <summary>CSR values; null when dense.</summary>
    internal float[]? Values { get; }

    /// <summary>The row indices 0 … RowCount−1, created once on first use.</summary>
    internal int[] AllRows => _allRows ??= CreateIdentity(RowCount);

    /// <summary>The weight of row <paramref name="row"/> (1 when unweighted).</summary>
    internal float WeightOf(int row) => _weights.Length == 0 ? 1f : _weights[row];

    /// <summary>The largest |x| of any feature value of any row (0 without values); computed once, on first use, with one
    /// vectorised scan (data reused across trainings, as in cross-validation, are scanned once).</summary>
    internal float FeatureMagnitude => _featureMagnitude ??= ComputeFeatureMagnitude();

    private float ComputeFeatureMagnitude()
    {
        if (IsSparse)
        {
            int count = RowOffsets![RowCount];
            return count == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(Values.AsSpan(0, count)));
        }

        float max = 0;
        for (int chunk = 0, firstRow = 0; firstRow < RowCount; chunk++, firstRow += _rowsPerChunk)
        {
            int rows = Math.Min(_rowsPerChunk, RowCount - firstRow);
            if (rows * FeatureCount > 0)
            {
                max = Math.Max(max, Math.Abs(TensorPrimitives.MaxMagnitude(_denseChunks![chunk].AsSpan(0, rows * FeatureCount))));
            }
        }

        return max;
    }

    /// <summary>A copy of the given rows, in the given order (a row may appear more than once).</summary>
    /// <param name="rows">Row indices in [0, RowCount).</param>
    /// <returns>New data with <c>rows.Length</c> rows, in the same storage form (dense or sparse).</returns>
    public TrainingData Subset(ReadOnlySpan<int> rows)
    {
        foreach (int row in rows)
        {
            EnsureRow(row, nameof(rows));
        }

        var labels = new float[rows.Length];
        float[]? weights = _weights.Length == 0 ? null : new float[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            labels[i] = _labels[rows[i]];
            if (weights is not null)
            {
                weights[i] = _weights[rows[i]];
            }
        }

        if (!IsSparse)
        {
            var features = new float[(long)rows.Length * FeatureCount];
            for (int i = 0; i < rows.Length; i++)
            {
                DenseRow(rows[i]).CopyTo(features.AsSpan(i * FeatureCount, FeatureCount));
            }

            return new TrainingData(FeatureCount, labels, weights, features, null, null, null);
        }

        var offsets = new int[rows.Length + 1];
        for (int i = 0; i < rows.Length; i++)
        {
            offsets[i + 1] = checked(offsets[i] + RowOffsets![rows[i] + 1] - RowOffsets[rows[i]]);
        }

        var indices = new int[offsets[^1]];
        var values = new float[offsets[^1]];
        for (int i = 0; i < rows.Length; i++)
        {
            int start = RowOffsets![rows[i]], length = RowOffsets[rows[i] + 1] - start;
            Indices.AsSpan(start, length).CopyTo(indices.AsSpan(offsets[i]));
            Values.AsSpan(start, length).CopyTo(values.AsSpan(offsets[i]));
        }

        return new TrainingData(FeatureCount, labels, weights, null, offsets, indices, values);
    }

    /// <summary>Throws unless <paramref name="row"/> is a valid row index.</summary>
    internal void EnsureRow(int row, string argumentName)
    {
        if ((uint)row >= (uint)RowCount)
        {
            throw new ArgumentOutOfRangeException(argumentName, $"Row index {row} is outside the data's {RowCount} rows.");
        }
    }

    private static int[] CreateIdentity(int count)
    {
        var rows = new int[count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = i;
        }

        return rows;
    }

    private static void CheckCommon(int featureCount, float[] labels, float[]? weights)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Check.AtLeast(featureCount, 1);
        for (int row = 0; row < labels.Length; row++)
        {
            if (!float.IsFinite(labels[row]))
            {
                throw new ArgumentException($"Row {row}: label is {labels[row]}; labels must be finite.", nameof(labels));
            }
        }

        if (weights is null)
        {
            return;
        }

        if (weights.Length != labels.Length)
        {
            throw new ArgumentException($"weights has {weights.Length} entries but there are {labels.Length} rows (labels).", nameof(weights));
        }

        for (int row = 0; row < weights.Length; row++)
        {
            if (!(weights[row] >= 0) || !float.IsFinite(weights[row]))
            {
                throw new ArgumentException($"Row {row}: weight is {weights[row]}; example weights must be finite and >= 0.", nameof(weights));
            }
        }
    }
}
