using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers.Tests.Training;

public class GradientStepperTests
{
    [Fact]
    public void Step_clips_then_uses_the_scheduled_rate_at_the_current_step()
    {
        // Sgd γ₀ = 0.1, StepDecay(2, 0.5), clip to norm 1, θ0 = 0, gradient 10 every step:
        // each step the norm is 10 and the gradient becomes 10·1/(10 + 1e-6) = 0.9999999;
        // rates 0.1, 0.1, 0.05, 0.05, so θ = −(0.1 + 0.1 + 0.05 + 0.05)·0.9999999 = −0.29999997.
        var stepper = new GradientStepper(new Sgd(learningRate: 0.1), 1, new StepDecay(stepSize: 2, gamma: 0.5),
            GradientClipping.ByGlobalNorm(1.0));
        float[] theta = [0f];
        var rates = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            float[] gradient = [10f];
            rates.Add(stepper.Step(theta, gradient));
            Golden.AssertClose(0.9999999, gradient[0], "clipped gradient");
            Assert.Equal(10.0, stepper.LastGradientNorm);
        }

        Assert.Equal([0.1, 0.1, 0.05, 0.05], rates);
        Assert.Equal(4, stepper.State.Step);
        Assert.Equal(0.025, stepper.CurrentLearningRate);
        Golden.AssertClose(-0.29999997, theta[0], "θ");
    }

    [Fact]
    public void Without_schedule_or_clipping_the_stepper_is_the_plain_rule()
    {
        var rule = new RmsProp(momentum: 0.5);
        var stepper = new GradientStepper(rule, Golden.Theta0.Length);
        float[] theta = (float[])Golden.Theta0.Clone();
        Assert.True(double.IsNaN(stepper.LastGradientNorm));
        foreach (float[] g in Golden.Gradients)
        {
            float[] gradient = (float[])g.Clone();
            Assert.Equal(rule.LearningRate, stepper.Step(theta, gradient));
            Assert.Equal(g, gradient);
        }

        var (expected, expectedState) = Golden.Run(rule);
        Assert.Equal(expected, theta);
        Assert.Equal(expectedState.Vector("momentum_buffer"), stepper.State.Vector("momentum_buffer"));
        Assert.Equal(GradientClipping.GlobalNorm(Golden.Gradients[^1]), stepper.LastGradientNorm);
    }

    [Fact]
    public void Evaluation_point_of_a_plain_rule_is_the_parameters()
    {
        var stepper = new GradientStepper(new Sgd(), 3);
        float[] destination = new float[3];
        stepper.WriteEvaluationPoint([1f, 2f, 3f], destination);
        Assert.Equal([1f, 2f, 3f], destination);
    }

    [Fact]
    public void Mismatched_lengths_are_rejected_with_both_sizes_before_anything_changes()
    {
        var stepper = new GradientStepper(new Sgd(), 3);
        var wrongGradient = Assert.Throws<ArgumentException>(() => stepper.Step(new float[3], new float[2]));
        Assert.Equal("gradient", wrongGradient.ParamName);
        Assert.Contains("2", wrongGradient.Message);
        var wrongParameters = Assert.Throws<ArgumentException>(() => stepper.Step(new float[4], new float[4]));
        Assert.Contains("3", wrongParameters.Message);
        Assert.Equal(0, stepper.State.Step);
    }

    [Fact]
    public void Restore_rejects_a_snapshot_of_another_rule()
    {
        var sgd = new GradientStepper(new Sgd(momentum: 0.9), 2);
        using var stream = new MemoryStream();
        sgd.Save(stream);
        stream.Position = 0;

        var adagrad = new GradientStepper(new Adagrad(), 2);
        var error = Assert.Throws<InvalidDataException>(() => adagrad.Restore(stream));
        Assert.Contains("Sgd", error.Message);
    }
}
