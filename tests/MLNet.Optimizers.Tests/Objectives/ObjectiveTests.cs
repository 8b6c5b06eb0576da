using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Tests.Objectives;

public class ObjectiveTests
{
    // Sparse data are evaluated in double, as are the references below; only summation order differs (about 1e-16 per operation).
    private const double LossTolerance = 1e-12;

    // Dense data get single-precision scores (a dot product's rounding, about √D·6e-8 relative): the documented precision of
    // the dense path is a mean loss within 1e-6 (relative) of the all-double evaluation.
    private const double DenseLossTolerance = 1e-6;

    // Gradients are returned as float (rounding about 6e-8 relative); the central difference (h = 1e-5, in double) adds a
    // truncation error of about h² times the third derivative, 1e-10. 1e-6 leaves a margin over both and still catches any formula error.
    private const double GradientTolerance = 1e-6;

    private const int ClassCount = 3;

    public static TheoryData<LabelKind, bool, bool> Cases()
    {
        var cases = new TheoryData<LabelKind, bool, bool>();
        foreach (var kind in Enum.GetValues<LabelKind>())
        {
            foreach (bool sparse in new[] { false, true })
            {
                foreach (bool weighted in new[] { false, true })
                {
                    cases.Add(kind, sparse, weighted);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_equals_double_reference_and_gradient_equals_central_difference(LabelKind kind, bool sparse, bool weighted)
    {
        var synthetic = SyntheticData.Create(kind, rowCount: 120, featureCount: 7, seed: 11, weighted);
        var data = sparse ? synthetic.Sparse() : synthetic.Dense();
        var objective = Create(kind);
        var layout = objective.LayoutFor(data);
        var parameters = SyntheticData.RandomVector(layout.ParameterCount, seed: 5, scale: 0.7);
        // A subset with repeats, in scrambled order: rows are indices, not a range.
        int[] rows = [.. Enumerable.Range(0, 90).Select(i => (i * 37) % 120), 3, 3, 17];
        var gradient = new float[layout.ParameterCount];

        double loss = objective.LossAndGradient(data, rows, parameters, gradient);

        double[] p = [.. parameters.Select(v => (double)v)];
        double reference = ReferenceLoss(kind, synthetic, rows, p);
        Assert.Equal(reference, loss, reference * (sparse ? LossTolerance : DenseLossTolerance));
        Assert.Equal(loss, objective.Loss(data, rows, parameters));
        const double h = 1e-5;
        for (int i = 0; i < p.Length; i++)
        {
            double saved = p[i];
            p[i] = saved + h;
            double plus = ReferenceLoss(kind, synthetic, rows, p);
            p[i] = saved - h;
            double minus = ReferenceLoss(kind, synthetic, rows, p);
            p[i] = saved;
            double central = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(gradient[i] - central) <= GradientTolerance * (1 + Math.Abs(central)),
                $"parameter {i}: analytic {gradient[i]}, central difference {central}");
        }
    }

    [Theory]
    [InlineData(LabelKind.Binary)]
    [InlineData(LabelKind.Multiclass)]
    [InlineData(LabelKind.Regression)]
    public void Dense_and_sparse_storage_give_the_same_loss_and_gradient_bit_for_bit(LabelKind kind)
    {
        // Sparse rows are evaluated on a feature-major copy of the weights with per-block partials at the touched coordinates
        // only; the sums are those of the dense row-by-row path in double (which adds exact zeros for the absent features), in
        // the same order, so the results agree bit for bit, here over three blocks in parallel.
        var synthetic = SyntheticData.Create(kind, rowCount: 3000, featureCount: 9, seed: 3, weighted: true, zeroFraction: 0.6);
        var objective = Create(kind);
        var dense = synthetic.Dense();
        var parameters = SyntheticData.RandomVector(objective.LayoutFor(dense).ParameterCount, seed: 8, scale: 0.5);

        var (denseLoss, denseGradient) = Evaluate(objective, dense, parameters);
        var (sparseLoss, sparseGradient) = Evaluate(objective, synthetic.Sparse(), parameters);

        Assert.Equal(denseLoss, sparseLoss);
        Assert.Equal(Bits(denseGradient), Bits(sparseGradient));
    }

    /// <summary>
    /// The dense single-precision kernels against the all-double sparse path on the same values, at sizes that use every part
    /// of the kernels: whole register tiles and padded ones (rows not a multiple of 4, 1, 2, 4 and 5 outputs per tile), feature
    /// counts with whole vector groups, row ends of 1 to 4 vectors, 8-float vectors (12 features) and scalar lanes, several
    /// tiles per block and several blocks.
    /// </summary>
    [Theory]
    [InlineData(LabelKind.Binary, 1, 3001, 301)]
    [InlineData(LabelKind.Multiclass, 3, 2050, 77)]
    [InlineData(LabelKind.Multiclass, 10, 1503, 784)]
    [InlineData(LabelKind.Multiclass, 9, 1101, 100)]
    [InlineData(LabelKind.Binary, 1, 700, 61)]
    [InlineData(LabelKind.Multiclass, 3, 1030, 12)]
    [InlineData(LabelKind.Regression, 1, 999, 5)]
    public void Dense_kernels_keep_the_loss_within_1e_6_of_the_double_path(LabelKind kind, int classes, int rowCount, int featureCount)
    {
        var synthetic = SyntheticData.Create(kind, rowCount, featureCount, seed: 17, weighted: true, zeroFraction: 0.1, classCount: classes);
        LinearObjective objective = kind switch
        {
            // Every size through the tile kernels: the limit below which dense data are evaluated in double is set to 0.
            LabelKind.Binary => new LogisticObjective { ExactDenseMultiplyAdds = 0 },
            LabelKind.Multiclass => new SoftmaxObjective(classes) { ExactDenseMultiplyAdds = 0 },
            _ => new SquaredObjective { ExactDenseMultiplyAdds = 0 },
        };
        var dense = synthetic.Dense();
        var layout = objective.LayoutFor(dense);
        var parameters = SyntheticData.RandomVector(layout.ParameterCount, seed: 6, scale: 3 / Math.Sqrt(featureCount));
        var denseGradient = new float[layout.ParameterCount];
        var doubleGradient = new float[layout.ParameterCount];

        double denseLoss = objective.LossAndGradient(dense, parameters, denseGradient);
        double doubleLoss = objective.LossAndGradient(synthetic.Sparse(), parameters, doubleGradient);

        Assert.Equal(doubleLoss, denseLoss, doubleLoss * DenseLossTolerance);
        Assert.Equal(denseLoss, objective.Loss(dense, parameters));
        AssertClose(doubleGradient, denseGradient, GradientTolerance);
    }

    [Theory]
    [InlineData(0L)] // every size through the tile kernels, which then read rows gathered from the chunks
    [InlineData(long.MaxValue)] // the double path, which reads each row where it is
    public void Dense_data_in_chunks_give_the_results_of_one_array_bit_for_bit(long exactDenseMultiplyAdds)
    {
        var synthetic = SyntheticData.Create(LabelKind.Multiclass, rowCount: 1003, featureCount: 37, seed: 9, weighted: true, classCount: ClassCount);
        var whole = synthetic.Dense();
        const int rowsPerChunk = 100;
        float[] features = whole.DenseFeatures!;
        float[][] chunks = [.. features.Chunk(rowsPerChunk * whole.FeatureCount)];
        var chunked = TrainingData.FromDenseChunks(whole.FeatureCount, chunks, rowsPerChunk, whole.Labels.ToArray(), whole.Weights.ToArray());
        var objective = new SoftmaxObjective(ClassCount) { ExactDenseMultiplyAdds = exactDenseMultiplyAdds };
        var parameters = SyntheticData.RandomVector(objective.LayoutFor(whole).ParameterCount, seed: 4, scale: 0.3);

        var (loss, gradient) = Evaluate(objective, whole, parameters);
        var (chunkedLoss, chunkedGradient) = Evaluate(objective, chunked, parameters);

        Assert.Null(chunked.DenseFeatures);
        Assert.Equal(loss, chunkedLoss);
        Assert.Equal(Bits(gradient), Bits(chunkedGradient));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Many_blocks_in_parallel_match_one_block_and_repeat_bit_for_bit(bool sparse)
    {
        // 18 blocks of 1,024 rows: more than one wave of 16 blocks, and a short last block.
        var synthetic = SyntheticData.Create(LabelKind.Multiclass, rowCount: (17 * 1024) + 100, featureCount: 12, seed: 21, weighted: true);
        var data = sparse ? synthetic.Sparse() : synthetic.Dense();
        var parallel = new SoftmaxObjective(ClassCount);
        var layout = parallel.LayoutFor(data);
        var parameters = SyntheticData.RandomVector(layout.ParameterCount, seed: 2, scale: 0.4);

        var (loss, gradient) = Evaluate(parallel, data, parameters);
        var (again, gradientAgain) = Evaluate(parallel, data, parameters);
        var (fresh, gradientFresh) = Evaluate(new SoftmaxObjective(ClassCount), data, parameters);
        var (serial, gradientSerial) = Evaluate(new SoftmaxObjective(ClassCount) { ParallelBlocks = false }, data, parameters);
        var (oneBlock, gradientOneBlock) = Evaluate(new SoftmaxObjective(ClassCount) { RowsPerBlock = int.MaxValue }, data, parameters);

        Assert.Equal(loss, again);
        Assert.Equal(loss, fresh);
        Assert.Equal(loss, serial);
        Assert.Equal(Bits(gradient), Bits(gradientAgain));
        Assert.Equal(Bits(gradient), Bits(gradientFresh));
        Assert.Equal(Bits(gradient), Bits(gradientSerial));
        Assert.Equal(oneBlock, loss, oneBlock * LossTolerance);
        AssertClose(gradientOneBlock, gradient, GradientTolerance);
    }

    [Fact]
    public void Steady_state_single_block_calls_allocate_nothing()
    {
        var synthetic = SyntheticData.Create(LabelKind.Binary, rowCount: 500, featureCount: 10, seed: 4);
        var data = synthetic.Dense();
        var objective = new LogisticObjective();
        var parameters = SyntheticData.RandomVector(11, seed: 1, scale: 0.3);
        var gradient = new float[11];
        int[] batch = [.. Enumerable.Range(100, 64)];
        objective.LossAndGradient(data, batch, parameters, gradient);
        objective.LossAndGradient(data, parameters, gradient);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            objective.LossAndGradient(data, batch, parameters, gradient);
            objective.LossAndGradient(data, parameters, gradient);
            objective.Loss(data, parameters);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Rows_with_zero_total_weight_give_zero_loss_and_gradient()
    {
        var data = TrainingData.Dense(2, [1f, 2f, 3f, 4f], [1f, 0f], [0f, 0f]);
        var gradient = new float[] { 9f, 9f, 9f };

        double loss = new LogisticObjective().LossAndGradient(data, [0.5f, -0.5f, 0.1f], gradient);

        Assert.Equal(0, loss);
        Assert.Equal([0f, 0f, 0f], gradient);
    }

    [Fact]
    public void Logistic_loss_is_stable_for_huge_scores()
    {
        // s = ±1000: log(1 + e^−1000) = 0 for the right sign; for the wrong sign the loss is 1000 (+ log(1 + e^−1000)),
        // and ∂ℓ/∂s = σ(s) − y = ±1; the naive form would overflow exp(1000).
        var data = TrainingData.Dense(1, [1f, 1f, -1f, -1f], [1f, 0f, 0f, 1f], null);
        var gradient = new float[2];

        double loss = new LogisticObjective().LossAndGradient(data, [1000f, 0f], gradient);

        Assert.Equal((0 + 1000 + 0 + 1000) / 4.0, loss);
        // ∂/∂w = mean of (σ(s) − y)·x = (0·1 + 1·1 + 0·(−1) + (−1)·(−1))/4 = 0.5; ∂/∂b = (0 + 1 + 0 − 1)/4 = 0.
        Assert.Equal([0.5f, 0f], gradient);
    }

    [Theory]
    [InlineData(LabelKind.Binary, 2f, "0 or 1")]
    [InlineData(LabelKind.Multiclass, 3f, "class index")]
    [InlineData(LabelKind.Multiclass, 1.5f, "class index")]
    public void Invalid_label_is_reported_with_its_row(LabelKind kind, float label, string expected)
    {
        var data = TrainingData.Dense(1, [1f, 2f, 3f], [0f, 1f, label], null);
        var objective = Create(kind);

        var error = Assert.Throws<ArgumentException>(() => objective.Loss(data, new float[objective.LayoutFor(data).ParameterCount]));

        Assert.Contains("Row 2", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parameter_length_mismatch_names_the_layout()
    {
        var data = TrainingData.Dense(2, [1f, 2f], [0f], null);

        var error = Assert.Throws<ArgumentException>(() => new SoftmaxObjective(3).Loss(data, new float[8]));

        Assert.Equal("parameters", error.ParamName);
        Assert.Contains("9 parameters", error.Message);
    }

    internal static LinearObjective Create(LabelKind kind) => kind switch
    {
        LabelKind.Binary => new LogisticObjective(),
        LabelKind.Multiclass => new SoftmaxObjective(ClassCount),
        _ => new SquaredObjective(),
    };

    /// <summary>The weighted mean loss written out plainly in double: scores, then the textbook loss formula.</summary>
    internal static double ReferenceLoss(LabelKind kind, SyntheticData data, IEnumerable<int> rows, double[] p)
    {
        int d = data.FeatureCount, outputs = kind == LabelKind.Multiclass ? ClassCount : 1;
        double sum = 0, weightSum = 0;
        var s = new double[outputs];
        foreach (int row in rows)
        {
            for (int k = 0; k < outputs; k++)
            {
                s[k] = p[(outputs * d) + k];
                for (int j = 0; j < d; j++)
                {
                    s[k] += p[(k * d) + j] * data.Feature(row, j);
                }
            }

            double y = data.Labels[row];
            double loss = kind switch
            {
                LabelKind.Binary => Math.Log(1 + Math.Exp(-(2 * y - 1) * s[0])),
                LabelKind.Multiclass => Math.Log(s.Sum(Math.Exp)) - s[(int)y],
                _ => 0.5 * (s[0] - y) * (s[0] - y),
            };
            sum += data.WeightOf(row) * loss;
            weightSum += data.WeightOf(row);
        }

        return sum / weightSum;
    }

    private static (double Loss, float[] Gradient) Evaluate(LinearObjective objective, TrainingData data, float[] parameters)
    {
        var gradient = new float[parameters.Length];
        return (objective.LossAndGradient(data, parameters, gradient), gradient);
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    /// <summary>‖a − b‖∞ ≤ tolerance·‖b‖∞: gradient entries near 0 are compared at the scale of the whole vector.</summary>
    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        double scale = expected.Max(v => Math.Abs((double)v));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - (double)actual[i]) <= tolerance * scale,
                $"element {i}: expected {expected[i]}, got {actual[i]} (scale {scale})");
        }
    }
}
