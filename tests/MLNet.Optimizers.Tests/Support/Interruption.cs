namespace MLNet.Optimizers.Tests.Support;

/// <summary>Stops a run the way a crash would, but in-process: right after an epoch has ended (and been checkpointed).</summary>
internal static class Interruption
{
    /// <summary>Makes the run throw <see cref="OperationCanceledException"/> at its first step after epoch <paramref name="epoch"/>.</summary>
    public static void CancelAfterEpoch(TrainingOptions options, int epoch)
    {
        var cancellation = new CancellationTokenSource();
        options.CancellationToken = cancellation.Token;
        options.OnEpochEnd = report =>
        {
            if (report.Epoch == epoch)
            {
                cancellation.Cancel();
            }
        };
    }
}
