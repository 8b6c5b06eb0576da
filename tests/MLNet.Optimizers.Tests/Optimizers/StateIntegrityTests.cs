namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary>
/// Saved optimizer and L-BFGS states are self-checking: every corrupted, truncated, extended, foreign, differently
/// configured or out-of-range snapshot is refused with an <see cref="InvalidDataException"/> and leaves the state as it was.
/// </summary>
public class StateIntegrityTests
{
    private const int Parameters = 3;

    /// <summary>Every dense configuration, plus the lazy sparse states (their step counters are saved too).</summary>
    public static TheoryData<string> StateCases
    {
        get
        {
            var cases = new TheoryData<string>(AllOptimizersTests.Configurations.Keys);
            foreach (string sparse in SparseConfigurations.Keys)
            {
                cases.Add(sparse);
            }

            return cases;
        }
    }

    private static readonly Dictionary<string, Func<FirstOrderOptimizer>> SparseConfigurations = new()
    {
        ["sparse Sgd momentum"] = () => new Sgd(learningRate: 0.05, momentum: 0.9),
        ["sparse Adagrad"] = () => new Adagrad(learningRate: 0.1),
        ["sparse AdamW weight decay"] = () => new AdamW(learningRate: 0.05, weightDecay: 0.1),
    };

    [Theory, MemberData(nameof(StateCases))]
    public void Every_single_byte_corruption_truncation_and_extension_is_refused_and_changes_nothing(string configuration)
    {
        var (create, stepped) = SteppedState(configuration);
        byte[] snapshot = Save(stepped);
        var target = create();
        byte[] before = Save(target);

        Assert.Equal(0, AcceptedDamage(snapshot, target.Restore));
        Assert.Equal(before, Save(target));
        target.Restore(new MemoryStream(snapshot)); // the intact snapshot still loads
        Assert.Equal(snapshot, Save(target));
    }

    [Theory]
    [InlineData(LineSearch.StrongWolfe, 0.0)]
    [InlineData(LineSearch.None, 0.0)]
    [InlineData(LineSearch.StrongWolfe, 0.2)] // OWL-QN: its extra vectors are work vectors, the snapshot is the same format
    [InlineData(LineSearch.None, 0.2)]
    public void Every_single_byte_corruption_of_an_lbfgs_state_is_refused_and_changes_nothing(LineSearch lineSearch, double l1Strength)
    {
        var lbfgs = new Lbfgs(learningRate: lineSearch == LineSearch.None ? 0.05 : 1, historySize: 3, lineSearch: lineSearch);
        var problem = new LbfgsTests.Quadratic(Parameters, seed: 5);
        var stepped = lbfgs.CreateState(Parameters);
        lbfgs.Minimize(new float[Parameters], problem.Evaluate, stepped, maxIterations: 5, maxEvaluations: 100,
            l1: new LbfgsL1Penalty(l1Strength, 0, Parameters));
        Assert.True(stepped.HistoryCount > 0);
        byte[] snapshot = Save(stepped);
        var target = lbfgs.CreateState(Parameters);
        byte[] before = Save(target);

        Assert.Equal(0, AcceptedDamage(snapshot, target.Restore));
        Assert.Equal(before, Save(target));
    }

    [Fact]
    public void Empty_and_truncated_streams_say_so()
    {
        var state = new Adam().CreateState(Parameters);
        byte[] snapshot = Save(state);

        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => state.Restore(new MemoryStream())).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => state.Restore(new MemoryStream(snapshot[..10]))).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => state.Restore(new MemoryStream(snapshot[..^1]))).Message);
        var lbfgs = new Lbfgs().CreateState(Parameters);
        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => lbfgs.Restore(new MemoryStream())).Message);
    }

    [Fact]
    public void Trailing_bytes_are_refused_on_seekable_and_forward_only_streams()
    {
        var state = new Adam().CreateState(Parameters);
        byte[] extended = [.. Save(state), 0];

        Assert.Contains("followed by 1 bytes", Assert.Throws<InvalidDataException>(() => state.Restore(new MemoryStream(extended))).Message);
        Assert.Contains("followed by more bytes", Assert.Throws<InvalidDataException>(() => state.Restore(new ForwardOnlyStream(extended))).Message);
        state.Restore(new ForwardOnlyStream(Save(state)));
    }

    [Fact]
    public void A_state_of_a_differently_configured_rule_is_refused_naming_the_setting()
    {
        byte[] snapshot = Save(new Adam(beta1: 0.9).CreateState(Parameters));
        var other = new Adam(beta1: 0.5).CreateState(Parameters);

        var error = Assert.Throws<InvalidDataException>(() => other.Restore(new MemoryStream(snapshot)));

        Assert.Contains("beta1 0.9 there but 0.5 here", error.Message);
        new Adam(learningRate: 0.5, beta1: 0.9).CreateState(Parameters).Restore(new MemoryStream(snapshot)); // only the rate differs
    }

    [Fact]
    public void An_lbfgs_state_of_a_differently_configured_optimizer_is_refused_naming_the_setting()
    {
        byte[] snapshot = Save(new Lbfgs(changeTolerance: 1e-9).CreateState(Parameters));
        var other = new Lbfgs(changeTolerance: 1e-5).CreateState(Parameters);

        var error = Assert.Throws<InvalidDataException>(() => other.Restore(new MemoryStream(snapshot)));

        Assert.Contains("changeTolerance 1E-09 there but 1E-05 here", error.Message);
    }

    [Fact]
    public void A_negative_step_is_refused()
    {
        var state = new Adam().CreateState(Parameters);
        state.Step = -1;

        var error = Assert.Throws<InvalidDataException>(() => new Adam().CreateState(Parameters).Restore(new MemoryStream(Save(state))));

        Assert.Contains("step -1", error.Message);
    }

    [Theory]
    [InlineData("Adam", "exp_avg_sq")]
    [InlineData("Adam weight decay+amsGrad", "max_exp_avg_sq")]
    [InlineData("NAdam", "exp_avg_sq")]
    [InlineData("RAdam", "exp_avg_sq")]
    [InlineData("Adamax", "exp_inf")]
    [InlineData("RmsProp", "square_avg")]
    [InlineData("Adagrad", "sum")]
    [InlineData("Adadelta", "square_avg")]
    [InlineData("Adadelta", "acc_delta")]
    [InlineData("ScheduleFreeAdamW", "exp_avg_sq")]
    public void A_negative_sum_of_squares_is_refused_and_the_state_is_unchanged(string configuration, string vector)
    {
        var rule = AllOptimizersTests.Configurations[configuration]();
        var saved = rule.CreateState(Parameters);
        saved.Vector(vector)[1] = -1e-3f;
        var target = rule.CreateState(Parameters);
        byte[] before = Save(target);

        var error = Assert.Throws<InvalidDataException>(() => target.Restore(new MemoryStream(Save(saved))));

        Assert.Contains($"{vector}[1] = -0.001", error.Message);
        Assert.Equal(before, Save(target));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_values_are_refused(float value)
    {
        var saved = new Adam().CreateState(Parameters);
        saved.Vector("exp_avg")[2] = value;

        var error = Assert.Throws<InvalidDataException>(() => new Adam().CreateState(Parameters).Restore(new MemoryStream(Save(saved))));

        Assert.Contains("exp_avg[2]", error.Message);
    }

    [Fact]
    public void A_nadam_snapshot_without_mu_product_is_refused()
    {
        var nadam = new NAdam();
        var incomplete = new OptimizerState(nadam, Parameters);
        incomplete.AddVector("exp_avg");
        incomplete.AddVector("exp_avg_sq");

        var error = Assert.Throws<InvalidDataException>(() => nadam.CreateState(Parameters).Restore(new MemoryStream(Save(incomplete))));

        Assert.Contains("missing [mu_product]", error.Message);
    }

    [Fact]
    public void Out_of_range_lbfgs_values_are_refused()
    {
        var lbfgs = new Lbfgs();
        var saved = lbfgs.CreateState(Parameters);
        saved.HessianDiagonal = -1;

        var error = Assert.Throws<InvalidDataException>(() => lbfgs.CreateState(Parameters).Restore(new MemoryStream(Save(saved))));

        Assert.Contains("H_diag = -1", error.Message);
    }

    private static (Func<OptimizerState> Create, OptimizerState Stepped) SteppedState(string configuration)
    {
        float[] parameters = [0.5f, -1.5f, 2f];
        float[] gradient = [0.3f, -0.2f, 0.1f];
        if (SparseConfigurations.TryGetValue(configuration, out var sparseRule))
        {
            var rule = sparseRule();
            var sparse = (ISparseStepOptimizer)rule;
            var state = sparse.CreateSparseState(Parameters);
            for (int step = 0; step < 4; step++)
            {
                sparse.StepSparse(parameters, [step % Parameters], [0.25f], state, rule.LearningRate);
            }

            return (() => sparse.CreateSparseState(Parameters), state);
        }

        var dense = AllOptimizersTests.Configurations[configuration]();
        var denseState = dense.CreateState(Parameters);
        for (int step = 0; step < 4; step++)
        {
            dense.Step(parameters, gradient, denseState);
        }

        return (() => dense.CreateState(Parameters), denseState);
    }

    /// <summary>How many damaged copies of <paramref name="snapshot"/> <paramref name="restore"/> accepts (any other exception fails the test).</summary>
    private static int AcceptedDamage(byte[] snapshot, Action<Stream> restore)
    {
        int accepted = 0;
        foreach (byte[] damaged in Damaged(snapshot))
        {
            try
            {
                restore(new MemoryStream(damaged));
                accepted++;
            }
            catch (InvalidDataException)
            {
            }
        }

        return accepted;
    }

    /// <summary>Each byte XOR-ed with 0x01, 0x80 and 0xFF; every proper prefix; one extra byte.</summary>
    private static IEnumerable<byte[]> Damaged(byte[] snapshot)
    {
        foreach (byte mask in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (int i = 0; i < snapshot.Length; i++)
            {
                byte[] flipped = (byte[])snapshot.Clone();
                flipped[i] ^= mask;
                yield return flipped;
            }
        }

        for (int length = 0; length < snapshot.Length; length++)
        {
            yield return snapshot[..length];
        }

        yield return [.. snapshot, 0];
    }

    private static byte[] Save(OptimizerState state)
    {
        using var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }

    private static byte[] Save(LbfgsState state)
    {
        using var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }

    /// <summary>A stream that can only be read forwards, like a network or pipe stream.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
