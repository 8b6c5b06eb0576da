using System.Diagnostics;

namespace MLNet.Optimizers.Tests.Support;

/// <summary>Executables built alongside the tests (referenced without their assembly) and run as separate processes.</summary>
internal static class TestHosts
{
    /// <summary>tests/&lt;project&gt;/bin/&lt;configuration&gt;/&lt;tfm&gt;/&lt;project&gt;.dll, mirrored from this test assembly's output folder.</summary>
    public static string BuiltPath(string project)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testOutput.Name, configuration = testOutput.Parent!.Name;
        string testsFolder = testOutput.Parent.Parent!.Parent!.Parent!.FullName;
        string path = Path.Combine(testsFolder, project, "bin", configuration, framework, project + ".dll");
        Assert.True(File.Exists(path), $"{project} is not built at {path}");
        return path;
    }

    /// <summary>The dotnet executable running the tests, to start a built host with.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="arguments"/> (and extra environment variables) to completion, killing it
    /// and its children when it outlives <paramref name="timeout"/>.
    /// </summary>
    public static ProcessOutcome Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{Path.GetFileName(fileName)} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}; killed. " +
                $"Output so far:\n{output.Result}\n{error.Result}");
        }

        process.WaitForExit(); // lets the output readers reach the end
        return new ProcessOutcome(process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>How a separate process ended: its exit code and everything it wrote.</summary>
internal sealed record ProcessOutcome(int ExitCode, string Output, string Error);
