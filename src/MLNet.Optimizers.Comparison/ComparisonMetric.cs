namespace MLNet.Optimizers.Comparison;

/// <summary>A metric computed by ML.NET's evaluators on each held-out fold.</summary>
public enum ComparisonMetric
{
    /// <summary>Area under the ROC curve (binary; higher is better).</summary>
    AreaUnderRocCurve,

    /// <summary>Fraction of rows classified correctly (binary; higher is better).</summary>
    Accuracy,

    /// <summary>Mean negative log-likelihood of the true class (binary and multiclass; lower is better).</summary>
    LogLoss,

    /// <summary>Mean over classes of the per-class accuracy (multiclass; higher is better).</summary>
    MacroAccuracy,

    /// <summary>Fraction of rows classified correctly (multiclass; higher is better).</summary>
    MicroAccuracy,

    /// <summary>Coefficient of determination R² (regression; higher is better).</summary>
    RSquared,

    /// <summary>Root of the mean squared error (regression; lower is better).</summary>
    RootMeanSquaredError,
}

/// <summary>Which metrics belong to which task, and which way is better.</summary>
public static class ComparisonMetrics
{
    /// <summary>The metrics reported for <paramref name="task"/>, in the order reports show them.</summary>
    /// <param name="task">The comparison task.</param>
    public static IReadOnlyList<ComparisonMetric> For(ComparisonTask task) => task switch
    {
        ComparisonTask.BinaryClassification => [ComparisonMetric.AreaUnderRocCurve, ComparisonMetric.Accuracy, ComparisonMetric.LogLoss],
        ComparisonTask.MulticlassClassification => [ComparisonMetric.MacroAccuracy, ComparisonMetric.MicroAccuracy, ComparisonMetric.LogLoss],
        ComparisonTask.Regression => [ComparisonMetric.RSquared, ComparisonMetric.RootMeanSquaredError],
        _ => throw new ArgumentOutOfRangeException(nameof(task), $"Unknown comparison task {task}."),
    };

    /// <summary>The default primary metric: AUC (binary), macro accuracy (multiclass), R² (regression).</summary>
    /// <param name="task">The comparison task.</param>
    public static ComparisonMetric DefaultFor(ComparisonTask task) => For(task)[0];

    /// <summary>True when a larger value of <paramref name="metric"/> is better (false for log-loss and RMSE).</summary>
    /// <param name="metric">The metric.</param>
    public static bool IsHigherBetter(ComparisonMetric metric) =>
        metric is not (ComparisonMetric.LogLoss or ComparisonMetric.RootMeanSquaredError);

    /// <summary>The short column title used in reports, e.g. <c>AUC</c>.</summary>
    /// <param name="metric">The metric.</param>
    public static string ShortName(ComparisonMetric metric) => metric switch
    {
        ComparisonMetric.AreaUnderRocCurve => "AUC",
        ComparisonMetric.Accuracy => "Accuracy",
        ComparisonMetric.LogLoss => "LogLoss",
        ComparisonMetric.MacroAccuracy => "MacroAccuracy",
        ComparisonMetric.MicroAccuracy => "MicroAccuracy",
        ComparisonMetric.RSquared => "R2",
        ComparisonMetric.RootMeanSquaredError => "RMSE",
        _ => metric.ToString(),
    };
}
