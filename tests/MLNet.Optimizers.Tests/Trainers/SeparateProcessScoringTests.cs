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
        string hostDll = TestHosts.BuiltPath("MLNet.Optimizers.ScoringHost");
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(hostDll)!, "MLNet.Optimizers.dll")), "the host must not ship this library");
        ProcessOutcome run = TestHosts.Run(TestHosts.Dotnet, [hostDll, zip, dataFile], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, $"scoring host failed ({run.ExitCode}): {run.Error}");
        string output = run.Output;
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        assemblies = lines[^1];
        return lines[..^1];
    }
}
