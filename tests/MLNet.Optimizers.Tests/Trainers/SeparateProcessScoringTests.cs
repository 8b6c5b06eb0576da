using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>
/// Saves each model type with its loader, then scores it with tests/MLNet.Optimizers.ScoringHost, a separate process that references
/// only Microsoft.ML: every score must be identical (bit for bit, via round-trip formatting) to the scores in this process.
/// </summary>
public class SeparateProcessScoringTests
{
    [Theory]
    [InlineData("breast_cancer", DataKind.Boolean)]
    [InlineData("iris", DataKind.Single)]
    [InlineData("diabetes", DataKind.Single)]
    public void Model_scores_identically_in_a_process_without_this_library(string dataset, DataKind labelKind)
    {
        var mlContext = new MLContext(seed: 1);
        AssertScoresIdentically(mlContext, dataset, labelKind, TrainerTestModels.Pipeline(mlContext, dataset));
    }

    [Fact]
    public void Poisson_model_scores_identically_in_a_process_without_this_library()
    {
        var mlContext = new MLContext(seed: 1);
        AssertScoresIdentically(mlContext, "diabetes", DataKind.Single,
            Featurize(mlContext, keyLabel: false).Append(mlContext.Regression.Trainers.PoissonRegression(numberOfEpochs: 50)));
    }

    private static void AssertScoresIdentically(MLContext mlContext, string dataset, DataKind labelKind, IEstimator<ITransformer> pipeline)
    {
        TextLoader loader = Loader(mlContext, dataset, labelKind);
        IDataView data = loader.Load(PathOf(dataset));
        ITransformer model = pipeline.Fit(data);
        string zip = Path.Combine(Path.GetTempPath(), $"mlnet-optimizers-{dataset}-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(model, loader, zip);

        try
        {
            IDataView scored = model.Transform(data);
            string[] expected = ExpectedLines(scored);
            string[] actual = RunScoringHost(zip, PathOf(dataset), out string assemblies);

            Assert.DoesNotContain("MLNet.Optimizers,", assemblies + ",");
            Assert.Equal(expected, actual);
        }
        finally
        {
            File.Delete(zip);
        }
    }

    private static string[] ExpectedLines(IDataView scored)
    {
        bool vector = scored.Schema["Score"].Type is VectorDataViewType;
        var scores = vector ? scored.GetColumn<float[]>("Score").ToArray() : scored.GetColumn<float>("Score").Select(s => new[] { s }).ToArray();
        float[]? probabilities = scored.Schema.GetColumnOrNull("Probability") is null ? null : scored.GetColumn<float>("Probability").ToArray();
        return scores.Select((s, i) => string.Join(' ', (probabilities is null ? s : [.. s, probabilities[i]])
            .Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).ToArray();
    }

    private static string[] RunScoringHost(string zip, string dataFile, out string assemblies)
    {
        string hostDll = ScoringHostPath();
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(hostDll)!, "MLNet.Optimizers.dll")), "the host must not ship this library");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(hostDll);
        start.ArgumentList.Add(zip);
        start.ArgumentList.Add(dataFile);
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"scoring host failed ({process.ExitCode}): {error.Result}");
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        assemblies = lines[^1];
        return lines[..^1];
    }

    /// <summary>tests/MLNet.Optimizers.ScoringHost/bin/&lt;configuration&gt;/&lt;tfm&gt;/, mirrored from this test assembly's output folder.</summary>
    private static string ScoringHostPath()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testOutput.Name, configuration = testOutput.Parent!.Name;
        string testsFolder = testOutput.Parent.Parent!.Parent!.Parent!.FullName;
        string path = Path.Combine(testsFolder, "MLNet.Optimizers.ScoringHost", "bin", configuration, framework, "MLNet.Optimizers.ScoringHost.dll");
        Assert.True(File.Exists(path), $"scoring host not built at {path}");
        return path;
    }
}
