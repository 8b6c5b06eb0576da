namespace MLNet.Optimizers.Training;

/// <summary>
/// The ranks of a data-parallel job and the collective operations that training needs: each rank holds a shard of the rows,
/// computes its part of every loss and gradient sum, and the ranks add their parts together so that every rank takes the same
/// step and ends with the same model.
/// </summary>
/// <remarks>
/// <para>Every method is <b>collective</b>: all ranks must call it, in the same order, with spans of the same length (and the
/// same root); a rank that skips a call makes the others wait forever. Calls are made from one thread at a time.</para>
/// <para><see cref="SingleProcessCommunicator"/> (one rank, every operation a no-op) is the default. The MPI implementation is
/// <c>MpiCommunicator</c> in the <c>MLNet.Optimizers.Distributed</c> package.</para>
/// </remarks>
public interface ICommunicator
{
    /// <summary>This process's rank, in [0, <see cref="Size"/>). Rank 0 is the one that logs and saves.</summary>
    int Rank { get; }

    /// <summary>The number of ranks; at least 1.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum of every rank's values.</summary>
    /// <param name="values">This rank's values on entry; the sums on return. The same length on every rank.</param>
    void AllreduceSum(Span<double> values);

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="values"/> to every other rank.</summary>
    /// <param name="values">On the root, the values to send; on the other ranks, overwritten with them. The same length on every rank.</param>
    /// <param name="root">The sending rank, in [0, <see cref="Size"/>); the same on every rank.</param>
    void Broadcast(Span<double> values, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();
}
