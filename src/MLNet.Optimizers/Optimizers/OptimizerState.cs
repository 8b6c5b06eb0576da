using System.Text;

namespace MLNet.Optimizers;

/// <summary>
/// The per-run state of a <see cref="FirstOrderOptimizer"/>: the step count plus named parameter-length vectors
/// (moments, buffers) and named scalars, keyed by the names PyTorch uses in its <c>state_dict</c>
/// (<c>exp_avg</c>, <c>exp_avg_sq</c>, <c>momentum_buffer</c>, ...).
/// </summary>
/// <remarks>
/// <see cref="Save"/> writes a versioned binary snapshot (exact float and double bits); <see cref="Restore"/> loads it
/// into a state created by the same rule for the same parameter count, so a restored run continues bit-identically.
/// </remarks>
public class OptimizerState
{
    private const string Magic = "MLNET-OPTIMIZER-STATE";
    private const int FormatVersion = 1;

    private readonly SortedDictionary<string, float[]> _vectors = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, double> _scalars = new(StringComparer.Ordinal);

    /// <summary>Creates an empty state at step 0.</summary>
    /// <param name="optimizerName">The name of the rule that owns this state.</param>
    /// <param name="parameterCount">The length of the parameter vector.</param>
    public OptimizerState(string optimizerName, int parameterCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(optimizerName);
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        OptimizerName = optimizerName;
        ParameterCount = parameterCount;
    }

    /// <summary>The name of the rule that created this state.</summary>
    public string OptimizerName { get; }

    /// <summary>The length of the parameter vector this state serves.</summary>
    public int ParameterCount { get; }

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

    /// <summary>Writes the step count, every vector and every scalar, bit-exact, to <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(OptimizerName);
        writer.Write(ParameterCount);
        writer.Write(Step);
        writer.Write(_vectors.Count);
        foreach (var (name, vector) in _vectors)
        {
            writer.Write(name);
            foreach (float value in vector)
            {
                writer.Write(value);
            }
        }

        writer.Write(_scalars.Count);
        foreach (var (name, value) in _scalars)
        {
            writer.Write(name);
            writer.Write(value);
        }
    }

    /// <summary>
    /// Loads a snapshot written by <see cref="Save"/> into this state. The snapshot must come from the same rule and
    /// parameter count, with the same vectors; otherwise nothing is changed and an <see cref="InvalidDataException"/>
    /// names the mismatch.
    /// </summary>
    /// <param name="stream">A readable stream positioned at a snapshot; left open.</param>
    public void Restore(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
        {
            throw new InvalidDataException("The stream does not hold an optimizer state snapshot.");
        }

        int version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Optimizer state format version {version} is not supported; expected {FormatVersion}.");
        }

        string name = reader.ReadString();
        int count = reader.ReadInt32();
        if (name != OptimizerName || count != ParameterCount)
        {
            throw new InvalidDataException(
                $"The snapshot is of {name} with {count} parameters; this state is of {OptimizerName} with {ParameterCount} parameters.");
        }

        long step = reader.ReadInt64();
        int vectorCount = reader.ReadInt32();
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int v = 0; v < vectorCount; v++)
        {
            string vectorName = reader.ReadString();
            var values = new float[count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = reader.ReadSingle();
            }

            vectors[vectorName] = values;
        }

        if (!vectors.Keys.Order(StringComparer.Ordinal).SequenceEqual(_vectors.Keys))
        {
            throw new InvalidDataException(
                $"The snapshot holds vectors [{string.Join(", ", vectors.Keys)}] but {OptimizerName} with these settings uses [{string.Join(", ", _vectors.Keys)}].");
        }

        int scalarCount = reader.ReadInt32();
        var scalars = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int s = 0; s < scalarCount; s++)
        {
            scalars[reader.ReadString()] = reader.ReadDouble();
        }

        Step = step;
        foreach (var (vectorName, values) in vectors)
        {
            values.CopyTo(_vectors[vectorName], 0);
        }

        _scalars.Clear();
        foreach (var (scalarName, value) in scalars)
        {
            _scalars[scalarName] = value;
        }
    }
}
