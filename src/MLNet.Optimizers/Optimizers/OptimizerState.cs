using MLNet.Optimizers.Internal;

namespace MLNet.Optimizers;

/// <summary>
/// The per-run state of a <see cref="FirstOrderOptimizer"/>: the step count plus named parameter-length vectors
/// (moments, buffers) and named scalars, keyed by the names PyTorch uses in its <c>state_dict</c>
/// (<c>exp_avg</c>, <c>exp_avg_sq</c>, <c>momentum_buffer</c>, ...).
/// </summary>
/// <remarks>
/// <see cref="Save"/> writes a self-checking binary snapshot (exact float and double bits); <see cref="Restore"/> loads
/// it into a state created by an identically configured rule for the same parameter count, so a restored run continues
/// bit-identically, and refuses anything else (corrupted, truncated, foreign or out-of-range data).
/// </remarks>
public class OptimizerState
{
    private const string Marker = "MLNETOPT";
    private const int FormatVersion = 2;

    private readonly SortedDictionary<string, float[]> _vectors = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, double> _scalars = new(StringComparer.Ordinal);

    /// <summary>Creates an empty state at step 0.</summary>
    /// <param name="optimizerName">The name of the rule that owns this state.</param>
    /// <param name="parameterCount">The length of the parameter vector.</param>
    /// <remarks>No settings are recorded, so <see cref="Restore"/> cannot tell a differently configured rule's snapshot;
    /// rules create their states with <see cref="OptimizerState(FirstOrderOptimizer, int)"/>.</remarks>
    public OptimizerState(string optimizerName, int parameterCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(optimizerName);
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        OptimizerName = optimizerName;
        ParameterCount = parameterCount;
        Settings = [];
    }

    /// <summary>
    /// Creates an empty state at step 0 for <paramref name="optimizer"/>, recording its name and settings (every setting
    /// but the learning rate) so that <see cref="Restore"/> refuses a snapshot of a differently configured rule.
    /// </summary>
    /// <param name="optimizer">The rule that owns this state.</param>
    /// <param name="parameterCount">The length of the parameter vector.</param>
    public OptimizerState(FirstOrderOptimizer optimizer, int parameterCount)
        : this(optimizer?.Name ?? throw new ArgumentNullException(nameof(optimizer)), parameterCount)
    {
        Settings = RuleSettings.Of(optimizer);
    }

    /// <summary>The name of the rule that created this state.</summary>
    public string OptimizerName { get; }

    /// <summary>The length of the parameter vector this state serves.</summary>
    public int ParameterCount { get; }

    /// <summary>
    /// The owning rule's settings (every public number, bool or enum property except the learning rate) in ordinal name
    /// order; empty for a state created by name only.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, double>> Settings { get; }

    /// <summary>The number of steps taken so far (PyTorch's <c>step</c>); the next step is number <c>Step + 1</c>.</summary>
    public long Step { get; set; }

    /// <summary>The names of the vectors this state holds, in ordinal order.</summary>
    public IEnumerable<string> VectorNames => _vectors.Keys;

    /// <summary>The names of the scalars this state holds, in ordinal order.</summary>
    public IEnumerable<string> ScalarNames => _scalars.Keys;

    /// <summary>Adds a parameter-length vector filled with <paramref name="initialValue"/>.</summary>
    /// <param name="name">The vector's name (PyTorch's state key).</param>
    /// <param name="initialValue">The value of every element.</param>
    /// <returns>The new vector.</returns>
    public float[] AddVector(string name, float initialValue = 0f)
    {
        var vector = new float[ParameterCount];
        if (initialValue != 0f)
        {
            Array.Fill(vector, initialValue);
        }

        _vectors.Add(name, vector);
        return vector;
    }

    /// <summary>Returns the vector called <paramref name="name"/>.</summary>
    /// <param name="name">The vector's name.</param>
    public float[] Vector(string name) =>
        _vectors.TryGetValue(name, out var vector)
            ? vector
            : throw new KeyNotFoundException($"{OptimizerName} state has no vector '{name}'; it has [{string.Join(", ", _vectors.Keys)}].");

    /// <summary>Returns the scalar called <paramref name="name"/>.</summary>
    /// <param name="name">The scalar's name.</param>
    public double Scalar(string name) =>
        _scalars.TryGetValue(name, out var value)
            ? value
            : throw new KeyNotFoundException($"{OptimizerName} state has no scalar '{name}'; it has [{string.Join(", ", _scalars.Keys)}].");

    /// <summary>Sets (or adds) the scalar called <paramref name="name"/>.</summary>
    /// <param name="name">The scalar's name.</param>
    /// <param name="value">Its value.</param>
    public void SetScalar(string name, double value) => _scalars[name] = value;

    /// <summary>Throws unless this state belongs to <paramref name="optimizerName"/> and has <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="optimizerName">The rule that is about to use the state.</param>
    /// <param name="parameterCount">The length of the parameter vector it is given.</param>
    public void EnsureMatches(string optimizerName, int parameterCount)
    {
        if (!string.Equals(optimizerName, OptimizerName, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"This state was created by {OptimizerName}, not {optimizerName}; create it with {optimizerName}.CreateState.", "state");
        }

        if (parameterCount != ParameterCount)
        {
            throw new ArgumentException(
                $"This state serves {ParameterCount} parameters but {parameterCount} were given; create a state for {parameterCount}.", "state");
        }
    }

    /// <summary>
    /// Writes a self-checking snapshot to <paramref name="stream"/>: a versioned header, the rule's name and settings, the
    /// step count, every vector and every scalar (exact float and double bits), and a checksum over all of it.
    /// </summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream) =>
        SnapshotFrame.Write(stream, Marker, FormatVersion, writer =>
        {
            writer.Write(OptimizerName);
            RuleSettings.Write(writer, Settings);
            writer.Write(ParameterCount);
            writer.Write(Step);
            writer.Write(_vectors.Count);
            foreach (var (name, vector) in _vectors)
            {
                writer.Write(name);
                SnapshotFrame.WriteFloats(writer, vector);
            }

            writer.Write(_scalars.Count);
            foreach (var (name, value) in _scalars)
            {
                writer.Write(name);
                writer.Write(value);
            }
        });

    /// <summary>
    /// Loads a snapshot written by <see cref="Save"/> into this state. The snapshot must be intact (checksum, length, no
    /// trailing bytes), come from the same rule with the same settings (only the learning rate may differ) and parameter
    /// count, hold the same vectors and scalars, and every value must be in range (finite; step ≥ 0; sums of squares ≥ 0;
    /// see <c>docs/reliability.md</c>). Otherwise an <see cref="InvalidDataException"/> names what is wrong and this state is
    /// left unchanged.
    /// </summary>
    /// <param name="stream">A readable stream positioned at a snapshot that runs to its end; left open.</param>
    public void Restore(Stream stream)
    {
        var snapshot = SnapshotFrame.Read(stream, Marker, FormatVersion, "an optimizer state snapshot", ReadSnapshot);
        if (snapshot.Name != OptimizerName || snapshot.ParameterCount != ParameterCount)
        {
            throw new InvalidDataException(
                $"The snapshot is of {snapshot.Name} with {snapshot.ParameterCount} parameters; this state is of {OptimizerName} with {ParameterCount} parameters.");
        }

        if (!RuleSettings.Equal(snapshot.Settings, Settings))
        {
            throw new InvalidDataException(RuleSettings.Mismatch(OptimizerName, snapshot.Settings, Settings));
        }

        EnsureSameNames("vectors", snapshot.Vectors.Keys, _vectors.Keys);
        EnsureSameNames("scalars", snapshot.Scalars.Keys, _scalars.Keys);
        OptimizerStateRanges.Check(OptimizerName, snapshot.Step, snapshot.Vectors, snapshot.Scalars);

        Step = snapshot.Step;
        foreach (var (name, values) in snapshot.Vectors)
        {
            values.CopyTo(_vectors[name], 0);
        }

        foreach (var (name, value) in snapshot.Scalars)
        {
            _scalars[name] = value;
        }
    }

    private static Snapshot ReadSnapshot(BinaryReader reader)
    {
        string name = reader.ReadString();
        var settings = RuleSettings.Read(reader);
        int parameterCount = SnapshotFrame.ReadCount(reader, Array.MaxLength, "parameters");
        long step = reader.ReadInt64();
        int vectorCount = SnapshotFrame.ReadCount(reader, SnapshotFrame.MaxNamedEntries, "vectors");
        var vectors = new SortedDictionary<string, float[]>(StringComparer.Ordinal);
        for (int v = 0; v < vectorCount; v++)
        {
            string vectorName = reader.ReadString();
            if (!vectors.TryAdd(vectorName, SnapshotFrame.ReadFloats(reader, parameterCount)))
            {
                throw new InvalidDataException($"The snapshot's vector '{vectorName}' is repeated; it was not written by this library's Save.");
            }
        }

        int scalarCount = SnapshotFrame.ReadCount(reader, SnapshotFrame.MaxNamedEntries, "scalars");
        var scalars = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (int s = 0; s < scalarCount; s++)
        {
            string scalarName = reader.ReadString();
            if (!scalars.TryAdd(scalarName, reader.ReadDouble()))
            {
                throw new InvalidDataException($"The snapshot's scalar '{scalarName}' is repeated; it was not written by this library's Save.");
            }
        }

        return new Snapshot(name, settings, parameterCount, step, vectors, scalars);
    }

    private static void EnsureSameNames(string kind, IEnumerable<string> saved, IEnumerable<string> expected)
    {
        string[] missing = expected.Except(saved, StringComparer.Ordinal).ToArray();
        string[] extra = saved.Except(expected, StringComparer.Ordinal).ToArray();
        if (missing.Length > 0 || extra.Length > 0)
        {
            throw new InvalidDataException(
                $"The snapshot's {kind} do not match this state's: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}].");
        }
    }

    private sealed record Snapshot(string Name, KeyValuePair<string, double>[] Settings, int ParameterCount, long Step,
        SortedDictionary<string, float[]> Vectors, SortedDictionary<string, double> Scalars);
}
