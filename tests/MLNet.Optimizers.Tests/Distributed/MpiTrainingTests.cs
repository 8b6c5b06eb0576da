using System.Globalization;
using MLNet.Optimizers.MpiHost;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Distributed;

/// <summary>
/// The ML.NET trainers under a real <c>mpirun -np 2</c>: each rank fits on every other row of a sample CSV, and the model must
/// be the same on both ranks (bit for bit) and equal the model this process trains alone on all the rows (the same code,
/// tests/MLNet.Optimizers.MpiHost/DistributedFits.cs, compiled into both).
/// </summary>
[Collection(MpiJobs.Name)]
public class MpiTrainingTests
{
    [MpiTheory]
    [InlineData("logistic-lbfgs", "breast_cancer")]
    [InlineData("logistic-adam-full-batch", "breast_cancer")]
    [InlineData("softmax-lbfgs", "iris")]
    public void Two_mpirun_ranks_train_the_single_process_model(string fit, string dataset)
    {
        string[] lines = MpiRun.LinePerRank(MpiRun.Host(2, "fit", fit, PathOf(dataset)), 2);
        var (expected, expectedObjective) = DistributedFits.Fit(fit, PathOf(dataset), SingleProcessCommunicator.Instance);

        Assert.Equal(lines[0], lines[1]); // every rank holds the same bits
        var (parameters, objective) = Parse(lines[0]);
        Assert.Equal(expected.Length, parameters.Length);
        if (fit.Contains("lbfgs", StringComparison.Ordinal))
        {
            Assert.True(Math.Abs(objective - expectedObjective) <= 1e-9 * expectedObjective, $"objective {objective:R} vs {expectedObjective:R}");
        }
        else
        {
            Assert.Equal(expectedObjective, objective, 1e-6);
            Assert.All(expected.Zip(parameters), pair => Assert.Equal(pair.First, pair.Second, 1e-6));
        }
    }

    /// <summary>"objective J parameters p0,p1,…" as printed by the host.</summary>
    private static (float[] Parameters, double Objective) Parse(string line)
    {
        string[] parts = line.Split(' ');
        Assert.Equal(["objective", "parameters"], [parts[0], parts[2]]);
        return (parts[3].Split(',').Select(p => (float)double.Parse(p, CultureInfo.InvariantCulture)).ToArray(),
            double.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
