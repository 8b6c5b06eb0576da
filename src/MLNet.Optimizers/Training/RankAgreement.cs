using System.Globalization;
using System.Runtime.ExceptionServices;

namespace MLNet.Optimizers.Training;

/// <summary>
/// Checks, before a data-parallel run takes its first step, that the ranks agree on what must be the same everywhere (feature and
/// class counts, options) and that every rank has rows. Each rank contributes its values to one all-gather, so every rank sees
/// the same table and throws the same error: no rank is left waiting in a collective call for one that gave up alone.
/// </summary>
internal static class RankAgreement
{
    /// <summary>Throws on every rank when a fact differs between ranks; the message names the fact, rank 0's value and the first
    /// rank that differs (for a text fact, this rank's text). A no-op for one rank.</summary>
    /// <param name="communicator">The job.</param>
    /// <param name="facts">This rank's facts, in the same order on every rank.</param>
    /// <param name="hint">What the user should do, appended to the message.</param>
    /// <exception cref="ArgumentException">Two ranks disagree.</exception>
    public static void EnsureSame(ICommunicator communicator, IReadOnlyList<Fact> facts, string hint)
    {
        if (communicator.Size == 1)
        {
            return;
        }

        double[] all = communicator.AllGather(facts.Select(fact => fact.Value).ToArray());
        for (int i = 0; i < facts.Count; i++)
        {
            for (int rank = 1; rank < communicator.Size; rank++)
            {
                double first = all[i], other = all[(rank * facts.Count) + i];
                if (!first.Equals(other))
                {
                    string values = facts[i].Text is { } text
                        ? $"it differs between rank 0 and rank {rank} (on rank {communicator.Rank} it is {text})"
                        : string.Create(CultureInfo.InvariantCulture, $"{first:R} on rank 0 but {other:R} on rank {rank}");
                    throw new ArgumentException(
                        $"The ranks of the data-parallel job disagree on {facts[i].Name}: {values}. {hint}", facts[i].Name);
                }
            }
        }
    }

    /// <summary>Throws on every rank unless every rank has <paramref name="usable"/> data; the message lists the ranks that have not.
    /// A no-op for one rank (the single-process checks apply).</summary>
    /// <param name="communicator">The job.</param>
    /// <param name="usable">Whether this rank's data has at least one row with a positive weight.</param>
    /// <param name="name">The data's name in the message, e.g. "train".</param>
    /// <exception cref="ArgumentException">Some rank has no usable row.</exception>
    public static void EnsureEveryRankHasRows(ICommunicator communicator, bool usable, string name)
    {
        if (communicator.Size == 1)
        {
            return;
        }

        double[] all = communicator.AllGather([usable ? 1 : 0]);
        int[] empty = Enumerable.Range(0, all.Length).Where(rank => all[rank] == 0).ToArray();
        if (empty.Length > 0)
        {
            throw new ArgumentException(
                $"{name}: rank(s) {string.Join(", ", empty)} of {communicator.Size} have no row with a positive weight; every rank's shard " +
                "needs at least one (a rank without rows would wait forever). Use fewer ranks, or shard so that every rank gets rows.", name);
        }
    }

    /// <summary>
    /// Runs a step that can fail on some ranks only (reading a rank's own shard), then tells every rank: a rank that failed
    /// rethrows its own error, the others throw one naming the ranks that failed. With one rank, just runs the step.
    /// </summary>
    /// <param name="communicator">The job.</param>
    /// <param name="step">The local step.</param>
    /// <param name="what">What the step does, for the message, e.g. "read its training data".</param>
    /// <exception cref="ArgumentException">Another rank's step failed.</exception>
    public static T Collectively<T>(ICommunicator communicator, Func<T> step, string what)
    {
        if (communicator.Size == 1)
        {
            return step();
        }

        T result = default!;
        ExceptionDispatchInfo? failure = null;
        try
        {
            result = step();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }

        double[] failed = communicator.AllGather([failure is null ? 0 : 1]);
        failure?.Throw();
        int[] ranks = Enumerable.Range(0, failed.Length).Where(rank => failed[rank] != 0).ToArray();
        if (ranks.Length > 0)
        {
            throw new ArgumentException(
                $"rank(s) {string.Join(", ", ranks)} of {communicator.Size} could not {what} (their error says why); every rank stops.");
        }

        return result;
    }

    /// <summary>A value that stands for <paramref name="text"/>: FNV-1a over its UTF-16 units, kept to 52 bits so the double holds
    /// it exactly. Stable across processes and machines (unlike <see cref="string.GetHashCode()"/>).</summary>
    private static double Fingerprint(string? text)
    {
        if (text is null)
        {
            return -1;
        }

        ulong hash = 14695981039346656037;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return hash >> 12;
    }

    /// <summary>One thing the ranks must agree on: its name in messages, and its value (compared bit for bit; NaN equals NaN).</summary>
    /// <param name="Name">The option or property, e.g. "BatchSize".</param>
    /// <param name="Value">The value.</param>
    /// <param name="Text">For a setting that is not a number, its text (compared through a fingerprint), shown in the message.</param>
    internal readonly record struct Fact(string Name, double Value, string? Text = null)
    {
        /// <summary>A fact about a setting that is not a number (an optimizer, a schedule, label names).</summary>
        public static Fact Of(string name, string? text) => new(name, Fingerprint(text), text ?? "null");
    }
}
