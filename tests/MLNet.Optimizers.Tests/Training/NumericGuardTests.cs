namespace MLNet.Optimizers.Tests.Training;

/// <summary>
/// A run either makes progress or stops with an error saying why: loss growth far past its start is divergence, an L-BFGS
/// run that claims convergence without lowering the loss is refused, and an unbounded epoch count is a valid "until early
/// stopping".
/// </summary>
public class NumericGuardTests
{
    /// <summary>Logistic rows with label = (x₀ + 2x₁ + 3x₂ &gt; 0) and features around <paramref name="offset"/>·scale.</summary>
    private static TrainingData Logistic(double scale, double offset, int rows = 400)
    {
        var random = new Random(1);
        const int Features = 3;
        var x = new float[rows * Features];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < Features; j++)
            {
                double v = random.NextDouble() * 2 - 1;
                x[i * Features + j] = (float)((offset + v) * scale);
                s += v * (j + 1);
            }

            y[i] = s > 0 ? 1 : 0;
        }

        return TrainingData.Dense(Features, x, y, null);
    }

    [Fact]
    public void Lbfgs_on_features_of_magnitude_1e12_stops_with_advice_to_normalise_instead_of_returning_the_all_zero_model()
    {
        var data = Logistic(scale: 1e11, offset: 17);

        var error = Assert.Throws<InvalidOperationException>(() =>
            new TrainingLoop(new LogisticObjective(), new TrainingOptions { Optimizer = new Lbfgs(), NumberOfEpochs = 100 }).Train(data));

        Assert.Contains("without lowering the training loss", error.Message);
        Assert.Contains("Normalise the features", error.Message);
    }

    [Fact]
    public void The_same_data_normalised_trains()
    {
        var result = new TrainingLoop(new LogisticObjective(), new TrainingOptions { Optimizer = new Lbfgs(), NumberOfEpochs = 100 })
            .Train(Logistic(scale: 1, offset: 0));

        Assert.True(result.History[^1].TrainingLoss < Math.Log(2));
    }

    [Theory]
    [InlineData("Adam")]
    [InlineData("RmsProp")]
    [InlineData("Adagrad")]
    public void A_loss_growing_far_past_its_start_is_divergence_even_while_finite(string rule)
    {
        FirstOrderOptimizer optimizer = rule switch
        {
            "Adam" => new Adam(learningRate: 1e10),
            "RmsProp" => new RmsProp(learningRate: 1e10),
            _ => new Adagrad(learningRate: 1e10),
        };

        var error = Assert.Throws<InvalidOperationException>(() => new TrainingLoop(new LogisticObjective(),
            new TrainingOptions { Optimizer = optimizer, BatchSize = 16, NumberOfEpochs = 20, Seed = 1 }).Train(Logistic(scale: 1, offset: 0)));

        Assert.Contains("diverged", error.Message);
    }

    [Fact]
    public void An_unbounded_epoch_count_runs_until_early_stopping_without_preallocating()
    {
        var result = new TrainingLoop(new LogisticObjective(), new TrainingOptions
        {
            Optimizer = new Sgd(0.5),
            NumberOfEpochs = int.MaxValue,
            EarlyStoppingPatience = 3,
            EarlyStoppingTolerance = 1e-3,
        }).Train(Logistic(scale: 1, offset: 0));

        Assert.True(result.StoppedEarly);
        Assert.InRange(result.History.Count, 4, 10_000);
    }
}
