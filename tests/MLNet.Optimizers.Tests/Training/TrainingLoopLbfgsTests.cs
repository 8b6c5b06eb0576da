using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Tests.Training;

public class TrainingLoopLbfgsTests
{
    [Theory]
    [InlineData(LabelKind.Binary)]
    [InlineData(LabelKind.Multiclass)]
    [InlineData(LabelKind.Regression)]
    public void Lbfgs_reaches_the_stationary_point_of_the_L2_regularised_objective(LabelKind kind)
    {
        const double l2 = 0.01;
        var data = SyntheticData.Create(kind, rowCount: 300, featureCount: 5, seed: 31, weighted: true).Dense();
        var objective = ObjectiveTests.Create(kind);

        var result = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new Lbfgs(),
            NumberOfEpochs = 100,
            L2Regularization = l2,
        }).Train(data);

        // ∇J = ∇(data loss) + λ₂·W (biases unpenalised) must vanish at the optimum; L-BFGS stops at max|∇J| ≤ 1e-7 (its
        // default) or when the loss stops changing, so 1e-4 is a loose but meaningful bound (the start has max|∇J| ≈ 0.1–1).
        var gradient = new float[result.Layout.ParameterCount];
        objective.LossAndGradient(data, result.Parameters, gradient);
        int weightCount = result.Layout.WeightCount;
        for (int i = 0; i < gradient.Length; i++)
        {
            double full = gradient[i] + (i < weightCount ? l2 * result.Parameters[i] : 0);
            Assert.True(Math.Abs(full) < 1e-4, $"∂J/∂θ[{i}] = {full}");
        }
    }

    [Fact]
    public void One_epoch_is_one_iteration_reporting_the_data_loss_at_the_new_iterate()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 200, featureCount: 4, seed: 32).Dense();
        var objective = new LogisticObjective();
        var reports = new List<EpochReport>();
        TrainingOptions Options(int epochs, Action<EpochReport>? onEpochEnd) => new()
        {
            Optimizer = new Lbfgs(),
            NumberOfEpochs = epochs,
            L2Regularization = 0.1,
            OnEpochEnd = onEpochEnd,
        };

        var result = new TrainingLoop(objective, Options(4, reports.Add)).Train(data);

        Assert.Equal([1, 2, 3, 4], reports.Select(r => r.Epoch));
        Assert.Equal([1L, 2L, 3L, 4L], reports.Select(r => r.Steps));
        // TrainingLoss excludes the penalty: it is the plain data loss at the parameters after the iteration.
        double expected = objective.Loss(data, result.Parameters);
        Assert.Equal(expected, reports[^1].TrainingLoss, expected * 1e-12);
        var twoEpochs = new TrainingLoop(objective, Options(2, null)).Train(data);
        Assert.Equal(objective.Loss(data, twoEpochs.Parameters), reports[1].TrainingLoss, expected * 1e-12);
    }

    [Fact]
    public void Lbfgs_early_stopping_returns_the_best_iteration()
    {
        // As in the first-order test: validation targets are half the training targets, so validation improves, then worsens.
        var synthetic = SyntheticData.Create(LabelKind.Regression, rowCount: 200, featureCount: 4, seed: 33, zeroFraction: 0);
        var validation = TrainingData.Dense(4, (float[])synthetic.Features.Clone(), [.. synthetic.Labels.Select(y => 0.5f * y)], null);
        TrainingOptions Options(int epochs) => new()
        {
            Optimizer = new Lbfgs(lineSearch: LineSearch.None, learningRate: 0.05),
            NumberOfEpochs = epochs,
            L2Regularization = 0,
            EarlyStoppingPatience = 2,
        };

        var result = new TrainingLoop(new SquaredObjective(), Options(100)).Train(synthetic.Dense(), validation);

        Assert.True(result.StoppedEarly);
        Assert.InRange(result.BestEpoch, 2, 90);
        Assert.Equal(result.BestEpoch + 2, result.History.Count);
        var rerun = new TrainingLoop(new SquaredObjective(), Options(result.BestEpoch)).Train(synthetic.Dense(), validation);
        Assert.Equal(rerun.Parameters, result.Parameters);
    }

    [Fact]
    public void Lbfgs_with_L1_zeroes_weights_and_reports_the_data_loss()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 300, featureCount: 8, seed: 35, informativeFeatures: 3).Dense();
        var objective = new LogisticObjective();
        var reports = new List<EpochReport>();

        var result = new TrainingLoop(objective, new TrainingOptions
        {
            Optimizer = new Lbfgs(), NumberOfEpochs = 200, L1Regularization = 0.05, L2Regularization = 0.01, OnEpochEnd = reports.Add,
        }).Train(data);

        Assert.Contains(0f, result.Parameters[..result.Layout.WeightCount]);
        double expected = objective.Loss(data, result.Parameters);
        Assert.Equal(expected, reports[^1].TrainingLoss, expected * 1e-12);
    }

    [Fact]
    public void Lbfgs_cancellation_throws()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 100, featureCount: 3, seed: 34).Dense();
        using var cancellation = new CancellationTokenSource();
        var trainer = new TrainingLoop(new LogisticObjective(), new TrainingOptions
        {
            Optimizer = new Lbfgs(),
            NumberOfEpochs = 50,
            L2Regularization = 0.01,
            CancellationToken = cancellation.Token,
            OnEpochEnd = report =>
            {
                if (report.Epoch == 2)
                {
                    cancellation.Cancel();
                }
            },
        });

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(data));
    }
}
