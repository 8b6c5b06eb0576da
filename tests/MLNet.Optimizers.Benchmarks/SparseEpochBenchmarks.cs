using BenchmarkDotNet.Attributes;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// One epoch of mini-batch logistic regression on hashed-text-like sparse data (about 50 non-zeros per row) at hashing
/// dimension 2^14 and 2^20, with lazy sparse steps (<see cref="ISparseStepOptimizer"/>): the per-batch cost must be
/// O(non-zeros), so the epoch at 2^20 should take at most 1.5× the epoch at 2^14.
/// </summary>
/// <remarks>
/// The batch gradient is accumulated at the touched coordinates only, which are then sorted and handed to <c>StepSparse</c>
/// (the bias is the last parameter, touched every batch); one <c>Flush</c> per epoch, as before an evaluation. Nothing is
/// allocated per batch. The data is scaled down by default (<see cref="BenchmarkScale"/>).
/// </remarks>
public class SparseEpochBenchmarks
{
    private const int NonZerosPerRow = 50;
    private const int BatchSize = 64;

    /// <summary>The reference without lazy steps: Adam's dense step on the zero-filled gradient, O(dimension) per batch.</summary>
    private const string AdamDense = "Adam (dense steps)";

    private int[] _rowOffsets = [];
    private int[] _indices = [];
    private float[] _values = [];
    private float[] _labels = [];
    private float[] _parameters = [];
    private int[] _slots = [];
    private float[] _sums = [];
    private int[] _touched = [];
    private float[] _touchedGradient = [];
    private double[] _coefficients = [];
    private OptimizerState _state = null!;
    private float[]? _denseGradient;
    private ISparseStepOptimizer _rule = null!;

    /// <summary>The hashing dimension (number of weights; the bias comes on top).</summary>
    [Params(1 << 14, 1 << 20)]
    public int Dimension { get; set; }

    /// <summary>The rule, by label.</summary>
    [Params("Sgd", "Sgd momentum", "Adagrad", "Adam", "AdamW", AdamDense)]
    public string Rule { get; set; } = "";

    /// <summary>Generates the data (seeded) and a fresh state.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int rows = BenchmarkScale.SparseRows;
        var random = new Random(7);
        var hidden = new float[Dimension];
        for (int j = 0; j < hidden.Length; j++)
        {
            hidden[j] = random.NextSingle() * 2 - 1;
        }

        _rowOffsets = new int[rows + 1];
        _indices = new int[rows * NonZerosPerRow];
        _values = new float[rows * NonZerosPerRow];
        _labels = new float[rows];
        var rowIndices = new SortedSet<int>();
        int offset = 0;
        for (int r = 0; r < rows; r++)
        {
            rowIndices.Clear();
            while (rowIndices.Count < NonZerosPerRow)
            {
                rowIndices.Add(random.Next(Dimension)); // a "hashed token"
            }

            double margin = 0;
            foreach (int j in rowIndices)
            {
                _indices[offset] = j;
                _values[offset] = 1f / MathF.Sqrt(NonZerosPerRow); // L2-normalised counts of distinct tokens
                margin += hidden[j] * _values[offset];
                offset++;
            }

            _rowOffsets[r + 1] = offset;
            _labels[r] = margin + 0.1 * (random.NextDouble() - 0.5) > 0 ? 1 : 0;
        }

        _rule = Rule switch
        {
            "Sgd" => new Sgd(learningRate: 0.5),
            "Sgd momentum" => new Sgd(learningRate: 0.1, momentum: 0.9),
            "Adagrad" => new Adagrad(learningRate: 0.1),
            "Adam" or AdamDense => new Adam(learningRate: 0.01),
            "AdamW" => new AdamW(learningRate: 0.01, weightDecay: 0.01),
            _ => throw new ArgumentOutOfRangeException(nameof(Rule), Rule, "unknown rule label"),
        };
        int parameterCount = Dimension + 1;
        _parameters = new float[parameterCount];
        _slots = new int[parameterCount];
        _sums = new float[BatchSize * NonZerosPerRow];
        _touched = new int[BatchSize * NonZerosPerRow + 1];
        _touchedGradient = new float[_touched.Length];
        _coefficients = new double[BatchSize];
        _state = _rule.CreateSparseState(parameterCount);
        _denseGradient = Rule == AdamDense ? new float[parameterCount] : null;
    }

    /// <summary>One pass over every row in mini-batches, then one flush.</summary>
    [Benchmark]
    public void Epoch()
    {
        int rows = _labels.Length;
        for (int start = 0; start < rows; start += BatchSize)
        {
            int end = Math.Min(start + BatchSize, rows);
            int touchedCount = BatchGradient(start, end);
            if (_denseGradient is { } dense)
            {
                Array.Clear(dense);
                for (int t = 0; t < touchedCount; t++)
                {
                    dense[_touched[t]] = _touchedGradient[t];
                }

                ((FirstOrderOptimizer)_rule).Step(_parameters, dense, _state, 0.01);
            }
            else
            {
                _rule.StepSparse(_parameters, _touched.AsSpan(0, touchedCount), _touchedGradient.AsSpan(0, touchedCount), _state, 0.01);
            }
        }

        _rule.Flush(_parameters, _state);
    }

    /// <summary>
    /// Mean logistic-loss gradient of rows [start, end) at the touched coordinates, sorted by coordinate; returns how many.
    /// Each coordinate's first touch gives it a slot (its position in the touched list, plus one), so the sums accumulate in
    /// a short contiguous array and only one parameter-length array (the slots) is written at random.
    /// </summary>
    private int BatchGradient(int start, int end)
    {
        int bias = Dimension;
        float[] w = _parameters;
        for (int r = start; r < end; r++)
        {
            double score = w[bias];
            for (int k = _rowOffsets[r]; k < _rowOffsets[r + 1]; k++)
            {
                score += w[_indices[k]] * _values[k];
            }

            _coefficients[r - start] = (1 / (1 + Math.Exp(-score)) - _labels[r]) / (end - start);
        }

        int count = 0;
        double biasGradient = 0;
        for (int r = start; r < end; r++)
        {
            double c = _coefficients[r - start];
            biasGradient += c;
            for (int k = _rowOffsets[r]; k < _rowOffsets[r + 1]; k++)
            {
                int j = _indices[k];
                int slot = _slots[j] - 1;
                if (slot < 0)
                {
                    slot = count++;
                    _slots[j] = count;
                    _touched[slot] = j;
                    _sums[slot] = 0;
                }

                _sums[slot] += (float)(c * _values[k]);
            }
        }

        Array.Sort(_touched, 0, count);
        for (int t = 0; t < count; t++)
        {
            int j = _touched[t];
            _touchedGradient[t] = _sums[_slots[j] - 1];
        }

        for (int t = 0; t < count; t++)
        {
            _slots[_touched[t]] = 0;
        }

        _touched[count] = bias; // the bias is the last parameter, so the list stays sorted
        _touchedGradient[count] = (float)biasGradient;
        return count + 1;
    }
}
