namespace MLNet.Optimizers.Comparison;

/// <summary>
/// The comparison's time budget, read from an injected clock: no training run starts once <see cref="SearchShare"/> of it is
/// spent (the rest is kept for the final refit), and a run still going when all of it is spent is cancelled.
/// </summary>
internal sealed class SearchBudget : IDisposable
{
    /// <summary>The share of the budget the search may use before it stops starting runs.</summary>
    public const double SearchShare = 0.9;

    private readonly TimeProvider _clock;
    private readonly long _start;
    private readonly CancellationTokenSource _allSpent;
    private readonly CancellationTokenSource _stop;

    /// <summary>Starts the budget now, on <paramref name="clock"/>.</summary>
    /// <param name="total">The whole run's budget, final refit included.</param>
    /// <param name="clock">The clock; tests pass a fake one.</param>
    /// <param name="cancellationToken">The caller's cancellation, which also stops a run in progress.</param>
    public SearchBudget(TimeSpan total, TimeProvider clock, CancellationToken cancellationToken)
    {
        Total = total;
        _clock = clock;
        _start = clock.GetTimestamp();
        _allSpent = new CancellationTokenSource(total, clock);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _allSpent.Token);
        Cancellation = cancellationToken;
    }

    public TimeSpan Total { get; }

    public TimeSpan Elapsed => _clock.GetElapsedTime(_start);

    /// <summary>The caller's own cancellation (Ctrl+C), as opposed to the budget running out.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Cancelled when all of the budget is spent or the caller cancels: given to every training run.</summary>
    public CancellationToken RunToken => _stop.Token;

    /// <summary>True once the search's share is spent (or the caller cancelled): no new training run may start.</summary>
    public bool SearchTimeSpent => _stop.IsCancellationRequested || Elapsed >= Total * SearchShare;

    /// <summary>True once the search stopped starting runs, or cancelled one, for lack of time.</summary>
    public bool Exhausted => _exhausted;

    private volatile bool _exhausted;

    /// <summary>Records that the budget ended the search early (from any thread).</summary>
    public void MarkExhausted() => _exhausted = true;

    public void Dispose()
    {
        _stop.Dispose();
        _allSpent.Dispose();
    }
}
