namespace MLNet.Optimizers.Training;

/// <summary>Collective operations built from the ones every <see cref="ICommunicator"/> provides.</summary>
public static class CommunicatorExtensions
{
    /// <summary>
    /// Every rank's <paramref name="values"/>, rank after rank: element i of rank r is at <c>r·values.Length + i</c>. Collective:
    /// every rank passes the same number of values.
    /// </summary>
    /// <remarks>A sum-allreduce of a buffer in which each rank fills its own slot and leaves the others zero: exact, because
    /// x + 0 = x (only the sign of a −0 is lost).</remarks>
    /// <param name="communicator">The job's communicator.</param>
    /// <param name="values">This rank's values.</param>
    /// <returns>A new array of <c>Size·values.Length</c> values, the same on every rank.</returns>
    public static double[] AllGather(this ICommunicator communicator, ReadOnlySpan<double> values)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        var all = new double[checked(communicator.Size * values.Length)];
        values.CopyTo(all.AsSpan(communicator.Rank * values.Length));
        communicator.AllreduceSum(all);
        return all;
    }
}
