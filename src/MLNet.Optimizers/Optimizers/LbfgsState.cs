using MLNet.Optimizers.Internal;
using System.Numerics.Tensors;

namespace MLNet.Optimizers;

/// <summary>
/// The per-run state of <see cref="Lbfgs"/>: everything PyTorch keeps in <c>torch.optim.LBFGS.state</c> between
/// <c>step</c> calls (<c>d</c>, <c>t</c>, <c>old_dirs</c>, <c>old_stps</c>, <c>ro</c>, <c>H_diag</c>,
/// <c>prev_flat_grad</c>, <c>prev_loss</c>, <c>n_iter</c>, <c>func_evals</c>) plus the work vectors, all allocated once.
/// Calling <c>Minimize</c> again with the same state continues the run.
/// </summary>
/// <remarks>
/// Memory: 2·historySize + 3 float vectors of parameter length (the history pairs y, s as a ring buffer; d, the previous
/// gradient and the current gradient), plus 4 more for the strong-Wolfe line search (the trial point and three gradients
/// for the bracket), allocated by <see cref="Lbfgs.CreateState"/> or, for a state created without them, on first use; with an
/// L1 term (OWL-QN) 3 more (the pseudo-gradient, a trial point and its gradient), on first use. These are work vectors, so
/// the snapshot is the same with or without an L1 term: after an OWL-QN step the direction holds the step actually taken
/// and t = 1. <see cref="Save"/> writes a self-checking binary snapshot with exact float and double bits;
/// <see cref="Restore"/> loads it into a state of the same parameter count created by an identically configured
/// <see cref="Lbfgs"/>, so a restored run continues bit-identically (given the same parameters, objective and L1 term),
/// and refuses corrupted, truncated, foreign or out-of-range data.
/// </remarks>
public sealed class LbfgsState
{
    private const string Marker = "MLNETLBF";
    private const int FormatVersion = 2;

    private readonly float[][] _y;
    private readonly float[][] _s;
    private readonly double[] _rho;
    private int _oldest;

    internal LbfgsState(int parameterCount, int historySize, KeyValuePair<string, double>[] settings)
    {
        Settings = settings;
        ParameterCount = parameterCount;
        HistorySize = historySize;
        Direction = new float[parameterCount];
        PreviousGradient = new float[parameterCount];
        Gradient = new float[parameterCount];
        _y = new float[historySize][];
        _s = new float[historySize][];
        for (int i = 0; i < historySize; i++)
        {
            _y[i] = new float[parameterCount];
            _s[i] = new float[parameterCount];
        }

        _rho = new double[historySize];
        Alpha = new double[historySize];
        HessianDiagonal = 1;
    }

    /// <summary>The length of the parameter vector this state serves.</summary>
    public int ParameterCount { get; }

    /// <summary>The number of (y, s) curvature pairs kept (the rule's historySize).</summary>
    public int HistorySize { get; }

    /// <summary>The settings of the <see cref="Lbfgs"/> that created this state (all but the learning rate), in ordinal name order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Settings { get; }

    /// <summary>Iterations run so far over every call (PyTorch's <c>n_iter</c>).</summary>
    public long Iterations { get; internal set; }

    /// <summary>Objective evaluations so far over every call (PyTorch's <c>func_evals</c>).</summary>
    public long FunctionEvaluations { get; internal set; }

    /// <summary>The number of curvature pairs currently held, at most <see cref="HistorySize"/>.</summary>
    public int HistoryCount { get; private set; }

    /// <summary>
    /// t, the step length of the last iteration (PyTorch's <c>t</c>); 1 after an OWL-QN step, whose <see cref="Direction"/>
    /// holds the displacement actually taken, so that s = t·d holds in both cases.
    /// </summary>
    internal double Step { get; set; }

    /// <summary>γ = y·s / y·y of the newest accepted pair, the scale of the initial inverse Hessian (PyTorch's <c>H_diag</c>).</summary>
    internal double HessianDiagonal { get; set; }

    /// <summary>The loss at the start of the last iteration (PyTorch's <c>prev_loss</c>).</summary>
    internal double PreviousLoss { get; set; }

    /// <summary>d, the last search direction.</summary>
    internal float[] Direction { get; }

    /// <summary>The gradient at the start of the last iteration (PyTorch's <c>prev_flat_grad</c>).</summary>
    internal float[] PreviousGradient { get; }

    /// <summary>The current gradient (work vector; re-evaluated at the start of every call, so not saved).</summary>
    internal float[] Gradient { get; }

    /// <summary>The αᵢ of the two-loop recursion (work array, PyTorch's <c>al</c>).</summary>
    internal double[] Alpha { get; }

    /// <summary>The strong-Wolfe line search's work vectors, created on first use.</summary>
    internal StrongWolfeLineSearch.Buffers? LineSearchBuffers { get; set; }

    /// <summary>OWL-QN's work vectors (pseudo-gradient, trial point and gradient), created on first use with an L1 term.</summary>
    internal LbfgsOrthantWise.Buffers? OrthantWiseBuffers { get; set; }

    /// <summary>yᵢ = g_{k+1} − g_k of history entry <paramref name="index"/> (0 = oldest).</summary>
    internal ReadOnlySpan<float> HistoryY(int index) => _y[Slot(index)];

    /// <summary>sᵢ = t·d of history entry <paramref name="index"/> (0 = oldest).</summary>
    internal ReadOnlySpan<float> HistoryS(int index) => _s[Slot(index)];

    /// <summary>ρᵢ = 1 / (yᵢ·sᵢ) of history entry <paramref name="index"/> (0 = oldest).</summary>
    internal double HistoryRho(int index) => _rho[Slot(index)];

    /// <summary>Forgets every curvature pair (the first iteration of a run).</summary>
    internal void ClearHistory()
    {
        HistoryCount = 0;
        _oldest = 0;
    }

    /// <summary>
    /// Appends y = gradient − previousGradient and s = step·direction (float, as <see cref="LbfgsMath.CurvaturePair"/>
    /// computed them) with ρ = 1/ys, dropping the oldest pair when the history is full.
    /// </summary>
    internal void PushHistory(ReadOnlySpan<float> gradient, ReadOnlySpan<float> previousGradient, ReadOnlySpan<float> direction,
        float step, double ys)
    {
        if (HistoryCount == HistorySize)
        {
            _oldest = (_oldest + 1) % HistorySize;
            HistoryCount--;
        }

        int slot = Slot(HistoryCount);
        TensorPrimitives.Subtract(gradient, previousGradient, _y[slot]);
        TensorPrimitives.Multiply(direction, step, _s[slot]);
        _rho[slot] = 1.0 / ys;
        HistoryCount++;
    }

    /// <summary>Throws unless this state fits <paramref name="parameterCount"/> parameters and <paramref name="historySize"/> pairs.</summary>
    internal void EnsureMatches(int parameterCount, int historySize)
    {
        if (parameterCount != ParameterCount)
        {
            throw new ArgumentException(
                $"This L-BFGS state serves {ParameterCount} parameters but {parameterCount} were given; create a state for {parameterCount}.", "state");
        }

        if (historySize != HistorySize)
        {
            throw new ArgumentException(
                $"This L-BFGS state keeps {HistorySize} history pairs but the optimizer uses historySize {historySize}; create the state with this optimizer's CreateState.", "state");
        }
    }

    /// <summary>
    /// Writes a self-checking snapshot of the whole run state to <paramref name="stream"/>: a versioned header, the
    /// optimizer's settings, every value bit-exact (the work vectors are not written) and a checksum over all of it.
    /// </summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream) =>
        SnapshotFrame.Write(stream, Marker, FormatVersion, writer =>
        {
            RuleSettings.Write(writer, Settings);
            writer.Write(ParameterCount);
            writer.Write(HistorySize);
            writer.Write(Iterations);
            writer.Write(FunctionEvaluations);
            writer.Write(Step);
            writer.Write(HessianDiagonal);
            writer.Write(PreviousLoss);
            SnapshotFrame.WriteFloats(writer, Direction);
            SnapshotFrame.WriteFloats(writer, PreviousGradient);
            writer.Write(HistoryCount);
            for (int i = 0; i < HistoryCount; i++)
            {
                writer.Write(HistoryRho(i));
                SnapshotFrame.WriteFloats(writer, HistoryY(i));
                SnapshotFrame.WriteFloats(writer, HistoryS(i));
            }
        });

    /// <summary>
    /// Loads a snapshot written by <see cref="Save"/>. It must be intact (checksum, length, no trailing bytes), come from a
    /// state with the same parameter count and an optimizer with the same settings (only the learning rate may differ),
    /// and every value must be in range (finite; counts ≥ 0; step length ≥ 0; H_diag and every ρ &gt; 0; at most
    /// historySize pairs). Otherwise an <see cref="InvalidDataException"/> names what is wrong and nothing is changed.
    /// </summary>
    /// <param name="stream">A readable stream positioned at a snapshot that runs to its end; left open.</param>
    public void Restore(Stream stream)
    {
        var snapshot = SnapshotFrame.Read(stream, Marker, FormatVersion, "an L-BFGS state snapshot", ReadSnapshot);
        if (snapshot.ParameterCount != ParameterCount || snapshot.HistorySize != HistorySize)
        {
            throw new InvalidDataException(
                $"The snapshot is of an L-BFGS state with {snapshot.ParameterCount} parameters and historySize {snapshot.HistorySize}; " +
                $"this state has {ParameterCount} parameters and historySize {HistorySize}.");
        }

        if (!RuleSettings.Equal(snapshot.Settings, Settings))
        {
            throw new InvalidDataException(RuleSettings.Mismatch("Lbfgs", snapshot.Settings, Settings));
        }

        snapshot.EnsureInRange();
        Iterations = snapshot.Iterations;
        FunctionEvaluations = snapshot.FunctionEvaluations;
        Step = snapshot.Step;
        HessianDiagonal = snapshot.HessianDiagonal;
        PreviousLoss = snapshot.PreviousLoss;
        snapshot.Direction.CopyTo(Direction, 0);
        snapshot.PreviousGradient.CopyTo(PreviousGradient, 0);
        _oldest = 0;
        HistoryCount = snapshot.Rho.Length;
        for (int i = 0; i < HistoryCount; i++)
        {
            _rho[i] = snapshot.Rho[i];
            snapshot.Y[i].CopyTo(_y[i], 0);
            snapshot.S[i].CopyTo(_s[i], 0);
        }
    }

    private static Snapshot ReadSnapshot(BinaryReader reader)
    {
        var settings = RuleSettings.Read(reader);
        int parameterCount = SnapshotFrame.ReadCount(reader, Array.MaxLength, "parameters");
        int historySize = SnapshotFrame.ReadCount(reader, int.MaxValue, "history pairs (historySize)");
        long iterations = reader.ReadInt64();
        long evaluations = reader.ReadInt64();
        double step = reader.ReadDouble();
        double hessianDiagonal = reader.ReadDouble();
        double previousLoss = reader.ReadDouble();
        float[] direction = SnapshotFrame.ReadFloats(reader, parameterCount);
        float[] previousGradient = SnapshotFrame.ReadFloats(reader, parameterCount);
        int historyCount = SnapshotFrame.ReadCount(reader, historySize, $"history pairs (historySize {historySize})");
        var rho = new double[historyCount];
        var y = new float[historyCount][];
        var s = new float[historyCount][];
        for (int i = 0; i < historyCount; i++)
        {
            rho[i] = reader.ReadDouble();
            y[i] = SnapshotFrame.ReadFloats(reader, parameterCount);
            s[i] = SnapshotFrame.ReadFloats(reader, parameterCount);
        }

        return new Snapshot(settings, parameterCount, historySize, iterations, evaluations, step, hessianDiagonal, previousLoss,
            direction, previousGradient, rho, y, s);
    }

    /// <summary>A parsed snapshot, held apart until every check has passed so a refused restore changes nothing.</summary>
    private sealed record Snapshot(KeyValuePair<string, double>[] Settings, int ParameterCount, int HistorySize, long Iterations,
        long FunctionEvaluations, double Step, double HessianDiagonal, double PreviousLoss, float[] Direction, float[] PreviousGradient,
        double[] Rho, float[][] Y, float[][] S)
    {
        /// <summary>Throws an <see cref="InvalidDataException"/> naming the first value outside what a run can produce.</summary>
        public void EnsureInRange()
        {
            Require(Iterations >= 0, $"n_iter = {Iterations}; it must be >= 0");
            Require(FunctionEvaluations >= Iterations, $"func_evals = {FunctionEvaluations}; every iteration evaluates, so it must be >= n_iter = {Iterations}");
            Require(Rho.Length <= Math.Max(0, Iterations), $"{Rho.Length} history pairs after {Iterations} iterations; each pair takes an iteration");
            Require(double.IsFinite(Step) && Step >= 0, $"t = {Step}; a step length is finite and >= 0");
            Require(double.IsFinite(HessianDiagonal) && HessianDiagonal > 0, $"H_diag = {HessianDiagonal}; it must be finite and > 0");
            Require(double.IsFinite(PreviousLoss), $"prev_loss = {PreviousLoss}; it must be finite");
            RequireFinite("d", Direction);
            RequireFinite("prev_flat_grad", PreviousGradient);
            for (int i = 0; i < Rho.Length; i++)
            {
                Require(Rho[i] > 0 && Rho[i] <= 1 / Lbfgs.CurvatureThreshold,
                    $"ro[{i}] = {Rho[i]}; pairs are kept only when y·s > {Lbfgs.CurvatureThreshold}, so it must be in (0, {1 / Lbfgs.CurvatureThreshold}]");
                RequireFinite($"old_dirs[{i}]", Y[i]);
                RequireFinite($"old_stps[{i}]", S[i]);
            }
        }

        private static void RequireFinite(string name, float[] values)
        {
            int bad = Array.FindIndex(values, value => !float.IsFinite(value));
            Require(bad < 0, bad < 0 ? "" : $"{name}[{bad}] = {values[bad]}; it must be finite");
        }

        private static void Require(bool condition, string problem)
        {
            if (!condition)
            {
                throw new InvalidDataException($"The L-BFGS snapshot has {problem}.");
            }
        }
    }

    private int Slot(int index) => (_oldest + index) % HistorySize;
}
