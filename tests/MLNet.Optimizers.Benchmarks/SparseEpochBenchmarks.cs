using BenchmarkDotNet.Attributes;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// One epoch of mini-batch logistic regression through <see cref="TrainingLoop"/> on hashed-text-like sparse data
/// (about 50 distinct hashed features per row) at dimension 2^14 and 2^20. Without clipping the loop takes lazy sparse steps
/// (<see cref="ISparseStepOptimizer"/>; with L2/L1 caught up by <c>LazyWeightPenalty</c>), so a batch costs O(non-zeros) and
/// the epoch at 2^20 should take at most 1.5× the epoch at 2^14. The "(dense steps)" cases turn clipping on, which needs the
/// whole gradient and so forces dense steps: the O(dimension)-per-batch references.
/// </summary>
/// <remarks>
/// One operation is a whole one-epoch <c>Train</c> call, so it includes the run's O(dimension) setup and the end-of-epoch
/// flush, evaluation-point copy and finiteness check. The data is scaled down by default (<see cref="BenchmarkScale"/>).
/// </remarks>
public class SparseEpochBenchmarks
{
    private const int NonZerosPerRow = 50;
    private const int BatchSize = 256;
    private const string AdamDense = "Adam (dense steps)";
    private const string SgdL2 = "Sgd + L2";
    private const string SgdL2L1 = "Sgd + L2 + L1";
    private const string SgdL2Dense = "Sgd + L2 (dense steps)";
    private const string AdamL2 = "Adam + L2";
    private const string AdamL2Dense = "Adam + L2 (dense steps)";
    private const string AdagradL2 = "Adagrad + L2";

    private TrainingData _data = null!;

    /// <summary>The hashing dimension (number of weights; the bias comes on top).</summary>
    [Params(1 << 14, 1 << 20)]
    public int Dimension { get; set; }

    /// <summary>The rule, by label.</summary>
    [Params("Sgd", "Sgd momentum", "Adagrad", "Adam", "AdamW", AdamDense, SgdL2, SgdL2L1, SgdL2Dense, AdamL2, AdamL2Dense, AdagradL2)]
    public string Rule { get; set; } = "";

    /// <summary>Generates the data (seeded): each row's distinct "hashed tokens", L2-normalised, labels from a hidden model.</summary>
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

        var rowOffsets = new int[rows + 1];
        var indices = new int[rows * NonZerosPerRow];
        var values = new float[rows * NonZerosPerRow];
        var labels = new float[rows];
        var rowIndices = new SortedSet<int>();
        int offset = 0;
        for (int r = 0; r < rows; r++)
        {
            rowIndices.Clear();
            while (rowIndices.Count < NonZerosPerRow)
            {
                rowIndices.Add(random.Next(Dimension));
            }

            double margin = 0;
            foreach (int j in rowIndices)
            {
                indices[offset] = j;
                values[offset] = 1f / MathF.Sqrt(NonZerosPerRow);
                margin += hidden[j] * values[offset];
                offset++;
            }

            rowOffsets[r + 1] = offset;
            labels[r] = margin + 0.1 * (random.NextDouble() - 0.5) > 0 ? 1 : 0;
        }

        _data = TrainingData.Sparse(Dimension, rowOffsets, indices, values, labels, weights: null);
    }

    /// <summary>A one-epoch training run.</summary>
    [Benchmark]
    public TrainingResult Epoch() => Train(1);

    /// <summary>A three-epoch run: (three − one) / 2 is the steady-state cost and allocation of an epoch.</summary>
    [Benchmark]
    public TrainingResult ThreeEpochs() => Train(3);

    private TrainingResult Train(int epochs)
    {
        FirstOrderOptimizer optimizer = Rule switch
        {
            "Sgd" or SgdL2 or SgdL2L1 or SgdL2Dense => new Sgd(learningRate: 0.5),
            "Sgd momentum" => new Sgd(learningRate: 0.1, momentum: 0.9),
            "Adagrad" or AdagradL2 => new Adagrad(learningRate: 0.1),
            "Adam" or AdamDense or AdamL2 or AdamL2Dense => new Adam(learningRate: 0.01),
            "AdamW" => new AdamW(learningRate: 0.01, weightDecay: 0.01),
            _ => throw new ArgumentOutOfRangeException(nameof(Rule), Rule, "unknown rule label"),
        };
        var options = new TrainingOptions
        {
            Optimizer = optimizer,
            BatchSize = BatchSize,
            NumberOfEpochs = epochs,
            L2Regularization = Rule is SgdL2 or SgdL2L1 or SgdL2Dense or AdamL2 or AdamL2Dense or AdagradL2 ? 1e-4 : 0, // 1e-4: the trainers' default
            L1Regularization = Rule == SgdL2L1 ? 1e-5 : 0,
            Seed = 1,
            GradientClipNorm = Rule is AdamDense or SgdL2Dense or AdamL2Dense ? 1e6 : null,
        };
        return new TrainingLoop(new LogisticObjective(), options).Train(_data);
    }
}
