using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Tests.Trainers;
using MLNet.Optimizers.Training;
using MLNet.Optimizers.Trainers;
using LabelKind = MLNet.Optimizers.Tests.Support.LabelKind;

namespace MLNet.Optimizers.Tests.Training;

/// <summary><see cref="TrainingResult.StopReason"/> and the trainers' warning when L-BFGS runs out of epochs.</summary>
public class LbfgsStopReasonTests
{
    [Fact]
    public void The_result_says_why_Lbfgs_stopped_and_first_order_rules_have_no_stop_reason()
    {
        var data = SyntheticData.Create(LabelKind.Binary, rowCount: 300, featureCount: 5, seed: 8).Dense();
        TrainingResult Run(IOptimizer optimizer, int epochs, int? patience = null) =>
            new TrainingLoop(new LogisticObjective(), new TrainingOptions
            {
                Optimizer = optimizer,
                NumberOfEpochs = epochs,
                L2Regularization = 0.01,
                EarlyStoppingPatience = patience,
                EarlyStoppingTolerance = 1,
            }).Train(data);

        var cutShort = Run(new Lbfgs(), epochs: 2);
        Assert.Equal(LbfgsStopReason.MaxIterations, cutShort.StopReason);
        Assert.False(cutShort.Converged);

        // With L2 the objective is strongly convex: far fewer than 200 iterations reach a tolerance.
        var converged = Run(new Lbfgs(), epochs: 200);
        Assert.True(converged.Converged, $"stopped by {converged.StopReason} after {converged.History.Count} iterations");
        Assert.True(converged.History.Count < 200);

        // A tolerance of 1 can never be beaten, so patience 1 stops after epoch 2 through the iteration callback.
        Assert.Equal(LbfgsStopReason.StoppedByCallback, Run(new Lbfgs(), epochs: 50, patience: 1).StopReason);

        var sgd = Run(new Sgd(0.1), epochs: 2);
        Assert.Null(sgd.StopReason);
        Assert.False(sgd.Converged);
    }

    [Fact]
    public void Trainers_warn_through_the_context_log_when_Lbfgs_stops_at_NumberOfEpochs()
    {
        var mlContext = new MLContext(seed: 1);
        var warnings = new List<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Warning)
            {
                lock (warnings)
                {
                    warnings.Add(e.Message);
                }
            }
        };
        var data = TrainingBehaviourTests.Featurized(mlContext, "breast_cancer", DataKind.Boolean, keyLabel: false);
        LogisticRegressionTrainer Trainer(int epochs) => new(mlContext, new() { NumberOfEpochs = epochs, L2Regularization = 0.01 });

        Trainer(2).Fit(data);
        Assert.Contains(warnings, message => message.Contains("NumberOfEpochs = 2") && message.Contains("Increase NumberOfEpochs"));

        warnings.Clear();
        Trainer(300).Fit(data);
        Assert.DoesNotContain(warnings, message => message.Contains("Increase NumberOfEpochs"));
    }
}
