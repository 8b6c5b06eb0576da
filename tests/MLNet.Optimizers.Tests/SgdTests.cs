using MLNet.Optimizers;

namespace MLNet.Optimizers.Tests;

public class SgdTests
{
    [Fact]
    public void Sgd_momentum_buffer_starts_at_first_gradient_so_dampening_skips_step_one()
    {
        // θ0 = 1, γ = 0.1, μ = 0.9, τ = 0.5, gradients 1 then 2 then 3.
        // t=1: b = 1                 θ = 1 − 0.1·1      = 0.9
        // t=2: b = 0.9·1 + 0.5·2 = 1.9   θ = 0.9 − 0.19   = 0.71
        // t=3: b = 0.9·1.9 + 0.5·3 = 3.21 θ = 0.71 − 0.321 = 0.389
        var sgd = new Sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.5);
        float[] theta = [1f];
        var state = sgd.CreateState(1);
        foreach (float g in new[] { 1f, 2f, 3f })
        {
            sgd.Step(theta, [g], state);
        }

        Assert.Equal(0.389, theta[0], 1e-6);
        Assert.Equal(3.21, state.Vector("momentum_buffer")[0], 1e-6);
    }
}
