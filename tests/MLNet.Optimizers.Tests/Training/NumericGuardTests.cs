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

    /// <summary>Regression rows y = (x₀ + 2x₁ + 3x₂ + noise)·<paramref name="labelScale"/>, features in [−1, 1]·<paramref name="featureScale"/>.</summary>
    private static TrainingData Regression(double featureScale, double labelScale, int rows = 400)
    {
        var random = new Random(1);
        const int Features = 3;
        var x = new float[rows * Features];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0.1 * (random.NextDouble() - 0.5);
            for (int j = 0; j < Features; j++)
            {
                double v = random.NextDouble() * 2 - 1;
                x[i * Features + j] = (float)(v * featureScale);
                s += v * (j + 1);
            }

            y[i] = (float)(s * labelScale);
        }

        return TrainingData.Dense(Features, x, y, null);
    }

    private static TrainingResult Train(LinearObjective objective, TrainingOptions options, TrainingData data, bool streamed,
        float[]? start = null) =>
        streamed
            ? new TrainingLoop(objective, options).Train(new SlicedSource(data), initialParameters: start)
            : new TrainingLoop(objective, options).Train(data, initialParameters: start);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sgd_on_features_of_magnitude_1e30_stops_instead_of_returning_a_model_whose_float_scores_overflow(bool streamed)
    {
        // One full-batch step: the loss recorded before it is log 2 (nothing diverged yet), the weights become ~1e28, and the
        // scores ~1e58 are finite in double but ±∞ in float, as ML.NET computes them.
        var data = Logistic(scale: 1e30, offset: 0);

        var error = Assert.Throws<InvalidOperationException>(() =>
            Train(new LogisticObjective(), new TrainingOptions { Optimizer = new Sgd(0.1), NumberOfEpochs = 1 }, data, streamed));

        Assert.Contains("scores beyond the range of float", error.Message);
        Assert.Contains("Normalise the features", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_whose_second_moment_overflows_stops_instead_of_returning_the_all_zero_model(bool streamed)
    {
        // Labels of 1e25 give gradients of 1e25; their squares pass float's 3.4e38, exp_avg_sq becomes ∞ and every step m/∞ = 0.
        var data = Regression(featureScale: 1, labelScale: 1e25);

        var error = Assert.Throws<InvalidOperationException>(() => Train(new SquaredObjective(),
            new TrainingOptions { Optimizer = new Adam(0.1), BatchSize = 32, NumberOfEpochs = 5, Seed = 1 }, data, streamed));

        Assert.Contains("'exp_avg_sq' became NaN or infinite", error.Message);
        Assert.Contains("labels", error.Message);
    }

    [Fact]
    public void A_model_worse_than_the_all_zero_model_is_refused()
    {
        // Rows x = 1, y = 1: the zero model's loss is ½. One full-batch step of γ = 1.5 from zero gives w = b = 1.5, score 3 and
        // loss 2: worse than predicting nothing, yet far from the divergence limit, and the epoch's recorded loss (before the
        // step) is ½.
        var data = TrainingData.Dense(1, [1f, 1f, 1f, 1f], [1f, 1f, 1f, 1f], null);

        var error = Assert.Throws<InvalidOperationException>(() => new TrainingLoop(new SquaredObjective(),
            new TrainingOptions { Optimizer = new Sgd(1.5), NumberOfEpochs = 1, L2Regularization = 0 }).Train(data));

        Assert.Contains("training loss of 2, worse than the all-zero model's 0.5", error.Message);
        Assert.Contains("smaller learning rate", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_learning_rate_of_zero_passes_the_final_check_from_zero_and_from_a_warm_start_worse_than_zero(bool streamed)
    {
        // The check accepts a model no worse than the all-zero model or, for a warm start, than its start: a run that
        // deliberately does not move returns its starting point.
        var data = Regression(featureScale: 1, labelScale: 1);
        var options = new TrainingOptions { Optimizer = new Sgd(0), BatchSize = 32, NumberOfEpochs = 2, L2Regularization = 0 };
        float[] badStart = [5f, -5f, 5f, 20f];

        Assert.Equal(new float[4], Train(new SquaredObjective(), options, data, streamed).Parameters);
        Assert.Equal(badStart, Train(new SquaredObjective(), options, data, streamed, badStart).Parameters);
    }

    [Theory]
    [InlineData(1e-8)]
    [InlineData(1e-9)]
    public void Lbfgs_regression_on_tiny_labels_stops_with_an_error_instead_of_returning_the_all_zero_model(double labelScale)
    {
        // The gradient at the zero start (a few times labelScale) is below PyTorch's absolute tolerance_grad of 1e-7: before,
        // the run "converged" there before its first iteration, R² = 0, with no error. (At 1e-6 the first iteration's
        // directional derivative is below tolerance_change instead, which the no-progress check already refuses.)
        var data = Regression(featureScale: 1, labelScale: labelScale);
        var options = new TrainingOptions { Optimizer = new Lbfgs(), NumberOfEpochs = 100 };

        var error = Assert.Throws<InvalidOperationException>(() => new TrainingLoop(new SquaredObjective(), options).Train(data));

        Assert.Contains("below GradientTolerance", error.Message);
        Assert.Contains("Scale the labels", error.Message);
    }

    [Fact]
    public void Lbfgs_regression_on_tiny_labels_fits_them_with_tolerances_below_their_scale()
    {
        // The error's second remedy works: the tolerance is the only thing between these labels and their fit.
        var data = Regression(featureScale: 1, labelScale: 1e-9);
        var objective = new SquaredObjective();
        var options = new TrainingOptions { Optimizer = new Lbfgs(gradientTolerance: 1e-20, changeTolerance: 1e-30), NumberOfEpochs = 100 };

        var result = new TrainingLoop(objective, options).Train(data);

        double rSquared = 1 - (objective.Loss(data, result.Parameters) / objective.Loss(data, new float[4]));
        Assert.True(rSquared > 0.99, $"R² {rSquared}");
    }

    [Theory]
    [InlineData(1e19)]
    [InlineData(1e25)]
    public void Lbfgs_regression_on_huge_labels_fits_them(double labelScale)
    {
        var data = Regression(featureScale: 1, labelScale: labelScale);
        var objective = new SquaredObjective();

        var result = new TrainingLoop(objective, new TrainingOptions { Optimizer = new Lbfgs(), NumberOfEpochs = 100 }).Train(data);

        // R² = 1 − loss / (the zero-mean labels' loss at the all-zero model), close to 1 as at label scale 1.
        double rSquared = 1 - (objective.Loss(data, result.Parameters) / objective.Loss(data, new float[4]));
        Assert.True(rSquared > 0.99, $"R² {rSquared}");
    }
}
