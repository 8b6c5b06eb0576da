using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// What the final model check needs to know about the training rows, gathered chunk by chunk: the largest |x| of any feature
/// value (which bounds every score), and the all-zero model's weighted loss (the baseline a trained model must not be worse
/// than).
/// </summary>
internal sealed class DataSummary
{
    /// <summary>max over the rows and features of |x_ij|.</summary>
    public float FeatureMagnitude { get; private set; }

    /// <summary>Σ wᵢ·ℓ(0, yᵢ), the all-zero model's weighted loss sum.</summary>
    public double ZeroModelLossSum { get; private set; }

    /// <summary>Σ wᵢ.</summary>
    public double Weight { get; private set; }

    /// <summary>Adds the rows of <paramref name="chunk"/>.</summary>
    public void Add(LinearObjective objective, TrainingData chunk)
    {
        FeatureMagnitude = Math.Max(FeatureMagnitude, chunk.FeatureMagnitude);
        double mean = objective.ZeroModelLoss(chunk, out double weight);
        ZeroModelLossSum += mean * weight;
        Weight += weight;
    }
}
