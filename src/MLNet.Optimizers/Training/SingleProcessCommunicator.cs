using MLNet.Optimizers.Internal;

namespace MLNet.Optimizers.Training;

/// <summary>
/// The default <see cref="ICommunicator"/>: one process is the whole job (rank 0 of 1), so every collective operation leaves
/// the values as they are.
/// </summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    private SingleProcessCommunicator()
    {
    }

    /// <summary>The one instance.</summary>
    public static SingleProcessCommunicator Instance { get; } = new();

    /// <summary>Always 0.</summary>
    public int Rank => 0;

    /// <summary>Always 1.</summary>
    public int Size => 1;

    /// <summary>Leaves <paramref name="values"/> unchanged: the sum over one rank is its own values.</summary>
    /// <param name="values">The values.</param>
    public void AllreduceSum(Span<double> values)
    {
    }

    /// <summary>Leaves <paramref name="values"/> unchanged; <paramref name="root"/> must be 0.</summary>
    /// <param name="values">The values.</param>
    /// <param name="root">The sending rank: 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not 0.</exception>
    public void Broadcast(Span<double> values, int root) => Check.Index(root, Size, nameof(root));

    /// <summary>Returns at once.</summary>
    public void Barrier()
    {
    }

    /// <summary>"SingleProcessCommunicator".</summary>
    public override string ToString() => nameof(SingleProcessCommunicator);
}
