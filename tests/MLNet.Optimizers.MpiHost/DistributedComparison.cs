using System.Globalization;
using Microsoft.ML;
using MLNet.Optimizers.Comparison;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.MpiHost;

/// <summary>
/// The comparison of the MPI integration test, run on every rank of an mpirun job by the host and, as the reference, in one
/// process by the test (this file is compiled into both): the same code both times, only the communicator differs.
/// </summary>
internal static class DistributedComparison
{
    /// <summary>
    /// Compares a few candidates (one of them diverging, so a failure message travels too) on a sample CSV, ranked by log-loss
    /// (no ties, which the leaderboard breaks by fit time), and returns the leaderboard as text, a row per candidate.
    /// </summary>
    public static string Leaderboard(string csvPath, ICommunicator communicator)
    {
        var mlContext = new MLContext(seed: 1);
        OptimizerComparisonOptions options = CsvDataSet.Inspect(csvPath, new CsvDataSetOptions()).CreateComparisonOptions(mlContext);
        options.NumberOfFolds = 3;
        options.MaximumNumberOfEpochs = 9;
        options.PrimaryMetric = ComparisonMetric.LogLoss;
        options.TimeBudget = TimeSpan.FromHours(1);
        options.Candidates = [.. OptimizerComparison.DefaultCandidates([0.3, 3]), new ComparisonCandidate(new Sgd(learningRate: 1e30))];
        options.Communicator = communicator;
        ComparisonResult result = new OptimizerComparison(mlContext).Run(options);
        return string.Join(" ## ", result.Leaderboard.Select(EveryColumnButFitTime));
    }

    /// <summary>A leaderboard row as text: every column but the fit time, numbers in round-trip form.</summary>
    public static string EveryColumnButFitTime(LeaderboardRow row) => string.Join("|",
        row.Rank, row.CandidateIndex, row.Name, row.Label, row.Configuration, Text(row.LearningRate), Text(row.PrimaryMetricMean),
        string.Join(";", row.Metrics.Select(m => $"{m.Key}:{string.Join(",", m.Value.PerFold.Select(Text))}")),
        Text(row.FinalTrainingLoss ?? double.NaN), row.EpochsToWithinOnePercent, row.EpochsTrained, row.BestRung, row.RungReached,
        row.Status, row.Note);

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
