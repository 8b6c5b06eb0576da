using System.Numerics.Tensors;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// What the final model check needs to know about the training rows, gathered chunk by chunk: the largest |x_j| of every
/// feature (which bounds every score), and the all-zero model's weighted loss (the baseline a trained model must not be worse
/// than).
/// </summary>
internal sealed class DataSummary
{
    /// <summary>max over the rows of |x_j|, per feature; empty before the first chunk.</summary>
    public float[] FeatureMagnitudes { get; private set; } = [];

    /// <summary>Σ wᵢ·ℓ(0, yᵢ), the all-zero model's weighted loss sum.</summary>
    public double ZeroModelLossSum { get; private set; }

    /// <summary>Σ wᵢ.</summary>
    public double Weight { get; private set; }

    /// <summary>Adds the rows of <paramref name="chunk"/>.</summary>
    public void Add(LinearObjective objective, TrainingData chunk)
    {
        if (FeatureMagnitudes.Length != chunk.FeatureCount)
        {
            FeatureMagnitudes = new float[chunk.FeatureCount];
        }

        TensorPrimitives.Max(FeatureMagnitudes, chunk.FeatureMagnitudes, FeatureMagnitudes);
        double mean = objective.ZeroModelLoss(chunk, out double weight);
        ZeroModelLossSum += mean * weight;
        Weight += weight;
    }
}
