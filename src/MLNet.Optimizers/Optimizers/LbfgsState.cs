using System.Numerics.Tensors;
using System.Text;

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
/// L1 term (OWL-QN) 3 more (the pseudo-gradient, a trial point and its gradient), on first use. The snapshot is the same
/// with or without an L1 term: after an OWL-QN step the direction holds the step actually taken and t = 1. <see cref="Save"/> writes a versioned binary snapshot with exact float and
/// double bits; <see cref="Restore"/> loads it into a state of the same parameter count and history size, so a restored
/// run continues bit-identically (given the same parameters and objective).
/// </remarks>
public sealed class LbfgsState
{
    private const string Magic = "MLNET-LBFGS-STATE";
    private const int FormatVersion = 1;

    private readonly float[][] _y;
    private readonly float[][] _s;
    private readonly double[] _rho;
    private int _oldest;

    internal LbfgsState(int parameterCount, int historySize)
    {
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

    /// <summary>Writes the whole run state, bit-exact, to <paramref name="stream"/> (the work vectors are not written).</summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(ParameterCount);
        writer.Write(HistorySize);
        writer.Write(Iterations);
        writer.Write(FunctionEvaluations);
        writer.Write(Step);
        writer.Write(HessianDiagonal);
        writer.Write(PreviousLoss);
        WriteVector(writer, Direction);
        WriteVector(writer, PreviousGradient);
        writer.Write(HistoryCount);
        for (int i = 0; i < HistoryCount; i++)
        {
            writer.Write(HistoryRho(i));
            WriteVector(writer, HistoryY(i));
            WriteVector(writer, HistoryS(i));
        }
    }

    /// <summary>
    /// Loads a snapshot written by <see cref="Save"/>. It must come from a state with the same parameter count and history
    /// size; otherwise nothing is changed and an <see cref="InvalidDataException"/> names both sizes.
    /// </summary>
    /// <param name="stream">A readable stream positioned at a snapshot; left open.</param>
    public void Restore(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
        {
            throw new InvalidDataException("The stream does not hold an L-BFGS state snapshot.");
        }

        int version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"L-BFGS state format version {version} is not supported; expected {FormatVersion}.");
        }

        int parameterCount = reader.ReadInt32();
        int historySize = reader.ReadInt32();
        if (parameterCount != ParameterCount || historySize != HistorySize)
        {
            throw new InvalidDataException(
                $"The snapshot is of an L-BFGS state with {parameterCount} parameters and historySize {historySize}; " +
                $"this state has {ParameterCount} parameters and historySize {HistorySize}.");
        }

        long iterations = reader.ReadInt64();
        long evaluations = reader.ReadInt64();
        double step = reader.ReadDouble();
        double hessianDiagonal = reader.ReadDouble();
        double previousLoss = reader.ReadDouble();
        float[] direction = ReadVector(reader, parameterCount);
        float[] previousGradient = ReadVector(reader, parameterCount);
        int historyCount = reader.ReadInt32();
        if (historyCount < 0 || historyCount > historySize)
        {
            throw new InvalidDataException($"The snapshot holds {historyCount} history pairs; historySize {historySize} allows 0 to {historySize}.");
        }

        var rho = new double[historyCount];
        var y = new float[historyCount][];
        var s = new float[historyCount][];
        for (int i = 0; i < historyCount; i++)
        {
            rho[i] = reader.ReadDouble();
            y[i] = ReadVector(reader, parameterCount);
            s[i] = ReadVector(reader, parameterCount);
        }

        Iterations = iterations;
        FunctionEvaluations = evaluations;
        Step = step;
        HessianDiagonal = hessianDiagonal;
        PreviousLoss = previousLoss;
        direction.CopyTo(Direction, 0);
        previousGradient.CopyTo(PreviousGradient, 0);
        _oldest = 0;
        HistoryCount = historyCount;
        for (int i = 0; i < historyCount; i++)
        {
            _rho[i] = rho[i];
            y[i].CopyTo(_y[i], 0);
            s[i].CopyTo(_s[i], 0);
        }
    }

    private int Slot(int index) => (_oldest + index) % HistorySize;

    private static void WriteVector(BinaryWriter writer, ReadOnlySpan<float> vector)
    {
        foreach (float value in vector)
        {
            writer.Write(value);
        }
    }

    private static float[] ReadVector(BinaryReader reader, int length)
    {
        var vector = new float[length];
        for (int i = 0; i < length; i++)
        {
            vector[i] = reader.ReadSingle();
        }

        return vector;
    }
}
