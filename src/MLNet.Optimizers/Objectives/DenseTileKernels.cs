using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNet.Optimizers.Objectives;

/// <summary>
/// The two products of a dense evaluation over one tile of rows, as register-tiled single-precision kernels (the blocking of a
/// GEMM): the scores <c>S = X·Wᵀ</c> (4 rows × up to 5 outputs per register tile) and the weight gradient <c>G += Cᵀ·X</c>
/// (up to 5 outputs × 4 vectors of features per register tile), where C holds each row's weighted ∂ℓ/∂s.
/// </summary>
/// <remarks>
/// <para>Vector512 where the hardware accelerates it (and a row has at least 16 features), else Vector256 (at least 8), else
/// one float at a time; multiply-adds are fused. A row's last partial vector is read as the vector ending at the row's end,
/// with the lanes already counted masked to 0, so no scalar tail is left.</para>
/// <para><b>What a result depends on.</b> Each score is one multiply-add chain per vector lane over the features (in feature
/// order), then a fixed horizontal sum. Each gradient entry is one multiply-add chain over the tile's rows
/// (in row order), added once per tile to its double total. Neither depends on which slot of a register tile the row or the
/// output falls in, so the results depend only on the tile's rows and their order: never on thread timing.</para>
/// <para>The caller guarantees the offsets are in range (rows validated, one feature row per offset); no bounds are checked here.</para>
/// </remarks>
internal static class DenseTileKernels
{
    /// <summary>Rows per register tile of the score kernel; row offsets must be padded to a multiple of it.</summary>
    public const int RowGroup = 4;

    private const int ColumnVectors = 4;

    /// <summary>
    /// <c>scores[k·rowCount + r] = Σⱼ X[r, j]·W[k, j]</c> in single precision, for the <paramref name="rowCount"/> rows starting at
    /// <paramref name="rowStarts"/> (offsets into <paramref name="features"/>, padded with repeats to a multiple of
    /// <see cref="RowGroup"/>) and the <paramref name="outputCount"/> outputs of <paramref name="weights"/>, as
    /// <see cref="PrepareWeights"/> writes them.
    /// </summary>
    public static void Scores(ReadOnlySpan<float> features, ReadOnlySpan<nint> rowStarts, int rowCount, int featureCount,
        ReadOnlySpan<float> weights, int outputCount, Span<float> scores)
    {
        var tile = new Tile(features, rowStarts, rowCount, featureCount, outputCount);
        ref float w = ref MemoryMarshal.GetReference(weights);
        ref float s = ref MemoryMarshal.GetReference(scores);
        if (Vector512.IsHardwareAccelerated && featureCount >= Vector512<float>.Count)
        {
            Scores<Lanes512, Vector512<float>>(tile, ref w, ref s);
        }
        else if (Vector256.IsHardwareAccelerated && featureCount >= Vector256<float>.Count)
        {
            Scores<Lanes256, Vector256<float>>(tile, ref w, ref s);
        }
        else
        {
            Scores<Lanes1, float>(tile, ref w, ref s);
        }
    }

    /// <summary>Floats <see cref="PrepareWeights"/> writes for <paramref name="outputCount"/> outputs of <paramref name="featureCount"/> features.</summary>
    public static int PreparedWeightsLength(int featureCount, int outputCount) => outputCount * WeightStride(featureCount);

    /// <summary>
    /// The weights (<paramref name="outputCount"/> rows of <paramref name="featureCount"/>) as the score kernel reads them:
    /// each row padded to whole vectors, its last vector holding the vector that ends at the row's end with the lanes counted
    /// by the vector before set to 0, so the kernel's steps need no mask.
    /// </summary>
    public static void PrepareWeights(ReadOnlySpan<float> weights, int featureCount, int outputCount, Span<float> prepared)
    {
        int lanes = LanesFor(featureCount), stride = WeightStride(featureCount), last = featureCount - lanes;
        for (int k = 0; k < outputCount; k++)
        {
            var source = weights.Slice(k * featureCount, featureCount);
            var target = prepared.Slice(k * stride, stride);
            for (int step = 0; step < featureCount; step += lanes)
            {
                int counted = step - Math.Min(step, last);
                target.Slice(step, counted).Clear();
                source.Slice(step, lanes - counted).CopyTo(target.Slice(step + counted, lanes - counted));
            }
        }
    }

    /// <summary>
    /// Reads one float per cache line of the tile's rows, row by row in address order, and returns their sum (which the caller
    /// keeps, so the reads stay). One sequential stream the hardware prefetcher follows at full bandwidth brings the rows into
    /// the cache faster than the score kernel's four interleaved row streams would.
    /// </summary>
    public static float Touch(ReadOnlySpan<float> features, ReadOnlySpan<nint> rowStarts, int rowCount, int featureCount)
    {
        const int FloatsPerLine = 16;
        ref float x = ref MemoryMarshal.GetReference(features);
        float sum = 0;
        for (int r = 0; r < rowCount; r++)
        {
            nint start = rowStarts[r];
            for (int j = 0; j < featureCount; j += FloatsPerLine)
            {
                sum += Unsafe.Add(ref x, start + j);
            }

            sum += Unsafe.Add(ref x, start + featureCount - 1);
        }

        return sum;
    }

    /// <summary>
    /// <c>gradient[k·D + j] += Σᵣ coefficients[k·rowCount + r]·X[r, j]</c>: the sum over the tile's rows in single precision,
    /// added to the double totals.
    /// </summary>
    public static void AddGradient(ReadOnlySpan<float> features, ReadOnlySpan<nint> rowStarts, int rowCount, int featureCount,
        ReadOnlySpan<float> coefficients, int outputCount, Span<double> gradient)
    {
        var tile = new Tile(features, rowStarts, rowCount, featureCount, outputCount);
        ref float c = ref MemoryMarshal.GetReference(coefficients);
        ref double g = ref MemoryMarshal.GetReference(gradient);
        if (Vector512.IsHardwareAccelerated && featureCount >= Vector512<float>.Count)
        {
            AddGradient<Lanes512, Vector512<float>>(tile, ref c, ref g);
        }
        else if (Vector256.IsHardwareAccelerated && featureCount >= Vector256<float>.Count)
        {
            AddGradient<Lanes256, Vector256<float>>(tile, ref c, ref g);
        }
        else
        {
            AddGradient<Lanes1, float>(tile, ref c, ref g);
        }
    }

    private static void Scores<TLanes, TVector>(in Tile tile, ref float w, ref float scores)
        where TLanes : ILanes<TVector>
        where TVector : struct
    {
        // Output groups outside, rows inside: a group's weights stay in the first-level cache while the tile's rows stream by.
        int k = 0;
        for (; UseFive(tile.OutputCount - k); k += 5)
        {
            for (int r = 0; r < tile.RowCount; r += RowGroup)
            {
                ScoreTile<TLanes, TVector, Five>(tile, r, k, ref w, ref scores);
            }
        }

        for (; k + 4 <= tile.OutputCount; k += 4)
        {
            for (int r = 0; r < tile.RowCount; r += RowGroup)
            {
                ScoreTile<TLanes, TVector, Four>(tile, r, k, ref w, ref scores);
            }
        }

        if (k + 2 <= tile.OutputCount)
        {
            for (int r = 0; r < tile.RowCount; r += RowGroup)
            {
                ScoreTile<TLanes, TVector, Two>(tile, r, k, ref w, ref scores);
            }

            k += 2;
        }

        if (k < tile.OutputCount)
        {
            for (int r = 0; r < tile.RowCount; r += RowGroup)
            {
                ScoreTile<TLanes, TVector, One>(tile, r, k, ref w, ref scores);
            }
        }
    }

    private static void AddGradient<TLanes, TVector>(in Tile tile, ref float coefficients, ref double gradient)
        where TLanes : ILanes<TVector>
        where TVector : struct
    {
        // Column chunks outside, output groups inside: a chunk of the tile's rows stays in the first-level cache for every group.
        // The row's last 1–4 vectors form one more chunk, so a short row end costs one pass over the rows, not one per vector.
        int chunk = ColumnVectors * TLanes.Count, j = 0;
        for (; j + chunk <= tile.FeatureCount; j += chunk)
        {
            GradientGroups<TLanes, TVector, WholeChunk>(tile, j, ref coefficients, ref gradient);
        }

        switch ((tile.FeatureCount - j + TLanes.Count - 1) / TLanes.Count)
        {
            case 1:
                GradientGroups<TLanes, TVector, RowEnd<One>>(tile, j, ref coefficients, ref gradient);
                break;
            case 2:
                GradientGroups<TLanes, TVector, RowEnd<Two>>(tile, j, ref coefficients, ref gradient);
                break;
            case 3:
                GradientGroups<TLanes, TVector, RowEnd<Three>>(tile, j, ref coefficients, ref gradient);
                break;
            case 4:
                GradientGroups<TLanes, TVector, RowEnd<Four>>(tile, j, ref coefficients, ref gradient);
                break;
        }
    }

    private static void GradientGroups<TLanes, TVector, TVectors>(in Tile tile, int columnStart, ref float coefficients, ref double gradient)
        where TLanes : ILanes<TVector>
        where TVector : struct
        where TVectors : IColumnVectors
    {
        int k = 0;
        for (; UseFive(tile.OutputCount - k); k += 5)
        {
            GradientTile<TLanes, TVector, Five, TVectors>(tile, k, columnStart, ref coefficients, ref gradient);
        }

        for (; k + 4 <= tile.OutputCount; k += 4)
        {
            GradientTile<TLanes, TVector, Four, TVectors>(tile, k, columnStart, ref coefficients, ref gradient);
        }

        if (k + 2 <= tile.OutputCount)
        {
            GradientTile<TLanes, TVector, Two, TVectors>(tile, k, columnStart, ref coefficients, ref gradient);
            k += 2;
        }

        if (k < tile.OutputCount)
        {
            GradientTile<TLanes, TVector, One, TVectors>(tile, k, columnStart, ref coefficients, ref gradient);
        }
    }

    /// <summary>Floats per vector of the score kernel for rows of <paramref name="featureCount"/> features.</summary>
    private static int LanesFor(int featureCount) =>
        Vector512.IsHardwareAccelerated && featureCount >= Vector512<float>.Count ? Vector512<float>.Count
        : Vector256.IsHardwareAccelerated && featureCount >= Vector256<float>.Count ? Vector256<float>.Count
        : 1;

    /// <summary>Floats per output in <see cref="PrepareWeights"/>' layout: the row rounded up to whole vectors.</summary>
    private static int WeightStride(int featureCount)
    {
        int lanes = LanesFor(featureCount);
        return (featureCount + lanes - 1) / lanes * lanes;
    }

    /// <summary>
    /// Whether the next register tile covers 5 outputs rather than 4, 2 or 1: while at least 5 remain and they do not split
    /// into whole groups of 4 (10 outputs as 5 + 5 rather than 4 + 4 + 2, whose last group reads as many features per multiply-add
    /// as a group of 4 but does half the work).
    /// </summary>
    private static bool UseFive(int remaining) => remaining >= 5 && remaining % 4 != 0;

    /// <summary>
    /// Scores of rows r … r+3 for outputs k … k+G−1: 4·G accumulators, 4 feature loads and G weight loads per step. The last
    /// step re-reads the final whole vector of each row, against prepared weights whose already counted lanes are 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoreTile<TLanes, TVector, TGroup>(in Tile tile, int r, int k, ref float w, ref float scores)
        where TLanes : ILanes<TVector>
        where TVector : struct
        where TGroup : IOutputGroup
    {
        ref float x = ref tile.Features;
        nint o0 = tile.RowStart(r), o1 = tile.RowStart(r + 1), o2 = tile.RowStart(r + 2), o3 = tile.RowStart(r + 3);
        int d = tile.FeatureCount, last = d - TLanes.Count, stride = (d + TLanes.Count - 1) / TLanes.Count * TLanes.Count;
        nint w0 = (nint)k * stride, w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride, w4 = w3 + stride;
        TVector a00 = TLanes.Zero, a10 = TLanes.Zero, a20 = TLanes.Zero, a30 = TLanes.Zero;
        TVector a01 = TLanes.Zero, a11 = TLanes.Zero, a21 = TLanes.Zero, a31 = TLanes.Zero;
        TVector a02 = TLanes.Zero, a12 = TLanes.Zero, a22 = TLanes.Zero, a32 = TLanes.Zero;
        TVector a03 = TLanes.Zero, a13 = TLanes.Zero, a23 = TLanes.Zero, a33 = TLanes.Zero;
        TVector a04 = TLanes.Zero, a14 = TLanes.Zero, a24 = TLanes.Zero, a34 = TLanes.Zero;
        for (int step = 0; step < d; step += TLanes.Count)
        {
            int j = Math.Min(step, last);
            TVector x0 = TLanes.Load(ref x, o0 + j), x1 = TLanes.Load(ref x, o1 + j);
            TVector x2 = TLanes.Load(ref x, o2 + j), x3 = TLanes.Load(ref x, o3 + j);
            TVector v = TLanes.Load(ref w, w0 + step);
            a00 = TLanes.MultiplyAdd(x0, v, a00);
            a10 = TLanes.MultiplyAdd(x1, v, a10);
            a20 = TLanes.MultiplyAdd(x2, v, a20);
            a30 = TLanes.MultiplyAdd(x3, v, a30);
            if (TGroup.Count >= 2)
            {
                v = TLanes.Load(ref w, w1 + step);
                a01 = TLanes.MultiplyAdd(x0, v, a01);
                a11 = TLanes.MultiplyAdd(x1, v, a11);
                a21 = TLanes.MultiplyAdd(x2, v, a21);
                a31 = TLanes.MultiplyAdd(x3, v, a31);
            }

            if (TGroup.Count >= 4)
            {
                v = TLanes.Load(ref w, w2 + step);
                a02 = TLanes.MultiplyAdd(x0, v, a02);
                a12 = TLanes.MultiplyAdd(x1, v, a12);
                a22 = TLanes.MultiplyAdd(x2, v, a22);
                a32 = TLanes.MultiplyAdd(x3, v, a32);
                v = TLanes.Load(ref w, w3 + step);
                a03 = TLanes.MultiplyAdd(x0, v, a03);
                a13 = TLanes.MultiplyAdd(x1, v, a13);
                a23 = TLanes.MultiplyAdd(x2, v, a23);
                a33 = TLanes.MultiplyAdd(x3, v, a33);
            }

            if (TGroup.Count == 5)
            {
                v = TLanes.Load(ref w, w4 + step);
                a04 = TLanes.MultiplyAdd(x0, v, a04);
                a14 = TLanes.MultiplyAdd(x1, v, a14);
                a24 = TLanes.MultiplyAdd(x2, v, a24);
                a34 = TLanes.MultiplyAdd(x3, v, a34);
            }
        }

        tile.PutScores(ref scores, r, k, TLanes.Sum4(a00, a10, a20, a30));
        if (TGroup.Count >= 2)
        {
            tile.PutScores(ref scores, r, k + 1, TLanes.Sum4(a01, a11, a21, a31));
        }

        if (TGroup.Count >= 4)
        {
            tile.PutScores(ref scores, r, k + 2, TLanes.Sum4(a02, a12, a22, a32));
            tile.PutScores(ref scores, r, k + 3, TLanes.Sum4(a03, a13, a23, a33));
        }

        if (TGroup.Count == 5)
        {
            tile.PutScores(ref scores, r, k + 4, TLanes.Sum4(a04, a14, a24, a34));
        }
    }

    /// <summary>
    /// Gradient of outputs k … k+G−1 for the V vectors of features from <paramref name="columnStart"/> (G·V accumulators; V
    /// feature loads and G coefficient broadcasts per row). At the row's end, a last vector that would pass it is read as the
    /// vector ending there, with the lanes counted before masked to 0 when it is added.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradientTile<TLanes, TVector, TGroup, TVectors>(in Tile tile, int k, int columnStart, ref float coefficients,
        ref double gradient)
        where TLanes : ILanes<TVector>
        where TVector : struct
        where TGroup : IOutputGroup
        where TVectors : IColumnVectors
    {
        ref float x = ref tile.Features;
        int d = tile.FeatureCount, rows = tile.RowCount, lanes = TLanes.Count, last = d - lanes;
        nint cs0 = (nint)k * rows, cs1 = cs0 + rows, cs2 = cs1 + rows, cs3 = cs2 + rows, cs4 = cs3 + rows;
        nint g0 = (nint)k * d;
        // Vectors before the last are whole; at the row's end the last is clamped to end there (an offset from the start).
        nint lastAt = TVectors.AtRowEnd ? Math.Min(columnStart + ((TVectors.Count - 1) * lanes), last) - columnStart : (TVectors.Count - 1) * lanes;
        TVector a00 = TLanes.Zero, a01 = TLanes.Zero, a02 = TLanes.Zero, a03 = TLanes.Zero;
        TVector a10 = TLanes.Zero, a11 = TLanes.Zero, a12 = TLanes.Zero, a13 = TLanes.Zero;
        TVector a20 = TLanes.Zero, a21 = TLanes.Zero, a22 = TLanes.Zero, a23 = TLanes.Zero;
        TVector a30 = TLanes.Zero, a31 = TLanes.Zero, a32 = TLanes.Zero, a33 = TLanes.Zero;
        TVector a40 = TLanes.Zero, a41 = TLanes.Zero, a42 = TLanes.Zero, a43 = TLanes.Zero;
        for (int r = 0; r < rows; r++)
        {
            nint o = tile.RowStart(r) + columnStart;
            TVector x0 = TLanes.Load(ref x, TVectors.Count == 1 ? o + lastAt : o);
            TVector x1 = TVectors.Count == 2 ? TLanes.Load(ref x, o + lastAt) : TVectors.Count > 2 ? TLanes.Load(ref x, o + lanes) : TLanes.Zero;
            TVector x2 = TVectors.Count == 3 ? TLanes.Load(ref x, o + lastAt) : TVectors.Count > 3 ? TLanes.Load(ref x, o + (2 * lanes)) : TLanes.Zero;
            TVector x3 = TVectors.Count == 4 ? TLanes.Load(ref x, o + lastAt) : TLanes.Zero;
            TVector c = TLanes.Broadcast(Unsafe.Add(ref coefficients, cs0 + r));
            a00 = TLanes.MultiplyAdd(x0, c, a00);
            if (TVectors.Count >= 2)
            {
                a01 = TLanes.MultiplyAdd(x1, c, a01);
            }

            if (TVectors.Count >= 3)
            {
                a02 = TLanes.MultiplyAdd(x2, c, a02);
            }

            if (TVectors.Count == 4)
            {
                a03 = TLanes.MultiplyAdd(x3, c, a03);
            }

            if (TGroup.Count >= 2)
            {
                c = TLanes.Broadcast(Unsafe.Add(ref coefficients, cs1 + r));
                a10 = TLanes.MultiplyAdd(x0, c, a10);
                if (TVectors.Count >= 2)
                {
                    a11 = TLanes.MultiplyAdd(x1, c, a11);
                }

                if (TVectors.Count >= 3)
                {
                    a12 = TLanes.MultiplyAdd(x2, c, a12);
                }

                if (TVectors.Count == 4)
                {
                    a13 = TLanes.MultiplyAdd(x3, c, a13);
                }
            }

            if (TGroup.Count >= 4)
            {
                c = TLanes.Broadcast(Unsafe.Add(ref coefficients, cs2 + r));
                a20 = TLanes.MultiplyAdd(x0, c, a20);
                if (TVectors.Count >= 2)
                {
                    a21 = TLanes.MultiplyAdd(x1, c, a21);
                }

                if (TVectors.Count >= 3)
                {
                    a22 = TLanes.MultiplyAdd(x2, c, a22);
                }

                if (TVectors.Count == 4)
                {
                    a23 = TLanes.MultiplyAdd(x3, c, a23);
                }
            }

            if (TGroup.Count >= 4)
            {
                c = TLanes.Broadcast(Unsafe.Add(ref coefficients, cs3 + r));
                a30 = TLanes.MultiplyAdd(x0, c, a30);
                if (TVectors.Count >= 2)
                {
                    a31 = TLanes.MultiplyAdd(x1, c, a31);
                }

                if (TVectors.Count >= 3)
                {
                    a32 = TLanes.MultiplyAdd(x2, c, a32);
                }

                if (TVectors.Count == 4)
                {
                    a33 = TLanes.MultiplyAdd(x3, c, a33);
                }
            }

            if (TGroup.Count == 5)
            {
                c = TLanes.Broadcast(Unsafe.Add(ref coefficients, cs4 + r));
                a40 = TLanes.MultiplyAdd(x0, c, a40);
                if (TVectors.Count >= 2)
                {
                    a41 = TLanes.MultiplyAdd(x1, c, a41);
                }

                if (TVectors.Count >= 3)
                {
                    a42 = TLanes.MultiplyAdd(x2, c, a42);
                }

                if (TVectors.Count == 4)
                {
                    a43 = TLanes.MultiplyAdd(x3, c, a43);
                }
            }
        }

        var columns = new Columns(d, lanes, columnStart);
        AddTo<TLanes, TVector, TVectors>(columns, ref gradient, g0, a00, a01, a02, a03);
        if (TGroup.Count >= 2)
        {
            AddTo<TLanes, TVector, TVectors>(columns, ref gradient, g0 + d, a10, a11, a12, a13);
        }

        if (TGroup.Count >= 4)
        {
            AddTo<TLanes, TVector, TVectors>(columns, ref gradient, g0 + (2 * d), a20, a21, a22, a23);
            AddTo<TLanes, TVector, TVectors>(columns, ref gradient, g0 + (3 * d), a30, a31, a32, a33);
        }

        if (TGroup.Count == 5)
        {
            AddTo<TLanes, TVector, TVectors>(columns, ref gradient, g0 + (4 * d), a40, a41, a42, a43);
        }
    }

    /// <summary>
    /// Adds the first V accumulators to one output's gradient at their columns; at the row's end each is masked to the lanes
    /// the vector before it did not count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TLanes, TVector, TVectors>(in Columns columns, ref double gradient, nint row, TVector a0, TVector a1,
        TVector a2, TVector a3)
        where TLanes : ILanes<TVector>
        where TVector : struct
        where TVectors : IColumnVectors
    {
        if (!TVectors.AtRowEnd)
        {
            TLanes.AddTo(a0, ref gradient, row + columns.At(0));
            TLanes.AddTo(a1, ref gradient, row + columns.At(1));
            TLanes.AddTo(a2, ref gradient, row + columns.At(2));
            TLanes.AddTo(a3, ref gradient, row + columns.At(3));
            return;
        }

        TLanes.AddTo(TLanes.And(a0, TLanes.TailMask(columns.Remaining(0))), ref gradient, row + columns.At(0));
        if (TVectors.Count >= 2)
        {
            TLanes.AddTo(TLanes.And(a1, TLanes.TailMask(columns.Remaining(1))), ref gradient, row + columns.At(1));
        }

        if (TVectors.Count >= 3)
        {
            TLanes.AddTo(TLanes.And(a2, TLanes.TailMask(columns.Remaining(2))), ref gradient, row + columns.At(2));
        }

        if (TVectors.Count == 4)
        {
            TLanes.AddTo(TLanes.And(a3, TLanes.TailMask(columns.Remaining(3))), ref gradient, row + columns.At(3));
        }
    }

    /// <summary>The feature vectors of one gradient register tile: vector i starts at column start + i·lanes, clamped to the row's last vector.</summary>
    private readonly struct Columns(int featureCount, int lanes, int start)
    {
        /// <summary>Where vector <paramref name="i"/> is read.</summary>
        public int At(int i) => Math.Min(start + (i * lanes), featureCount - lanes);

        /// <summary>Features from vector <paramref name="i"/>'s nominal start to the row's end.</summary>
        public int Remaining(int i) => featureCount - (start + (i * lanes));
    }

    /// <summary>The rows of one kernel call: where each starts in the feature array, how many, and the shapes.</summary>
    private readonly ref struct Tile(ReadOnlySpan<float> features, ReadOnlySpan<nint> rowStarts, int rowCount, int featureCount, int outputCount)
    {
        private readonly ref nint _rowStarts = ref MemoryMarshal.GetReference(rowStarts);

        public readonly ref float Features = ref MemoryMarshal.GetReference(features);

        public int RowCount { get; } = rowCount;

        public int FeatureCount { get; } = featureCount;

        public int OutputCount { get; } = outputCount;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public nint RowStart(int row) => Unsafe.Add(ref _rowStarts, row);

        /// <summary>Stores the scores of rows <paramref name="row"/> … +3 for <paramref name="output"/>, except padding rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void PutScores(ref float scores, int row, int output, Vector128<float> values)
        {
            ref float target = ref Unsafe.Add(ref scores, ((nint)output * RowCount) + row);
            if (row + RowGroup <= RowCount)
            {
                values.StoreUnsafe(ref target);
                return;
            }

            for (int i = 0; row + i < RowCount; i++)
            {
                Unsafe.Add(ref target, i) = values.GetElement(i);
            }
        }
    }

    /// <summary>How many outputs (or feature vectors) one register tile covers; a constant to the JIT, so unused accumulators vanish.</summary>
    private interface IOutputGroup
    {
        static abstract int Count { get; }
    }

    private readonly struct One : IOutputGroup
    {
        public static int Count => 1;
    }

    private readonly struct Two : IOutputGroup
    {
        public static int Count => 2;
    }

    private readonly struct Three : IOutputGroup
    {
        public static int Count => 3;
    }

    /// <summary>How many feature vectors one gradient register tile covers, and whether they end at the row's end.</summary>
    private interface IColumnVectors
    {
        static abstract int Count { get; }

        /// <summary>Whether the last vector may pass the row's end (it is then clamped, and its added lanes masked).</summary>
        static abstract bool AtRowEnd { get; }
    }

    /// <summary><see cref="ColumnVectors"/> whole vectors inside the row.</summary>
    private readonly struct WholeChunk : IColumnVectors
    {
        public static int Count => ColumnVectors;

        public static bool AtRowEnd => false;
    }

    /// <summary>The row's last 1–4 vectors.</summary>
    private readonly struct RowEnd<TCount> : IColumnVectors
        where TCount : IOutputGroup
    {
        public static int Count => TCount.Count;

        public static bool AtRowEnd => true;
    }

    private readonly struct Four : IOutputGroup
    {
        public static int Count => 4;
    }

    private readonly struct Five : IOutputGroup
    {
        public static int Count => 5;
    }

    /// <summary>The vector operations the kernels need, at one width.</summary>
    private interface ILanes<TVector>
        where TVector : struct
    {
        static abstract int Count { get; }

        static abstract TVector Zero { get; }

        static abstract TVector Load(ref float source, nint offset);

        static abstract TVector Broadcast(float value);

        static abstract TVector MultiplyAdd(TVector x, TVector y, TVector addend);

        /// <summary>The lane sums of four vectors, in order (a fixed sequence of shuffles and adds).</summary>
        static abstract Vector128<float> Sum4(TVector a, TVector b, TVector c, TVector d);

        /// <summary>All bits set in the last min(<paramref name="remaining"/>, Count) lanes, clear in the others.</summary>
        static abstract TVector TailMask(int remaining);

        static abstract TVector And(TVector x, TVector mask);

        /// <summary><c>destination[offset + i] += value[i]</c>, widened to double.</summary>
        static abstract void AddTo(TVector value, ref double destination, nint offset);
    }

    private readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;

        public static Vector512<float> Zero => Vector512<float>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(ref float source, nint offset) => Vector512.LoadUnsafe(ref Unsafe.Add(ref source, offset));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> MultiplyAdd(Vector512<float> x, Vector512<float> y, Vector512<float> addend) =>
            Vector512.FusedMultiplyAdd(x, y, addend);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Sum4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
        {
            if (!Avx512F.IsSupported)
            {
                return Vector128.Create(Vector512.Sum(a), Vector512.Sum(b), Vector512.Sum(c), Vector512.Sum(d));
            }

            // Halve twice across 128-bit blocks (two sources per step), leaving one block of 4 partial sums per source.
            var ab = Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);
            var cd = Avx512F.Shuffle4x128(c, d, 0x44) + Avx512F.Shuffle4x128(c, d, 0xEE);
            var abcd = Avx512F.Shuffle4x128(ab, cd, 0x88) + Avx512F.Shuffle4x128(ab, cd, 0xDD);
            return Lanes256.SumBlocks(abcd.GetLower(), abcd.GetUpper());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> TailMask(int remaining) =>
            Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(Count - remaining)).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> And(Vector512<float> x, Vector512<float> mask) => x & mask;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddTo(Vector512<float> value, ref double destination, nint offset)
        {
            ref double target = ref Unsafe.Add(ref destination, offset);
            var (lower, upper) = Vector512.Widen(value);
            (Vector512.LoadUnsafe(ref target) + lower).StoreUnsafe(ref target);
            (Vector512.LoadUnsafe(ref target, (nuint)Vector512<double>.Count) + upper).StoreUnsafe(ref target, (nuint)Vector512<double>.Count);
        }
    }

    private readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;

        public static Vector256<float> Zero => Vector256<float>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(ref float source, nint offset) => Vector256.LoadUnsafe(ref Unsafe.Add(ref source, offset));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> MultiplyAdd(Vector256<float> x, Vector256<float> y, Vector256<float> addend) =>
            Vector256.FusedMultiplyAdd(x, y, addend);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
        {
            if (!Avx.IsSupported)
            {
                return Vector128.Create(Vector256.Sum(a), Vector256.Sum(b), Vector256.Sum(c), Vector256.Sum(d));
            }

            // [a.lo + a.hi | b.lo + b.hi] and the same for c, d: one block of 4 partial sums per source.
            var ab = Avx.Permute2x128(a, b, 0x20) + Avx.Permute2x128(a, b, 0x31);
            var cd = Avx.Permute2x128(c, d, 0x20) + Avx.Permute2x128(c, d, 0x31);
            return SumBlocks(ab, cd);
        }

        /// <summary>
        /// The sums of the 128-bit blocks of [a | b] and [c | d] (4 partial sums each): two horizontal adds give
        /// [a, c, a, c | b, d, b, d], interleaved to [a, b, c, d]. Needs AVX.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> SumBlocks(Vector256<float> ab, Vector256<float> cd)
        {
            var pairs = Avx.HorizontalAdd(ab, cd);
            var sums = Avx.HorizontalAdd(pairs, pairs);
            return Sse.UnpackLow(sums.GetLower(), sums.GetUpper());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> TailMask(int remaining) =>
            Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(Count - remaining)).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> And(Vector256<float> x, Vector256<float> mask) => x & mask;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddTo(Vector256<float> value, ref double destination, nint offset)
        {
            ref double target = ref Unsafe.Add(ref destination, offset);
            var (lower, upper) = Vector256.Widen(value);
            (Vector256.LoadUnsafe(ref target) + lower).StoreUnsafe(ref target);
            (Vector256.LoadUnsafe(ref target, (nuint)Vector256<double>.Count) + upper).StoreUnsafe(ref target, (nuint)Vector256<double>.Count);
        }
    }

    /// <summary>The scalar fallback: one float per "vector".</summary>
    private readonly struct Lanes1 : ILanes<float>
    {
        public static int Count => 1;

        public static float Zero => 0f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load(ref float source, nint offset) => Unsafe.Add(ref source, offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Broadcast(float value) => value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float MultiplyAdd(float x, float y, float addend) => (x * y) + addend;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Sum4(float a, float b, float c, float d) => Vector128.Create(a, b, c, d);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float TailMask(int remaining) => BitConverter.Int32BitsToSingle(remaining >= 1 ? -1 : 0);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float And(float x, float mask) =>
            BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(x) & BitConverter.SingleToInt32Bits(mask));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AddTo(float value, ref double destination, nint offset) => Unsafe.Add(ref destination, offset) += value;
    }
}
