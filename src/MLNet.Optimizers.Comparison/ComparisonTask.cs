namespace MLNet.Optimizers.Comparison;

/// <summary>The machine-learning task a comparison trains and scores, which picks the trainer and the metrics.</summary>
public enum ComparisonTask
{
    /// <summary>
    /// Two classes; a label with exactly two values of any type (a Boolean label is used as is; otherwise the larger value —
    /// numerically, or in case-insensitive ordinal order for text, so 1, true, yes and M — is the positive class); logistic
    /// regression; AUC, accuracy, log-loss.
    /// </summary>
    BinaryClassification,

    /// <summary>K classes; key label (any other label type is mapped to keys by value); softmax regression; macro/micro accuracy, log-loss.</summary>
    MulticlassClassification,

    /// <summary>A real-valued Single label; linear regression; RMSE and R².</summary>
    Regression,
}
