using System.Runtime.ExceptionServices;

namespace MLNet.Optimizers.Tests.Support;

/// <summary>
/// A data-parallel job of N ranks inside the test process, one thread per rank, joined by an in-memory
/// <see cref="ICommunicator"/>: checks the arithmetic of distributed training without MPI. Sums run in rank order.
/// </summary>
/// <remarks>Every collective call checks that all ranks made the same call with the same length (and root), so a rank that
/// skips or reorders a call fails the test instead of hanging it. When a rank throws, the others are released from their
/// waits with <see cref="OperationCanceledException"/>.</remarks>
internal static class ThreadCommunicators
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs <paramref name="body"/> on <paramref name="size"/> ranks at once and returns each rank's result, in rank order;
    /// rethrows the first failure that was not another rank's release.</summary>
    public static T[] Run<T>(int size, Func<ICommunicator, T> body)
    {
        var (results, errors) = RunCapturing(size, body);
        Exception? error = errors.FirstOrDefault(e => e is not null and not OperationCanceledException) ?? errors.FirstOrDefault(e => e is not null);
        if (error is not null)
        {
            ExceptionDispatchInfo.Capture(error).Throw();
        }

        return results;
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="size"/> ranks and returns what each rank threw (null: it returned).</summary>
    public static Exception?[] Errors(int size, Action<ICommunicator> body) =>
        RunCapturing(size, communicator =>
        {
            body(communicator);
            return 0;
        }).Errors;

    private static (T[] Results, Exception?[] Errors) RunCapturing<T>(int size, Func<ICommunicator, T> body)
    {
        var group = new Group(size);
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = body(new Rank(group, rank));
            }
            catch (Exception e)
            {
                errors[rank] = e;
                group.Release();
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        return (results, errors);
    }

    /// <summary>What the ranks share: one slot per rank for the call's name and values, and the barrier between phases.</summary>
    private sealed class Group(int size)
    {
        private readonly CancellationTokenSource _released = new();

        public int Size => size;

        public Barrier Barrier { get; } = new(size);

        public string[] Calls { get; } = new string[size];

        public double[][] Slots { get; } = new double[size][];

        public void Release() => _released.Cancel();

        public void Wait(int rank, string call)
        {
            if (!Barrier.SignalAndWait(CallTimeout, _released.Token))
            {
                throw new TimeoutException($"Rank {rank} waited {CallTimeout} in {call}: another rank did not make the same collective call.");
            }
        }

        /// <summary>Publishes this rank's call, waits for every rank, and checks that they all made the same call.</summary>
        public void Arrive(int rank, string call, double[] values)
        {
            Calls[rank] = call;
            Slots[rank] = values;
            Wait(rank, call);
            for (int other = 0; other < size; other++)
            {
                if (Calls[other] != call)
                {
                    throw new InvalidOperationException($"Rank {rank} called {call} while rank {other} called {Calls[other]}.");
                }
            }
        }
    }

    private sealed class Rank(Group group, int rank) : ICommunicator
    {
        int ICommunicator.Rank => rank;

        public int Size => group.Size;

        public void AllreduceSum(Span<double> values)
        {
            group.Arrive(rank, $"AllreduceSum({values.Length} values)", values.ToArray());
            values.Clear();
            foreach (double[] slot in group.Slots)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] += slot[i];
                }
            }

            group.Wait(rank, "AllreduceSum"); // nobody overwrites a slot before every rank has read them all
        }

        public void Broadcast(Span<double> values, int root)
        {
            Assert.InRange(root, 0, group.Size - 1);
            group.Arrive(rank, $"Broadcast({values.Length} values from rank {root})", values.ToArray());
            group.Slots[root].CopyTo(values);
            group.Wait(rank, "Broadcast");
        }

        public void Barrier()
        {
            group.Arrive(rank, "Barrier", []);
            group.Wait(rank, "Barrier");
        }
    }
}
