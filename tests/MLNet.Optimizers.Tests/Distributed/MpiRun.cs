namespace MLNet.Optimizers.Tests.Distributed;

/// <summary>
/// Starts tests/MLNet.Optimizers.MpiHost as a job of N ranks with the system's <c>mpirun</c>, as separate processes: MPI may be
/// initialised once per process, so never inside the test host.
/// </summary>
internal static class MpiRun
{
    /// <summary>When this environment variable is 1 (as in CI), a missing <c>mpirun</c> fails the MPI tests instead of skipping them.</summary>
    public const string RequireVariable = "MLNET_OPTIMIZERS_REQUIRE_MPI";

    /// <summary>What to install.</summary>
    public const string InstallLine = "install Open MPI, e.g. apt-get install -y openmpi-bin (Debian/Ubuntu)";

    /// <summary>Why the MPI tests are skipped on this machine.</summary>
    public const string SkipReason =
        "MPI is not installed (no mpirun on PATH). To run these tests, " + InstallLine + ". Set " + RequireVariable +
        "=1 to make a missing MPI fail them instead.";

    /// <summary>The <c>mpirun</c> found on PATH, or null.</summary>
    public static string? Launcher { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(folder => Path.Combine(folder, "mpirun"))
        .FirstOrDefault(File.Exists);

    /// <summary>Whether a missing MPI must fail the tests.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>The skip reason for MPI tests on this machine: <see cref="SkipReason"/> when <c>mpirun</c> is missing and not
    /// <see cref="Required"/>, otherwise null (the tests run).</summary>
    public static string? SkipUnlessAvailable => Launcher is null && !Required ? SkipReason : null;

    /// <summary>Runs the MPI host with <paramref name="arguments"/> on <paramref name="ranks"/> ranks and returns what the job wrote.</summary>
    /// <remarks>Open MPI's refusal to run as root and to start more ranks than cores are lifted through its environment variables
    /// (what <c>--allow-run-as-root --oversubscribe</c> do), which MPICH's <c>mpirun</c> ignores rather than rejects.
    /// <c>TERM=dumb</c> keeps .NET from writing terminal control codes into the ranks' output.</remarks>
    public static ProcessOutcome Host(int ranks, params string[] arguments)
    {
        string launcher = Launcher ?? throw new InvalidOperationException(
            $"{RequireVariable}=1 but no mpirun was found on PATH: {InstallLine}.");
        var environment = new Dictionary<string, string>
        {
            ["OMPI_ALLOW_RUN_AS_ROOT"] = "1",
            ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1",
            ["OMPI_MCA_rmaps_base_oversubscribe"] = "1",
            ["TERM"] = "dumb",
        };
        string[] command = ["-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), TestHosts.Dotnet,
            TestHosts.BuiltPath("MLNet.Optimizers.MpiHost"), .. arguments];
        return TestHosts.Run(launcher, command, TimeSpan.FromMinutes(5), environment);
    }

    /// <summary>Each rank's line that starts with "rank r:" (without the prefix), in rank order; fails unless the job succeeded and
    /// every rank printed exactly one.</summary>
    public static string[] LinePerRank(ProcessOutcome run, int ranks)
    {
        Assert.True(run.ExitCode == 0, $"mpirun exited with {run.ExitCode}.\n{run.Output}\n{run.Error}");
        string[] lines = run.Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return Enumerable.Range(0, ranks).Select(rank =>
        {
            string prefix = $"rank {rank}: ";
            return Assert.Single(lines, line => line.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];
        }).ToArray();
    }
}

/// <summary>A test that runs MPI jobs: reported as skipped, with the install line, where <c>mpirun</c> is missing, unless
/// <see cref="MpiRun.RequireVariable"/> is 1 (then it runs and fails).</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    /// <summary>Skips the test when MPI is missing and not required.</summary>
    public MpiFactAttribute() => Skip = MpiRun.SkipUnlessAvailable;
}

/// <summary>A <see cref="MpiFactAttribute"/> with data.</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips the test when MPI is missing and not required.</summary>
    public MpiTheoryAttribute() => Skip = MpiRun.SkipUnlessAvailable;
}

/// <summary>The test classes that start MPI jobs: xunit runs them one after another, so two <c>mpirun</c> jobs never start at
/// once on one host (in the full suite under CPU load, one 2-rank job in ten runs failed within a second while another
/// class's job was starting; run alone, the same tests never failed).</summary>
[CollectionDefinition(Name)]
public sealed class MpiJobs
{
    /// <summary>The collection's name.</summary>
    public const string Name = "MPI jobs";
}
