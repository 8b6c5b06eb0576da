namespace MLNet.Optimizers.Training;

/// <summary>
/// Turns each rank's loss and gradient over its own rows into the loss and gradient over every rank's rows, with one Allreduce
/// of one buffer <c>[Σ wᵢ·lossᵢ, Σ wᵢ, ranks with rows, ranks cancelled, Σ wᵢ·∇lossᵢ …]</c>: the weighted mean over the union
/// is the sum of the ranks' weighted sums divided by the sum of their weights. Each rank gives its mean times its weight, so
/// the result is the same whichever rank holds which rows, up to rounding.
/// </summary>
/// <remarks>Cancellation travels in the same buffer: a rank whose token is cancelled still takes part in the call, and then
/// every rank throws <see cref="OperationCanceledException"/> together, instead of the others waiting for it forever.</remarks>
internal sealed class GradientAllreduce(ICommunicator communicator, int parameterCount, CancellationToken cancellationToken)
{
    private const int Header = 4;
    private readonly double[] _buffer = new double[Header + parameterCount];

    /// <summary>Whether this rank's token asks to stop; the caller then skips its local work and still calls <see cref="Reduce"/>.</summary>
    public bool LocallyCancelled => cancellationToken.IsCancellationRequested;

    /// <summary>
    /// Replaces this rank's weighted mean <paramref name="loss"/> and <paramref name="gradient"/> (over rows of total weight
    /// <paramref name="weight"/>) with those over every rank's rows. Collective.
    /// </summary>
    /// <param name="loss">This rank's weighted mean loss (ignored without rows).</param>
    /// <param name="weight">This rank's Σwᵢ; 0 without rows.</param>
    /// <param name="gradient">This rank's mean gradient on entry (ignored without rows), the global one on return; empty when
    /// only the loss is wanted (the same on every rank).</param>
    /// <param name="hasRows">Whether this rank contributed rows (a rank may run out of mini-batches before the others).</param>
    /// <param name="totalWeight">Σwᵢ over every rank.</param>
    /// <param name="anyRows">Whether any rank had rows (false: every rank's mini-batches are done for this epoch).</param>
    /// <returns>The global weighted mean loss; 0 when no rank had a positive weight.</returns>
    /// <exception cref="OperationCanceledException">Some rank's token was cancelled.</exception>
    public double Reduce(double loss, double weight, Span<float> gradient, bool hasRows, out double totalWeight, out bool anyRows)
    {
        Span<double> buffer = _buffer.AsSpan(0, Header + gradient.Length);
        bool contributes = hasRows && weight > 0;
        buffer[0] = contributes ? loss * weight : 0;
        buffer[1] = contributes ? weight : 0;
        buffer[2] = hasRows ? 1 : 0;
        buffer[3] = LocallyCancelled ? 1 : 0;
        for (int i = 0; i < gradient.Length; i++)
        {
            buffer[Header + i] = contributes ? gradient[i] * weight : 0;
        }

        communicator.AllreduceSum(buffer);
        if (buffer[3] > 0)
        {
            throw new OperationCanceledException(
                $"Training was cancelled on {buffer[3]} of the {communicator.Size} ranks; every rank stops.", cancellationToken);
        }

        totalWeight = buffer[1];
        anyRows = buffer[2] > 0;
        double scale = totalWeight > 0 ? 1 / totalWeight : 0;
        for (int i = 0; i < gradient.Length; i++)
        {
            gradient[i] = (float)(buffer[Header + i] * scale);
        }

        return buffer[0] * scale;
    }
}
