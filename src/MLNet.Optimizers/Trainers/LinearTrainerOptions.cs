using System.Runtime.CompilerServices;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// Options shared by <see cref="LogisticRegressionTrainer"/>, <see cref="SoftmaxRegressionTrainer"/> and
/// <see cref="LinearRegressionTrainer"/>: the optimizer and the training loop (inherited from <see cref="TrainingOptions"/>, with
/// its <see cref="TrainingOptions.Defaults"/>), plus what only ML.NET needs: the columns and whether to cache the data.
/// </summary>
/// <remarks>The trainers check the options and copy them at construction (later changes have no effect); a null
/// <see cref="TrainingOptions.Seed"/> is drawn from the <c>MLContext</c>, and the progress lines go to <c>MLContext.Log</c> as
/// well as to <see cref="TrainingOptions.Log"/>.</remarks>
public abstract class LinearTrainerOptions : TrainingOptions
{
    /// <summary>The label column. Binary: Boolean; multiclass: a key of known cardinality; regression: Single.</summary>
    /// <value>Default <c>"Label"</c>.</value>
    public string LabelColumnName = "Label";

    /// <summary>The feature column: a known-size vector of Single (dense or sparse); every value must be finite.</summary>
    /// <value>Default <c>"Features"</c>.</value>
    public string FeatureColumnName = "Features";

    /// <summary>The optional example-weight column: Single, finite and ≥ 0. The data loss is the weighted mean Σwᵢ·lossᵢ / Σwᵢ.</summary>
    /// <value>Default null (every row weighs 1).</value>
    public string? ExampleWeightColumnName;

    /// <summary>Whether <c>Fit</c> reads the data once into memory (true) or streams it (false), for data larger than RAM.
    /// Streaming reads the <c>IDataView</c> again on every epoch (with <see cref="TrainingOptions.Shuffle"/>, through a cursor shuffled with a
    /// seed derived from <see cref="TrainingOptions.Seed"/> and the epoch, when the view can shuffle; otherwise in the view's order), so memory
    /// is bounded by one batch (<see cref="TrainingOptions.BatchSize"/> rows; full-batch passes, L-BFGS evaluations and validation read
    /// 4,096 rows at a time) instead of the whole data set. Every transform upstream is re-run on every pass: put expensive
    /// transforms before a cache checkpoint (<c>AppendCacheCheckpoint</c>) or keep caching. L-BFGS reads the data once per
    /// objective evaluation (at least once per iteration). Validation data passed to <c>Fit</c> is streamed too;
    /// <see cref="TrainingOptions.ValidationFraction"/> needs the data in memory and is rejected when streaming. With the same batches in the
    /// same order, mini-batch training gives the same parameters as with caching.</summary>
    /// <value>Default true.</value>
    public bool CacheData = true;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An option is invalid, or <see cref="TrainingOptions.ValidationFraction"/> is set with
    /// <see cref="CacheData"/> = false.</exception>
    public override void Validate()
    {
        CheckColumnName(LabelColumnName);
        CheckColumnName(FeatureColumnName);
        if (ExampleWeightColumnName is { Length: 0 })
        {
            throw new ArgumentOutOfRangeException(nameof(ExampleWeightColumnName),
                "ExampleWeightColumnName must be null (no weights) or a column name; got an empty string.");
        }

        base.Validate();
        if (!CacheData && ValidationFraction is double fraction)
        {
            throw new ArgumentException(
                $"ValidationFraction = {fraction} cannot be used with CacheData = false: splitting off validation rows needs the data in memory. " +
                "Pass validation data to Fit(trainData, validationData) (it is streamed too), or set CacheData = true.",
                nameof(ValidationFraction));
        }
    }

    private static void CheckColumnName(string? value, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentOutOfRangeException(name, $"{name} must name a column; got {(value is null ? "null" : "an empty string")}.");
        }
    }
}
