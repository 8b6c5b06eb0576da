using System.Numerics.Tensors;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>The penalties on the weights (never the biases): <c>(λ₂/2)·‖W‖²</c> through the gradient, <c>λ₁·‖W‖₁</c> through a
/// proximal step after the optimizer's step.</summary>
/// <param name="layout">Where the weights are in the parameter vector.</param>
/// <param name="l2">λ₂ ≥ 0.</param>
/// <param name="l1">λ₁ ≥ 0.</param>
internal sealed class WeightPenalty(LinearModelLayout layout, double l2, double l1)
{
    /// <summary>(λ₂/2)·‖W‖², the L2 term of the objective.</summary>
    public double L2Value(ReadOnlySpan<float> parameters)
    {
        if (l2 == 0)
        {
            return 0;
        }

        var weights = layout.Weights(parameters);
        return 0.5 * l2 * LbfgsMath.Dot(weights, weights);
    }

    /// <summary>λ₁·‖W‖₁, the L1 term of the objective.</summary>
    public double L1Value(ReadOnlySpan<float> parameters) => l1 == 0 ? 0 : l1 * LbfgsMath.SumAbs(layout.Weights(parameters));

    /// <summary>g_W ← g_W + λ₂·W.</summary>
    public void AddL2Gradient(ReadOnlySpan<float> parameters, Span<float> gradient)
    {
        if (l2 != 0)
        {
            var g = layout.Weights(gradient);
            TensorPrimitives.MultiplyAdd(layout.Weights(parameters), (float)l2, g, g);
        }
    }

    /// <summary>w ← sign(w)·max(|w| − lr·λ₁, 0): the proximal step of λ₁·‖W‖₁, which sets small weights exactly to zero.</summary>
    public void ApplyL1Proximal(Span<float> parameters, double learningRate)
    {
        if (l1 == 0)
        {
            return;
        }

        float threshold = (float)(learningRate * l1);
        foreach (ref float w in layout.Weights(parameters))
        {
            float shrunk = MathF.Abs(w) - threshold;
            w = shrunk > 0 ? MathF.CopySign(shrunk, w) : 0f;
        }
    }
}
