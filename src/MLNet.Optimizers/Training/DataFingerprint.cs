using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// A checkpoint's record of the data it was trained on: the row count, the total weight and a CRC-64 over every row's label,
/// weight and features (sparse rows: indices and values), in the order the data gives them. One pass over the data; it tells
/// a checkpoint of these data from one of other data (a changed row, a new row, another order) with near certainty.
/// </summary>
internal static class DataFingerprint
{
    /// <summary>The fingerprint of rows held in memory.</summary>
    public static string Of(TrainingData data, CancellationToken cancellationToken)
    {
        var crc = new Crc64();
        Append(crc, data, cancellationToken);
        return Format(data.RowCount, data.TotalWeight, crc);
    }

    /// <summary>The fingerprint of a streamed source: one pass in the source's own order.</summary>
    public static string Of(ITrainingBatchSource source, CancellationToken cancellationToken)
    {
        var crc = new Crc64();
        long rows = 0;
        double totalWeight = 0;
        foreach (var batch in source.ReadBatches(TrainingLoop.StreamingPassRows, shuffleSeed: null))
        {
            Append(crc, batch, cancellationToken);
            rows += batch.RowCount;
            totalWeight += batch.TotalWeight;
        }

        return Format(rows, totalWeight, crc);
    }

    private static void Append(Crc64 crc, TrainingData data, CancellationToken cancellationToken)
    {
        Span<float> labelAndWeight = stackalloc float[2];
        for (int row = 0; row < data.RowCount; row++)
        {
            if (row % 4096 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            labelAndWeight[0] = data.Labels[row];
            labelAndWeight[1] = data.WeightOf(row);
            crc.Append(MemoryMarshal.AsBytes(labelAndWeight));
            if (data.RowOffsets is { } offsets)
            {
                int start = offsets[row], count = offsets[row + 1] - start;
                crc.Append(MemoryMarshal.AsBytes(data.Indices.AsSpan(start, count)));
                crc.Append(MemoryMarshal.AsBytes(data.Values.AsSpan(start, count)));
            }
            else
            {
                crc.Append(MemoryMarshal.AsBytes(data.DenseRow(row)));
            }
        }
    }

    private static string Format(long rows, double totalWeight, Crc64 crc) =>
        string.Create(CultureInfo.InvariantCulture, $"{rows} rows, total weight {totalWeight:R}, CRC-64 {crc.GetCurrentHashAsUInt64():X16}");
}
