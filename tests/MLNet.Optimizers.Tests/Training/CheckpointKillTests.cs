using System.Diagnostics;
using System.Text;
using MLNet.Optimizers.CheckpointHost;

namespace MLNet.Optimizers.Tests.Training;

/// <summary>
/// A checkpointed fit in a separate process (tests/MLNet.Optimizers.CheckpointHost) is killed several times at seeded random
/// points, restarted each time, and must end with the model of an uninterrupted run, bit for bit. A kill point is a number of
/// epochs the child has reported plus a random fraction (up to 1.5) of its last epoch's duration, so the kill lands anywhere
/// (mid-epoch, mid-write) on a fast or a slow machine alike, and only the result is checked, never the timing.
/// </summary>
public sealed class CheckpointKillTests
{
    private const int Kills = 3;

    [Theory]
    [InlineData("adam-cached", 1)]
    [InlineData("adam-streamed", 2)]
    [InlineData("lbfgs-cached", 3)]
    [InlineData("lbfgs-streamed", 4)]
    public void AFitKilledAndRestartedEndsWithTheUninterruptedModel(string fit, int seed)
    {
        string expected = CheckpointedFits.Describe(CheckpointedFits.Train(fit, checkpointDirectory: null));
        string directory = Directory.CreateTempSubdirectory("mlnet-checkpoint-kill-").FullName;
        try
        {
            var random = new Random(seed);
            var attempts = new List<Attempt>();
            for (int attempt = 0; attempt <= Kills; attempt++)
            {
                // At least 2 epochs reported: the first epoch's checkpoint is written before the second epoch starts, so every
                // restart after a kill has a checkpoint to resume from. About 5 + 1.5 epochs at most per attempt: the fits have 40
                // epochs, so none can end before its last kill.
                bool kill = attempt < Kills;
                attempts.Add(Run(fit, directory, kill ? random.Next(2, 6) : null, random.NextDouble() * 1.5));
                Assert.True(attempts[^1].Killed == kill, $"attempt {attempt} was {(kill ? "not " : "")}killed:\n{attempts[^1].Output}");
            }

            Assert.All(attempts.Skip(1), attempt => Assert.Contains("resumed", attempt.Output));
            Assert.Equal(expected, attempts[^1].Output.Split('\n').Single(line => line.StartsWith("parameters ", StringComparison.Ordinal)).TrimEnd());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>One run of the host, killed after <paramref name="killAfterEpochs"/> epoch lines plus
    /// <paramref name="epochFraction"/> times the time between the last two, or left to finish.</summary>
    private static Attempt Run(string fit, string directory, int? killAfterEpochs, double epochFraction)
    {
        var start = new ProcessStartInfo(TestHosts.Dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[TestHosts.BuiltPath("MLNet.Optimizers.CheckpointHost"), "fit", fit, directory])
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        var output = new StringBuilder();
        bool killSent = false;
        int epochs = 0;
        long previousEpochEnd = 0;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            output.AppendLine(line);
            if (!line.StartsWith("epoch ", StringComparison.Ordinal))
            {
                continue;
            }

            long epochEnd = Stopwatch.GetTimestamp();
            if (++epochs == killAfterEpochs)
            {
                long killAt = epochEnd + (long)(epochFraction * (epochEnd - previousEpochEnd));
                while (Stopwatch.GetTimestamp() < killAt)
                {
                    Thread.SpinWait(100);
                }

                process.Kill(entireProcessTree: true);
                killSent = true;
                output.Append(process.StandardOutput.ReadToEnd());
                break;
            }

            previousEpochEnd = epochEnd;
        }

        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), $"the checkpoint host did not exit:\n{output}");
        process.WaitForExit();
        bool killed = killSent && process.ExitCode != 0;
        Assert.True(killed || process.ExitCode == 0, $"the checkpoint host failed (exit code {process.ExitCode}):\n{output}\n{error.Result}");
        Assert.True(killed || error.Result.Length == 0, error.Result);
        return new Attempt(output.ToString(), killed);
    }

    private sealed record Attempt(string Output, bool Killed);
}
