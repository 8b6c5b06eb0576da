using System.Numerics.Tensors;

namespace MLNet.Optimizers.Objectives;

/// <summary>
/// The data term of a linear model's training objective: the weighted mean loss over a set of rows,
/// <c>L(θ) = Σᵢ wᵢ·ℓ(sᵢ, yᵢ) / Σᵢ wᵢ</c> with scores <c>sᵢₖ = W[k]·xᵢ + b[k]</c>, and its gradient with respect to the flat
/// parameter vector (see <see cref="LinearModelLayout"/>). Penalties (L2, L1) are not part of it; the training loop adds them.
/// </summary>
/// <remarks>
/// <para><b>Dense data</b> run as a GEMM does, tile by tile of rows (a tile stays in the core's cache between its two
/// products): the scores <c>S = X·Wᵀ</c> by register-tiled single-precision multiply-adds (<see cref="DenseTileKernels"/>),
/// then each row's loss and ∂ℓ/∂s from the scores in double (softmax: in single precision with each row's loss formed in
/// double, see <see cref="TileLossesSingle"/>), then the weight gradient <c>G += Cᵀ·X</c> with <c>C = w·∂ℓ/∂s</c> in float,
/// summed over the tile's rows in single precision and added to a double total once per tile. Biases, losses, weights and
/// every total are double. Small dense data sets (at most 2²² multiply-adds per pass) are evaluated row by row in double
/// instead, as sparse data are.</para>
/// <para><b>Precision kept (dense).</b> A score carries the rounding of a single-precision dot product (about √D·2⁻²⁴
/// relative to Σ|xⱼwⱼ|) where the double path had none to speak of; rounding errors of different rows are independent, so
/// the mean loss stays within 1e-6 (relative) of the all-double evaluation, and each gradient entry within 1e-6 of the
/// gradient's largest entry (tested against a plain double evaluation). This is the precision a float model and float
/// features carry anyway.</para>
/// <para><b>Sparse data</b> (CSR) touch only the stored non-zeros; everything there runs in double, and only the final mean
/// gradient is rounded to float. A full pass reads the weights from a feature-major double copy (a feature's K weights side
/// by side, so a stored value costs one or two cache lines instead of K), and each block keeps its partial gradient at the
/// coordinates its rows touch only, so a pass costs O(non-zeros) plus a few passes over the parameters (the copy, the
/// total, the final transposition), whatever the number of blocks.</para>
/// <para><b>Determinism.</b> Rows are cut into fixed blocks of 1,024 (a constant, independent of the thread count), blocks into
/// tiles whose size depends only on the feature and output counts. Each block writes its own preallocated partial gradient; blocks may run
/// in parallel, and their partials are then added in block order. No kernel result depends on where a row or output falls in
/// a register tile. The result therefore never depends on thread timing: the same inputs give bit-identical outputs on one
/// machine. (Machines whose vector widths differ round differently.)</para>
/// <para><b>Allocation and threads.</b> Work buffers are cached in the instance and reused, so steady-state calls allocate
/// nothing beyond what <see cref="Parallel"/> needs for multi-block calls. One call at a time is the intended use (one
/// training run per objective); a concurrent call is still correct, it just gets fresh buffers.</para>
/// <para>A set of rows whose weights sum to 0 (or no rows at all) has loss 0 and gradient 0.</para>
/// </remarks>
public abstract class LinearObjective
{
    /// <summary>Rows per block: the unit of parallel work and of the fixed reduction order.</summary>
    internal const int DefaultRowsPerBlock = 1024;

    /// <summary>
    /// How many blocks are processed (and hold a partial gradient) at once: as many as fit in <see cref="WaveDoubles"/>, at
    /// least this many.
    /// </summary>
    internal const int MinBlocksPerWave = 16;

    /// <summary>Doubles the partial gradients of one wave may hold (8 MB): small models run all their blocks in one wave.</summary>
    private const int WaveDoubles = 1 << 20;

    /// <summary>
    /// A tile of dense rows holds about this many bytes of features (it is re-read from the core's cache by the gradient kernel)
    /// and at most <see cref="MaxTileScores"/> scores, and at most <see cref="MaxTileRows"/> rows.
    /// </summary>
    private const int TileFeatureBytes = 256 * 1024;

    private const int MaxTileScores = 16 * 1024;

    private const int MaxTileRows = 512;

    /// <summary>Each worker thread's tile buffers (their contents never outlive one tile, so results do not depend on which).</summary>
    [ThreadStatic]
    private static TileBuffers? t_tileBuffers;

    private Workspace? _idleWorkspace;

    /// <summary>The data whose every label was last found valid, so full-batch calls do not check them again.</summary>
    private WeakReference<TrainingData>? _labelsChecked;

    /// <summary>Initialises the objective.</summary>
    protected LinearObjective()
    {
    }

    /// <summary>K, the number of scores per row (1 for binary and regression, the class count for softmax).</summary>
    public abstract int OutputCount { get; }

    /// <summary>Rows per block; only tests change it (to compare one block with many).</summary>
    internal int RowsPerBlock { get; init; } = DefaultRowsPerBlock;

    /// <summary>Whether blocks may run in parallel; only tests turn it off (to show parallel equals serial bit for bit).</summary>
    internal bool ParallelBlocks { get; init; } = true;

    /// <summary>
    /// Dense data sets with at most this many multiply-adds per pass (rows × features × outputs) are evaluated row by row in
    /// double, like sparse data: at that size a pass takes milliseconds either way, and double scores let L-BFGS (and OWL-QN's
    /// optimality conditions) converge to 1e-6 and beyond, where single-precision scores put a noise floor of about 1e-5 on
    /// the gradient. Larger data sets take the single-precision tile kernels. Only tests change it.
    /// </summary>
    internal long ExactDenseMultiplyAdds { get; init; } = 1L << 22;

    /// <summary>The parameter layout of this objective's model over <paramref name="data"/>'s features.</summary>
    /// <param name="data">The data.</param>
    public LinearModelLayout LayoutFor(TrainingData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new LinearModelLayout(OutputCount, data.FeatureCount);
    }

    /// <summary>
    /// The weighted mean data loss over <paramref name="rows"/> (no penalty), and its gradient with respect to
    /// <paramref name="parameters"/>, written into <paramref name="gradient"/> (overwritten).
    /// </summary>
    /// <param name="data">The data.</param>
    /// <param name="rows">Indices into <paramref name="data"/>; a row may appear more than once.</param>
    /// <param name="parameters">The flat parameter vector (<see cref="LayoutFor"/>).</param>
    /// <param name="gradient">Receives the gradient; same length as <paramref name="parameters"/>.</param>
    /// <returns>The weighted mean loss.</returns>
    /// <exception cref="ArgumentException">A length disagrees with the layout, a row is out of range, or a label does not suit the objective.</exception>
    public double LossAndGradient(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters, Span<float> gradient) =>
        Evaluate(data, rows, parameters, gradient, withGradient: true, out _);

    /// <summary>The weighted mean data loss over <paramref name="rows"/> (no penalty).</summary>
    /// <param name="data">The data.</param>
    /// <param name="rows">Indices into <paramref name="data"/>.</param>
    /// <param name="parameters">The flat parameter vector.</param>
    /// <returns>The weighted mean loss.</returns>
    public double Loss(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters) =>
        Evaluate(data, rows, parameters, default, withGradient: false, out _);

    /// <summary>The weighted mean data loss over every row of <paramref name="data"/>, and its gradient.</summary>
    /// <param name="data">The data.</param>
    /// <param name="parameters">The flat parameter vector.</param>
    /// <param name="gradient">Receives the gradient; same length as <paramref name="parameters"/>.</param>
    /// <returns>The weighted mean loss.</returns>
    public double LossAndGradient(TrainingData data, ReadOnlySpan<float> parameters, Span<float> gradient)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(data, data.AllRows, parameters, gradient, withGradient: true, out _);
    }

    /// <summary>The weighted mean data loss over every row of <paramref name="data"/>.</summary>
    /// <param name="data">The data.</param>
    /// <param name="parameters">The flat parameter vector.</param>
    /// <returns>The weighted mean loss.</returns>
    public double Loss(TrainingData data, ReadOnlySpan<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(data, data.AllRows, parameters, default, withGradient: false, out _);
    }

    /// <summary>Whether <paramref name="label"/> is a valid label for this objective.</summary>
    /// <param name="label">A label (already known to be finite).</param>
    protected abstract bool IsValidLabel(float label);

    /// <summary>What a valid label is, for error messages, e.g. <c>0 or 1</c>.</summary>
    protected abstract string LabelRequirement { get; }

    /// <summary>
    /// The loss of one row given its K scores. When <paramref name="writeScoreGradient"/> is true, the
    /// derivative of that loss with respect to each score replaces the score in <paramref name="scores"/>.
    /// </summary>
    /// <param name="scores">The row's K scores; overwritten by ∂ℓ/∂s when <paramref name="writeScoreGradient"/>.</param>
    /// <param name="label">The row's label (valid per <see cref="IsValidLabel"/>).</param>
    /// <param name="writeScoreGradient">Whether to write ∂ℓ/∂s.</param>
    /// <returns>ℓ(s, y).</returns>
    protected abstract double RowLoss(Span<double> scores, float label, bool writeScoreGradient);

    /// <summary>
    /// <see cref="RowLoss"/> over a tile of rows whose scores are stored output by output: output k of row r at
    /// <c>scores[k·rowCount + r]</c>, rowCount = <c>labels.Length</c>. Writes each row's loss into <paramref name="losses"/> and,
    /// when <paramref name="writeScoreGradient"/>, replaces each score by ∂ℓ/∂s. Objectives override it to vectorise across rows;
    /// a new objective needs only <see cref="RowLoss"/>.
    /// </summary>
    /// <param name="scores">K·rowCount scores, output-major; overwritten by ∂ℓ/∂s when <paramref name="writeScoreGradient"/>.</param>
    /// <param name="labels">The tile's labels (valid).</param>
    /// <param name="losses">Receives ℓ of each row.</param>
    /// <param name="scratch">At least max(K, 2·rowCount) doubles of work space.</param>
    /// <param name="writeScoreGradient">Whether to write ∂ℓ/∂s.</param>
    internal virtual void TileLosses(Span<double> scores, ReadOnlySpan<float> labels, Span<double> losses, Span<double> scratch,
        bool writeScoreGradient)
    {
        int rowCount = labels.Length, outputs = OutputCount;
        var row = scratch[..outputs];
        for (int r = 0; r < rowCount; r++)
        {
            for (int k = 0; k < outputs; k++)
            {
                row[k] = scores[(k * rowCount) + r];
            }

            losses[r] = RowLoss(row, labels[r], writeScoreGradient);
            if (writeScoreGradient)
            {
                for (int k = 0; k < outputs; k++)
                {
                    scores[(k * rowCount) + r] = row[k];
                }
            }
        }
    }

    /// <summary>
    /// A single-precision path for one tile, for objectives whose loss keeps the documented precision that way (the scores
    /// carry a single-precision rounding anyway): from the kernel's scores (without the biases), writes each row's loss ℓ in
    /// double and, unless <paramref name="coefficients"/> is empty, the gradient kernel's coefficients <c>C = w·∂ℓ/∂s</c> in
    /// single precision. Returns false, having written nothing, when the objective has no such path or the tile is too small
    /// for it; the caller then widens the scores to double and calls <see cref="TileLosses"/>.
    /// </summary>
    /// <param name="scores">K·rowCount scores without the biases, output-major (output k of row r at <c>[k·rowCount + r]</c>).</param>
    /// <param name="biases">The K biases.</param>
    /// <param name="labels">The tile's labels (valid).</param>
    /// <param name="weights">The tile's row weights.</param>
    /// <param name="losses">Receives ℓ of each row (not weighted).</param>
    /// <param name="coefficients">Receives C, output-major like the scores; empty when no gradient is wanted.</param>
    /// <returns>Whether the losses (and coefficients) were written.</returns>
    internal virtual bool TileLossesSingle(ReadOnlySpan<float> scores, ReadOnlySpan<float> biases, ReadOnlySpan<float> labels,
        ReadOnlySpan<float> weights, Span<double> losses, Span<float> coefficients) => false;

    /// <summary>
    /// The shared evaluation: blocks, optional parallelism, fixed-order reduction; also returns Σ wᵢ over the rows.
    /// <paramref name="cancellationToken"/> is checked before every block (parallel blocks that start after it is cancelled
    /// do nothing), so one evaluation over millions of rows stops within about a block per core.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    internal double Evaluate(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters, Span<float> gradient,
        bool withGradient, out double totalWeight, CancellationToken cancellationToken = default)
    {
        var layout = LayoutFor(data);
        layout.EnsureLength(parameters, nameof(parameters));
        if (withGradient)
        {
            layout.EnsureLength(gradient, nameof(gradient));
        }

        ValidateRows(data, rows);
        int blockCount = rows.IsEmpty ? 0 : ((rows.Length - 1) / RowsPerBlock) + 1;
        bool parallel = ParallelBlocks && blockCount > 1;
        int waveBlocks = Math.Min(blockCount, Math.Max(MinBlocksPerWave, WaveDoubles / layout.ParameterCount));
        var workspace = Interlocked.Exchange(ref _idleWorkspace, null) ?? new Workspace(this);
        try
        {
            workspace.Prepare(layout, parallel ? waveBlocks : 1, parameters, featureMajor: data.IsSparse);
            var sums = new Sums(withGradient ? workspace.GradientTotal : default, data.IsSparse);
            if (!parallel)
            {
                var block = workspace.Blocks[0];
                for (int b = 0; b < blockCount; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int start = b * RowsPerBlock;
                    var blockRows = rows.Slice(start, Math.Min(RowsPerBlock, rows.Length - start));
                    ProcessBlock(data, blockRows, workspace, block, withGradient);
                    sums.Add(block, withGradient);
                }
            }
            else
            {
                workspace.BeginParallel(data, rows, withGradient, cancellationToken);
                for (int waveStart = 0; waveStart < blockCount; waveStart += waveBlocks)
                {
                    int count = Math.Min(waveBlocks, blockCount - waveStart);
                    workspace.RunWave(waveStart, count);
                    cancellationToken.ThrowIfCancellationRequested();
                    for (int i = 0; i < count; i++)
                    {
                        sums.Add(workspace.Blocks[i], withGradient);
                    }
                }
            }
            totalWeight = sums.Weight;
            if (withGradient)
            {
                if (data.IsSparse)
                {
                    MeanFromFeatureMajor(sums.Gradient, sums.Weight, layout, gradient);
                }
                else
                {
                    for (int j = 0; j < gradient.Length; j++)
                    {
                        gradient[j] = sums.Weight > 0 ? (float)(sums.Gradient[j] / sums.Weight) : 0f;
                    }
                }
            }
            return sums.Weight > 0 ? sums.Loss / sums.Weight : 0;
        }
        finally
        {
            workspace.EndParallel();
            _idleWorkspace = workspace;
        }
    }

    /// <summary>gradient (output-major) ← total (feature-major) ÷ weight, rounded to float; 0 when the weight is 0.</summary>
    private static void MeanFromFeatureMajor(ReadOnlySpan<double> total, double weight, LinearModelLayout layout, Span<float> gradient)
    {
        int outputs = layout.OutputCount, features = layout.FeatureCount, weightCount = outputs * features;
        for (int k = 0; k < outputs; k++)
        {
            var target = gradient.Slice(k * features, features);
            for (int j = 0; j < target.Length; j++)
            {
                target[j] = weight > 0 ? (float)(total[(j * outputs) + k] / weight) : 0f;
            }

            gradient[weightCount + k] = weight > 0 ? (float)(total[weightCount + k] / weight) : 0f;
        }
    }

    /// <summary>
    /// The weighted mean loss of <paramref name="rows"/> of sparse <paramref name="data"/> and its gradient, accumulated at
    /// the touched coordinates only (each row's features for every output, and every bias): O(non-zeros), not O(parameters).
    /// Same arithmetic as <see cref="Evaluate"/> on one block (scores and sums in double, row by row), so for batches of at
    /// most <c>RowsPerBlock</c> rows the values are bit-identical to the dense gradient's at those coordinates. Serial.
    /// </summary>
    /// <remarks>
    /// With <paramref name="touchedCollected"/>, <paramref name="gradient"/> already holds the batch's coordinates from
    /// <see cref="CollectTouched"/> (so a lazy rule could bring them up to date first) and is not cleared.
    /// </remarks>
    internal double EvaluateSparse(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters, SparseGradient gradient,
        out double totalWeight, bool touchedCollected = false)
    {
        if (!data.IsSparse)
        {
            throw new ArgumentException("EvaluateSparse needs sparse data (TrainingData.Sparse).", nameof(data));
        }

        var layout = LayoutFor(data);
        layout.EnsureLength(parameters, nameof(parameters));
        ValidateRows(data, rows);
        int outputs = OutputCount, features = data.FeatureCount, weightCount = outputs * features;
        Span<double> scores = stackalloc double[outputs];
        var labels = data.Labels;
        if (!touchedCollected)
        {
            gradient.Clear();
        }

        double loss = 0, weight = 0;
        foreach (int row in rows)
        {
            double w = data.WeightOf(row);
            if (w == 0)
            {
                continue;
            }

            RowScoresInDouble(data, row, parameters, scores, out var indices, out var values);
            loss += w * RowLoss(scores, labels[row], writeScoreGradient: true);
            weight += w;
            for (int k = 0; k < outputs; k++)
            {
                double c = w * scores[k];
                for (int p = 0; p < indices.Length; p++)
                {
                    gradient.Add(k * features + indices[p], c * values[p]);
                }

                gradient.Add(weightCount + k, c);
            }
        }

        gradient.Finish(weight);
        totalWeight = weight;
        return weight > 0 ? loss / weight : 0;
    }

    /// <summary>
    /// Registers in <paramref name="gradient"/> (cleared first, values 0) every coordinate the gradient of
    /// <paramref name="rows"/> of sparse <paramref name="data"/> touches, in increasing order: the rows' features for every
    /// output, and every bias. These are also exactly the weights the batch's forward pass reads.
    /// </summary>
    internal void CollectTouched(TrainingData data, ReadOnlySpan<int> rows, SparseGradient gradient)
    {
        int outputs = OutputCount, features = data.FeatureCount, weightCount = outputs * features;
        gradient.Clear();
        foreach (int row in rows)
        {
            var indices = data.Indices.AsSpan(data.RowOffsets![row], data.RowOffsets[row + 1] - data.RowOffsets[row]);
            for (int k = 0; k < outputs; k++)
            {
                foreach (int feature in indices)
                {
                    gradient.Add(k * features + feature, 0);
                }
            }
        }

        for (int k = 0; k < outputs; k++)
        {
            gradient.Add(weightCount + k, 0);
        }

        gradient.SortIndices();
    }

    /// <summary>
    /// The weighted mean loss of the all-zero model (every score 0) over every row of <paramref name="data"/>, from the labels
    /// alone: log 2 for logistic, log K for softmax, ½·mean(y²) for squared, 1 + mean(log y!) for Poisson. Σwᵢ in
    /// <paramref name="totalWeight"/>. This default evaluates <see cref="RowLoss"/> at zero scores row by row; objectives whose
    /// value follows from label statistics override it.
    /// </summary>
    internal virtual double ZeroModelLoss(TrainingData data, out double totalWeight)
    {
        ValidateRows(data, data.AllRows);
        Span<double> scores = OutputCount <= 256 ? stackalloc double[OutputCount] : new double[OutputCount];
        var labels = data.Labels;
        double loss = 0, weight = 0;
        for (int row = 0; row < data.RowCount; row++)
        {
            double w = data.WeightOf(row);
            if (w == 0)
            {
                continue;
            }

            scores.Clear();
            loss += w * RowLoss(scores, labels[row], writeScoreGradient: false);
            weight += w;
        }

        totalWeight = weight;
        return weight > 0 ? loss / weight : 0;
    }

    /// <summary>Throws unless every label of <paramref name="data"/> suits this objective (names the first bad row).</summary>
    /// <param name="data">The data to check.</param>
    public void EnsureValidLabels(TrainingData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ValidateRows(data, data.AllRows);
    }

    private void ValidateRows(TrainingData data, ReadOnlySpan<int> rows)
    {
        // Full-batch calls repeat on the same data (every L-BFGS evaluation): its labels are checked once.
        bool allRows = rows == data.AllRows;
        if (allRows && _labelsChecked is { } checkedData && checkedData.TryGetTarget(out var known) && known == data)
        {
            return;
        }

        var labels = data.Labels;
        foreach (int row in rows)
        {
            data.EnsureRow(row, nameof(rows));
            if (!IsValidLabel(labels[row]))
            {
                throw new ArgumentException(
                    $"Row {row}: label is {labels[row]}; {GetType().Name} expects {LabelRequirement}.", nameof(data));
            }
        }

        if (allRows)
        {
            _labelsChecked = new WeakReference<TrainingData>(data);
        }
    }

    /// <summary>Rows per tile of dense data (see <see cref="TileFeatureBytes"/>), a multiple of the kernel's row group.</summary>
    private static int TileRowsFor(int featureCount, int outputCount) =>
        Math.Clamp(Math.Min(TileFeatureBytes / sizeof(float) / featureCount, MaxTileScores / outputCount)
            / DenseTileKernels.RowGroup * DenseTileKernels.RowGroup, DenseTileKernels.RowGroup, MaxTileRows);

    /// <summary>Loss, weight and (optionally) gradient partials of one block of rows, written into <paramref name="block"/>.</summary>
    private void ProcessBlock(TrainingData data, ReadOnlySpan<int> rows, Workspace workspace, BlockPartial block, bool withGradient)
    {
        if (data.IsSparse)
        {
            ProcessSparseRows(data, rows, workspace.FeatureMajorParameters, block, withGradient);
            return;
        }

        if (withGradient)
        {
            block.Gradient.AsSpan().Clear();
        }

        block.Loss = 0;
        block.Weight = 0;
        if (!data.IsSparse
            && (long)data.RowCount * data.FeatureCount * OutputCount > ExactDenseMultiplyAdds)
        {
            int tileRows = TileRowsFor(data.FeatureCount, OutputCount);
            var buffers = t_tileBuffers;
            if (buffers is null || buffers.Rows < tileRows || buffers.Outputs < OutputCount)
            {
                buffers = t_tileBuffers = new TileBuffers(Math.Max(tileRows, buffers?.Rows ?? 0), Math.Max(OutputCount, buffers?.Outputs ?? 0));
            }

            var kernelWeights = buffers.KernelWeights(DenseTileKernels.PreparedWeightsLength(data.FeatureCount, OutputCount));
            DenseTileKernels.PrepareWeights(workspace.Parameters, data.FeatureCount, OutputCount, kernelWeights);
            for (int start = 0; start < rows.Length; start += tileRows)
            {
                ProcessDenseTile(data, rows.Slice(start, Math.Min(tileRows, rows.Length - start)), workspace.Parameters,
                    kernelWeights, block, buffers, withGradient);
            }
        }
        else
        {
            ProcessRowsInDouble(data, rows, workspace.Parameters, block, withGradient);
        }
    }

    /// <summary>One tile of dense rows: scores by the tile kernel, losses and ∂ℓ/∂s in double, then the gradient kernel.</summary>
    private void ProcessDenseTile(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters,
        ReadOnlySpan<float> kernelWeights, BlockPartial block, TileBuffers buffers, bool withGradient)
    {
        int outputs = OutputCount, features = data.FeatureCount, weightCount = outputs * features, count = rows.Length;
        var rowStarts = buffers.RowStarts;
        var labels = buffers.Labels.AsSpan(0, count);
        var weights = buffers.RowWeights.AsSpan(0, count);

        // Data read in chunks has no single array for the kernels: the tile's rows are gathered into one (same values, so
        // the same results as data in one array).
        float[]? whole = data.DenseFeatures;
        float[] dense = whole ?? buffers.GatheredRows(count * features);
        for (int r = 0; r < count; r++)
        {
            int row = rows[r];
            if (whole is null)
            {
                data.DenseRow(row).CopyTo(dense.AsSpan(r * features, features));
                rowStarts[r] = (nint)r * features;
            }
            else
            {
                rowStarts[r] = (nint)row * features;
            }

            labels[r] = data.Labels[row];
            weights[r] = buffers.SingleRowWeights[r] = data.WeightOf(row);
        }

        for (int r = count; r % DenseTileKernels.RowGroup != 0; r++)
        {
            rowStarts[r] = rowStarts[count - 1];
        }

        var floatScores = buffers.FloatScores.AsSpan(0, outputs * count);
        block.Touched += DenseTileKernels.Touch(dense, rowStarts, count, features);
        DenseTileKernels.Scores(dense, rowStarts, count, features, kernelWeights, outputs, floatScores);
        var losses = buffers.Losses.AsSpan(0, count);
        var coefficients = buffers.Coefficients.AsSpan(0, outputs * count);
        var scores = buffers.Scores.AsSpan(0, outputs * count);
        bool single = TileLossesSingle(floatScores, parameters.Slice(weightCount, outputs), labels,
            buffers.SingleRowWeights.AsSpan(0, count), losses, withGradient ? coefficients : default);
        if (single)
        {
            ZeroWeightlessRows(weights, losses, withGradient ? coefficients : default);
        }
        else
        {
            TensorPrimitives.ConvertChecked<float, double>(floatScores, scores);
            for (int k = 0; k < outputs; k++)
            {
                var outputScores = scores.Slice(k * count, count);
                TensorPrimitives.Add(outputScores, (double)parameters[weightCount + k], outputScores);
            }

            TileLosses(scores, labels, losses, buffers.Scratch, withGradient);
            ZeroWeightlessRows(weights, losses, scores);
        }

        block.Loss += TensorPrimitives.Dot(weights, losses);
        block.Weight += TensorPrimitives.Sum(weights);
        if (!withGradient)
        {
            return;
        }

        if (single)
        {
            // The bias gradient is summed over the tile in single precision, as the weight gradient is.
            for (int k = 0; k < outputs; k++)
            {
                block.Gradient[weightCount + k] += TensorPrimitives.Sum(coefficients.Slice(k * count, count));
            }
        }
        else
        {
            for (int k = 0; k < outputs; k++)
            {
                var outputGradient = scores.Slice(k * count, count);
                TensorPrimitives.Multiply(outputGradient, weights, outputGradient);
                block.Gradient[weightCount + k] += TensorPrimitives.Sum(outputGradient);
            }

            TensorPrimitives.ConvertChecked<double, float>(scores, coefficients);
        }

        DenseTileKernels.AddGradient(dense, rowStarts, count, features, coefficients, outputs, block.Gradient.AsSpan(0, weightCount));
    }

    /// <summary>
    /// A row of weight 0 contributes nothing, not even a NaN from an overflowing loss: its loss and ∂ℓ/∂s (output-major over
    /// the tile's rows) are set to 0.
    /// </summary>
    private static void ZeroWeightlessRows<T>(ReadOnlySpan<double> weights, Span<double> losses, Span<T> scoreGradient)
        where T : struct
    {
        if (!weights.Contains(0.0))
        {
            return;
        }

        int count = weights.Length;
        for (int r = 0; r < count; r++)
        {
            if (weights[r] == 0)
            {
                losses[r] = 0;
                for (int k = r; k < scoreGradient.Length; k += count)
                {
                    scoreGradient[k] = default;
                }
            }
        }
    }

    /// <summary>
    /// Sparse rows one by one, in double, on the feature-major weights (<see cref="Workspace.FeatureMajorParameters"/>),
    /// accumulating into the block's <see cref="SparsePartial"/>: O(the block's non-zeros). Each score is the same sum, in
    /// the same order, as <see cref="RowScoresInDouble"/> computes, so the results are those of the output-major layout, bit
    /// for bit.
    /// </summary>
    private void ProcessSparseRows(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<double> featureMajor, BlockPartial block,
        bool withGradient)
    {
        int outputs = OutputCount, features = data.FeatureCount;
        Span<double> scores = block.RowScores;
        var biases = featureMajor.Slice(outputs * features, outputs);
        var sparse = withGradient ? block.SparseFor(features) : null;
        sparse?.Clear();
        var labels = data.Labels;
        var offsets = data.RowOffsets!;
        double loss = 0, weight = 0;
        foreach (int row in rows)
        {
            double w = data.WeightOf(row);
            if (w == 0)
            {
                continue;
            }

            int start = offsets[row], length = offsets[row + 1] - start;
            var indices = data.Indices.AsSpan(start, length);
            var values = data.Values.AsSpan(start, length);
            scores.Clear();
            for (int p = 0; p < indices.Length; p++)
            {
                TensorPrimitives.MultiplyAdd(featureMajor.Slice(indices[p] * outputs, outputs), values[p], scores, scores);
            }

            TensorPrimitives.Add(scores, biases, scores);
            loss += w * RowLoss(scores, labels[row], withGradient);
            weight += w;
            sparse?.AddRow(indices, values, scores, w);
        }

        block.Loss = loss;
        block.Weight = weight;
    }

    /// <summary>Dense rows one by one, in double (small dense data sets).</summary>
    private void ProcessRowsInDouble(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters, BlockPartial block,
        bool withGradient)
    {
        int outputs = OutputCount, features = data.FeatureCount, weightCount = outputs * features;
        Span<double> scores = block.RowScores;
        Span<double> partial = withGradient ? block.Gradient : default;
        var labels = data.Labels;
        double loss = 0, weight = 0;
        foreach (int row in rows)
        {
            double w = data.WeightOf(row);
            if (w == 0)
            {
                continue;
            }

            RowScoresInDouble(data, row, parameters, scores, out _, out var values);
            loss += w * RowLoss(scores, labels[row], withGradient);
            weight += w;
            if (withGradient)
            {
                for (int k = 0; k < outputs; k++)
                {
                    double c = w * scores[k];
                    var g = partial.Slice(k * features, features);
                    for (int j = 0; j < values.Length; j++)
                    {
                        g[j] += c * values[j];
                    }

                    partial[weightCount + k] += c;
                }
            }
        }

        block.Loss = loss;
        block.Weight = weight;
    }

    /// <summary>
    /// The K scores of one sparse row, in double (each stored value times its weight, widened exactly, summed in order, then
    /// the bias), and the row's feature indices and values.
    /// </summary>
    private void RowScoresInDouble(TrainingData data, int row, ReadOnlySpan<float> parameters, Span<double> scores,
        out ReadOnlySpan<int> indices, out ReadOnlySpan<float> values)
    {
        int features = data.FeatureCount, weightCount = OutputCount * features;
        if (!data.IsSparse)
        {
            indices = default;
            values = data.DenseRow(row);
        }
        else
        {
            int start = data.RowOffsets![row], length = data.RowOffsets[row + 1] - start;
            indices = data.Indices.AsSpan(start, length);
            values = data.Values.AsSpan(start, length);
        }

        for (int k = 0; k < scores.Length; k++)
        {
            var wk = parameters.Slice(k * features, features);
            double s = 0;
            if (!data.IsSparse)
            {
                for (int j = 0; j < values.Length; j++)
                {
                    s += values[j] * (double)wk[j];
                }
            }
            else
            {
                for (int p = 0; p < indices.Length; p++)
                {
                    s += values[p] * (double)wk[indices[p]];
                }
            }

            scores[k] = s + parameters[weightCount + k];
        }
    }

    /// <summary>The running totals, added block by block in block order (the fixed reduction order).</summary>
    private ref struct Sums(Span<double> gradient, bool sparseData)
    {
        public readonly Span<double> Gradient = gradient;
        public double Loss;
        public double Weight;

        public void Add(BlockPartial block, bool withGradient)
        {
            Loss += block.Loss;
            Weight += block.Weight;
            if (!withGradient)
            {
                return;
            }

            if (sparseData)
            {
                block.Sparse!.AddTo(Gradient);
            }
            else
            {
                TensorPrimitives.Add(Gradient, block.Gradient, Gradient);
            }
        }
    }

    /// <summary>One block's partial results, and the scores of one sparse row.</summary>
    private sealed class BlockPartial(int parameterCount, int outputCount)
    {
        private double[]? _gradient;

        /// <summary>The dense partial gradient (dense data), created on first use.</summary>
        public double[] Gradient => _gradient ??= new double[parameterCount];

        /// <summary>The partial gradient at the touched coordinates (sparse data), or null before the first sparse block.</summary>
        public SparsePartial? Sparse { get; private set; }

        public readonly double[] RowScores = new double[outputCount];
        public double Loss;
        public double Weight;

        /// <summary>The sum <see cref="DenseTileKernels.Touch"/> returns, kept so its reads are not optimised away.</summary>
        public float Touched;

        /// <summary>The sparse partial for data of <paramref name="featureCount"/> features (created once, kept).</summary>
        public SparsePartial SparseFor(int featureCount) =>
            Sparse is { } sparse && sparse.FeatureCount == featureCount ? sparse : Sparse = new SparsePartial(featureCount, outputCount);
    }

    /// <summary>
    /// A block's gradient on sparse rows, held at the features its rows touch only (for every output, and every bias), feature
    /// by feature (output k of the feature at position t at <c>[t·K + k]</c>): the block costs O(its non-zeros), not
    /// O(parameters). Each touched coordinate starts at 0 and receives the same additions in the same row order as a dense
    /// partial would, and an untouched one would add exactly 0, so the reduced gradient is bit-identical to dense partials'
    /// (which cost a clear and a full-length add per block: 2 × 21 MB at 2.6M parameters).
    /// </summary>
    private sealed class SparsePartial(int featureCount, int outputCount)
    {
        private readonly int[] _slots = new int[featureCount]; // per feature: 1 + its position in _features, 0 when untouched
        private readonly double[] _biasSums = new double[outputCount];
        private readonly double[] _coefficients = new double[outputCount];
        private int[] _features = new int[1024];
        private double[] _sums = new double[1024 * outputCount];
        private int _count;

        public int FeatureCount => featureCount;

        public void Clear()
        {
            foreach (int feature in _features.AsSpan(0, _count))
            {
                _slots[feature] = 0;
            }

            _count = 0;
            Array.Clear(_biasSums);
        }

        /// <summary>Adds one row's gradient: c·xⱼ at every stored feature j, c = w·∂ℓ/∂s (K values), and c to the biases.</summary>
        public void AddRow(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, ReadOnlySpan<double> scoreGradient, double w)
        {
            var c = _coefficients.AsSpan();
            TensorPrimitives.Multiply(scoreGradient, w, c);
            for (int p = 0; p < indices.Length; p++)
            {
                int position = PositionOf(indices[p]); // first: it may grow _sums
                var sums = _sums.AsSpan(position * outputCount, outputCount);
                TensorPrimitives.MultiplyAdd(c, values[p], sums, sums);
            }

            TensorPrimitives.Add(_biasSums, c, _biasSums);
        }

        /// <summary>total += this partial at the touched coordinates only; total is feature-major, biases last.</summary>
        public void AddTo(Span<double> total)
        {
            for (int t = 0; t < _count; t++)
            {
                var target = total.Slice(_features[t] * outputCount, outputCount);
                TensorPrimitives.Add(target, _sums.AsSpan(t * outputCount, outputCount), target);
            }

            var biases = total.Slice(outputCount * featureCount, outputCount);
            TensorPrimitives.Add(biases, _biasSums, biases);
        }

        private int PositionOf(int feature)
        {
            int position = _slots[feature] - 1;
            if (position >= 0)
            {
                return position;
            }

            if (_count == _features.Length)
            {
                Array.Resize(ref _features, 2 * _count);
                Array.Resize(ref _sums, 2 * _count * outputCount);
            }

            position = _count++;
            _slots[feature] = position + 1;
            _features[position] = feature;
            _sums.AsSpan(position * outputCount, outputCount).Clear();
            return position;
        }
    }

    /// <summary>The per-tile work space of dense evaluation: gathered rows, scores (output-major), coefficients.</summary>
    private sealed class TileBuffers(int rows, int outputs)
    {
        public int Rows { get; } = rows;

        public int Outputs { get; } = outputs;

        /// <summary>Row offsets, padded to a multiple of the kernel's row group.</summary>
        public readonly nint[] RowStarts = new nint[rows + DenseTileKernels.RowGroup];
        public readonly float[] Labels = new float[rows];
        public readonly double[] RowWeights = new double[rows];
        public readonly float[] SingleRowWeights = new float[rows];
        public readonly float[] FloatScores = new float[outputs * rows];
        public readonly double[] Scores = new double[outputs * rows];
        public readonly float[] Coefficients = new float[outputs * rows];
        public readonly double[] Losses = new double[rows];
        public readonly double[] Scratch = new double[Math.Max(outputs, 2 * rows)];
        private float[] _gatheredRows = [];
        private float[] _kernelWeights = [];

        /// <summary>A buffer of at least <paramref name="length"/> floats for a tile's rows gathered from chunks.</summary>
        public float[] GatheredRows(int length) =>
            _gatheredRows.Length >= length ? _gatheredRows : _gatheredRows = new float[length];

        /// <summary>
        /// <paramref name="length"/> floats for the weights as the score kernel reads them (<see cref="DenseTileKernels.PrepareWeights"/>),
        /// written once per block.
        /// </summary>
        public Span<float> KernelWeights(int length) =>
            (_kernelWeights.Length >= length ? _kernelWeights : _kernelWeights = new float[length]).AsSpan(0, length);
    }

    /// <summary>
    /// The reusable buffers of one evaluation: a copy of the parameters, one partial per block of a wave, and the double totals. Parallel blocks cannot capture spans, so a parallel
    /// call over other rows than all of them also copies its row indices here (one int per row: cheap next to the work per row).
    /// </summary>
    private sealed class Workspace
    {
        private readonly LinearObjective _owner;
        private readonly Action<int> _blockBody;

        // One worker per core: the calling thread joins Parallel.For's workers, so an unbounded loop would run one more
        // thread than there are cores and preempt tiles mid-way (their rows then leave the cache).
        private readonly ParallelOptions _oneWorkerPerCore = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };
        private int[] _rowCopy = [];
        private int[] _rows = [];
        private TrainingData? _data;
        private int _rowCount;
        private bool _withGradient;
        private CancellationToken _cancellationToken;
        private int _waveStart;

        public Workspace(LinearObjective owner)
        {
            _owner = owner;
            _blockBody = RunBlock;
        }

        public List<BlockPartial> Blocks { get; } = [];

        public double[] GradientTotal { get; private set; } = [];

        /// <summary>A copy of the parameters (parallel blocks cannot capture the caller's span); dense data only.</summary>
        public float[] Parameters { get; private set; } = [];

        /// <summary>
        /// Sparse data only: the parameters widened to double (exactly) and stored feature-major, weight (k, j) at
        /// <c>[j·K + k]</c> and the biases last, so a stored non-zero reads its K weights from one or two cache lines instead of
        /// K lines a feature-count apart. <see cref="GradientTotal"/> is then feature-major too.
        /// </summary>
        public double[] FeatureMajorParameters { get; private set; } = [];

        public void Prepare(LinearModelLayout layout, int blockCount, ReadOnlySpan<float> parameters, bool featureMajor)
        {
            if (GradientTotal.Length != layout.ParameterCount || Blocks.Count == 0 || Blocks[0].RowScores.Length != layout.OutputCount)
            {
                GradientTotal = new double[layout.ParameterCount];
                Parameters = [];
                FeatureMajorParameters = [];
                Blocks.Clear();
            }
            else
            {
                Array.Clear(GradientTotal);
            }

            while (Blocks.Count < blockCount)
            {
                Blocks.Add(new BlockPartial(layout.ParameterCount, layout.OutputCount));
            }

            if (!featureMajor)
            {
                if (Parameters.Length == 0)
                {
                    Parameters = new float[layout.ParameterCount];
                }

                parameters.CopyTo(Parameters);
                return;
            }

            if (FeatureMajorParameters.Length == 0)
            {
                FeatureMajorParameters = new double[layout.ParameterCount];
            }

            int outputs = layout.OutputCount, features = layout.FeatureCount, weightCount = outputs * features;
            var target = FeatureMajorParameters.AsSpan();
            for (int k = 0; k < outputs; k++)
            {
                var source = parameters.Slice(k * features, features);
                for (int j = 0; j < source.Length; j++)
                {
                    target[(j * outputs) + k] = source[j];
                }

                target[weightCount + k] = parameters[weightCount + k];
            }
        }

        public void BeginParallel(TrainingData data, ReadOnlySpan<int> rows, bool withGradient, CancellationToken cancellationToken)
        {
            _cancellationToken = cancellationToken;
            if (rows == data.AllRows)
            {
                _rows = data.AllRows;
            }
            else
            {
                if (_rowCopy.Length < rows.Length)
                {
                    _rowCopy = new int[rows.Length];
                }

                rows.CopyTo(_rowCopy);
                _rows = _rowCopy;
            }

            _rowCount = rows.Length;
            _data = data;
            _withGradient = withGradient;
        }

        public void RunWave(int waveStart, int count)
        {
            _waveStart = waveStart;
            Parallel.For(0, count, _oneWorkerPerCore, _blockBody);
        }

        /// <summary>Drops the references to the data so a cached workspace does not keep it alive.</summary>
        public void EndParallel()
        {
            _data = null;
            _rows = [];
            _cancellationToken = default;
        }

        private void RunBlock(int indexInWave)
        {
            // A cancelled evaluation skips its remaining blocks; the caller throws after the wave.
            if (_cancellationToken.IsCancellationRequested)
            {
                return;
            }

            int size = _owner.RowsPerBlock;
            int start = (_waveStart + indexInWave) * size;
            var rows = _rows.AsSpan(start, Math.Min(size, _rowCount - start));
            _owner.ProcessBlock(_data!, rows, this, Blocks[indexInWave], _withGradient);
        }
    }
}
