using System.Numerics.Tensors;

namespace MLNet.Optimizers.Objectives;

/// <summary>
/// The data term of a linear model's training objective: the weighted mean loss over a set of rows,
/// <c>L(θ) = Σᵢ wᵢ·ℓ(sᵢ, yᵢ) / Σᵢ wᵢ</c> with scores <c>sᵢₖ = W[k]·xᵢ + b[k]</c>, and its gradient with respect to the flat
/// parameter vector (see <see cref="LinearModelLayout"/>). Penalties (L2, L1) are not part of it; the training loop adds them.
/// </summary>
/// <remarks>
/// <para><b>Precision.</b> Everything runs in double: the parameters are widened once per call, each feature row as it is
/// read; scores, losses and gradient sums are double (SIMD via <c>TensorPrimitives</c>). Only the final mean gradient is
/// rounded to float.</para>
/// <para><b>Determinism.</b> Rows are cut into fixed blocks of 1,024 (a constant, independent of the thread count). Each block
/// writes its own preallocated partial gradient; blocks may run in parallel, and their partials are then added in block order.
/// The result therefore never depends on thread timing: the same inputs give bit-identical outputs on one machine. (As
/// <c>TensorPrimitives.Dot</c> documents, exact results can differ across architectures, whose vector widths differ.)</para>
/// <para><b>Sparse data</b> (CSR) touch only the stored non-zeros.</para>
/// <para><b>Allocation and threads.</b> Work buffers are cached in the instance and reused, so steady-state calls allocate
/// nothing beyond what <see cref="Parallel"/> needs for multi-block calls. One call at a time is the intended use (one
/// training run per objective); a concurrent call is still correct, it just gets fresh buffers.</para>
/// <para>A set of rows whose weights sum to 0 (or no rows at all) has loss 0 and gradient 0.</para>
/// </remarks>
public abstract class LinearObjective
{
    /// <summary>Rows per block: the unit of parallel work and of the fixed reduction order.</summary>
    internal const int DefaultRowsPerBlock = 1024;

    /// <summary>How many blocks are processed (and hold a partial gradient) at once; bounds memory to this many partials.</summary>
    internal const int BlocksPerWave = 16;

    private Workspace? _idleWorkspace;

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

    /// <summary>The shared evaluation: blocks, optional parallelism, fixed-order reduction; also returns Σ wᵢ over the rows.</summary>
    internal double Evaluate(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters, Span<float> gradient,
        bool withGradient, out double totalWeight)
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
        var workspace = Interlocked.Exchange(ref _idleWorkspace, null) ?? new Workspace(this);
        try
        {
            workspace.Prepare(layout, parallel ? Math.Min(blockCount, BlocksPerWave) : 1, parameters);
            var sums = new Sums(withGradient ? workspace.GradientTotal : default);
            if (!parallel)
            {
                var block = workspace.Blocks[0];
                for (int b = 0; b < blockCount; b++)
                {
                    int start = b * RowsPerBlock;
                    var blockRows = rows.Slice(start, Math.Min(RowsPerBlock, rows.Length - start));
                    ProcessBlock(data, blockRows, workspace.Parameters, block, withGradient);
                    sums.Add(block, withGradient);
                }
            }
            else
            {
                workspace.BeginParallel(data, rows, withGradient);
                for (int waveStart = 0; waveStart < blockCount; waveStart += BlocksPerWave)
                {
                    int count = Math.Min(BlocksPerWave, blockCount - waveStart);
                    workspace.RunWave(waveStart, count);
                    for (int i = 0; i < count; i++)
                    {
                        sums.Add(workspace.Blocks[i], withGradient);
                    }
                }
            }

            totalWeight = sums.Weight;
            if (withGradient)
            {
                for (int j = 0; j < gradient.Length; j++)
                {
                    gradient[j] = sums.Weight > 0 ? (float)(sums.Gradient[j] / sums.Weight) : 0f;
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
        var biases = parameters[weightCount..];
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

            int start = data.RowOffsets![row], length = data.RowOffsets[row + 1] - start;
            var indices = data.Indices.AsSpan(start, length);
            var values = data.Values.AsSpan(start, length);
            for (int k = 0; k < outputs; k++)
            {
                var wk = parameters.Slice(k * features, features);
                double s = 0;
                for (int p = 0; p < indices.Length; p++)
                {
                    s += values[p] * (double)wk[indices[p]];
                }

                scores[k] = s + biases[k];
            }

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

    /// <summary>Throws unless every label of <paramref name="data"/> suits this objective (names the first bad row).</summary>
    /// <param name="data">The data to check.</param>
    public void EnsureValidLabels(TrainingData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ValidateRows(data, data.AllRows);
    }

    private void ValidateRows(TrainingData data, ReadOnlySpan<int> rows)
    {
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
    }

    /// <summary>Loss, weight and (optionally) gradient partials of one block of rows, written into <paramref name="block"/>.</summary>
    private void ProcessBlock(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<double> parameters, BlockPartial block, bool withGradient)
    {
        int outputs = OutputCount, features = data.FeatureCount, weightCount = outputs * features;
        Span<double> scores = block.Scores;
        Span<double> partial = block.Gradient;
        Span<double> x = block.Row;
        if (withGradient)
        {
            partial.Clear();
        }

        var labels = data.Labels;
        var biases = parameters[weightCount..];
        bool dense = !data.IsSparse;
        double loss = 0, weight = 0;
        foreach (int row in rows)
        {
            double w = data.WeightOf(row);
            if (w == 0)
            {
                continue;
            }

            if (dense)
            {
                TensorPrimitives.ConvertChecked<float, double>(data.DenseRow(row), x);
                for (int k = 0; k < outputs; k++)
                {
                    scores[k] = TensorPrimitives.Dot(x, parameters.Slice(k * features, features)) + biases[k];
                }

                loss += w * RowLoss(scores, labels[row], withGradient);
                weight += w;
                if (withGradient)
                {
                    for (int k = 0; k < outputs; k++)
                    {
                        double c = w * scores[k];
                        var g = partial.Slice(k * features, features);
                        TensorPrimitives.MultiplyAdd(x, c, g, g);
                        partial[weightCount + k] += c;
                    }
                }
            }
            else
            {
                int start = data.RowOffsets![row], length = data.RowOffsets[row + 1] - start;
                var indices = data.Indices.AsSpan(start, length);
                var values = data.Values.AsSpan(start, length);
                for (int k = 0; k < outputs; k++)
                {
                    var wk = parameters.Slice(k * features, features);
                    double s = 0;
                    for (int p = 0; p < indices.Length; p++)
                    {
                        s += values[p] * wk[indices[p]];
                    }

                    scores[k] = s + biases[k];
                }

                loss += w * RowLoss(scores, labels[row], withGradient);
                weight += w;
                if (withGradient)
                {
                    for (int k = 0; k < outputs; k++)
                    {
                        double c = w * scores[k];
                        var g = partial.Slice(k * features, features);
                        for (int p = 0; p < indices.Length; p++)
                        {
                            g[indices[p]] += c * values[p];
                        }

                        partial[weightCount + k] += c;
                    }
                }
            }
        }

        block.Loss = loss;
        block.Weight = weight;
    }

    /// <summary>The running totals, added block by block in block order (the fixed reduction order).</summary>
    private ref struct Sums(Span<double> gradient)
    {
        public readonly Span<double> Gradient = gradient;
        public double Loss;
        public double Weight;

        public void Add(BlockPartial block, bool withGradient)
        {
            Loss += block.Loss;
            Weight += block.Weight;
            if (withGradient)
            {
                for (int j = 0; j < Gradient.Length; j++)
                {
                    Gradient[j] += block.Gradient[j];
                }
            }
        }
    }

    /// <summary>One block's partial results and scratch.</summary>
    private sealed class BlockPartial(int parameterCount, int outputCount, int featureCount)
    {
        public readonly double[] Gradient = new double[parameterCount];
        public readonly double[] Scores = new double[outputCount];
        public readonly double[] Row = new double[featureCount];
        public double Loss;
        public double Weight;
    }

    /// <summary>
    /// The reusable buffers of one evaluation: the parameters widened to double once per call (every block reads them), one
    /// partial per block of a wave, and the double totals. Parallel blocks cannot capture spans, so a parallel call also
    /// copies its row indices here (one int per row: cheap next to the work per row).
    /// </summary>
    private sealed class Workspace
    {
        private readonly LinearObjective _owner;
        private readonly Action<int> _blockBody;
        private int[] _rows = [];
        private TrainingData? _data;
        private int _rowCount;
        private bool _withGradient;
        private int _waveStart;

        public Workspace(LinearObjective owner)
        {
            _owner = owner;
            _blockBody = RunBlock;
        }

        public List<BlockPartial> Blocks { get; } = [];

        public double[] GradientTotal { get; private set; } = [];

        public double[] Parameters { get; private set; } = [];

        public void Prepare(LinearModelLayout layout, int blockCount, ReadOnlySpan<float> parameters)
        {
            if (Parameters.Length != layout.ParameterCount || Blocks.Count == 0 || Blocks[0].Row.Length != layout.FeatureCount)
            {
                Parameters = new double[layout.ParameterCount];
                GradientTotal = new double[layout.ParameterCount];
                Blocks.Clear();
            }
            else
            {
                Array.Clear(GradientTotal);
            }

            while (Blocks.Count < blockCount)
            {
                Blocks.Add(new BlockPartial(layout.ParameterCount, layout.OutputCount, layout.FeatureCount));
            }

            TensorPrimitives.ConvertChecked<float, double>(parameters, Parameters);
        }

        public void BeginParallel(TrainingData data, ReadOnlySpan<int> rows, bool withGradient)
        {
            if (_rows.Length < rows.Length)
            {
                _rows = new int[rows.Length];
            }

            rows.CopyTo(_rows);
            _rowCount = rows.Length;
            _data = data;
            _withGradient = withGradient;
        }

        public void RunWave(int waveStart, int count)
        {
            _waveStart = waveStart;
            Parallel.For(0, count, _blockBody);
        }

        /// <summary>Drops the reference to the data so a cached workspace does not keep it alive.</summary>
        public void EndParallel() => _data = null;

        private void RunBlock(int indexInWave)
        {
            int size = _owner.RowsPerBlock;
            int start = (_waveStart + indexInWave) * size;
            var rows = _rows.AsSpan(start, Math.Min(size, _rowCount - start));
            _owner.ProcessBlock(_data!, rows, Parameters, Blocks[indexInWave], _withGradient);
        }
    }
}
