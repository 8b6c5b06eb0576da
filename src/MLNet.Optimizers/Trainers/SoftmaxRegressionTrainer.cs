using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// Multiclass softmax (multinomial logistic) regression trained by any optimizer strategy; returns the same model type as ML.NET's
/// <c>LbfgsMaximumEntropy</c>.
/// </summary>
/// <remarks>
/// <para><b>Trainer characteristics:</b> task multiclass classification; label a key type of known cardinality K (use
/// <c>MapValueToKey</c>); features known-size vector of Single; normalization required (yes); caching (read once into memory);
/// extra NuGet none; ONNX export yes.</para>
/// <para><b>Scoring:</b> s_k = W_k·x + b_k; Score = softmax(s); PredictedLabel = argmax. The label's text key values are stored in
/// the model as ML.NET's L-BFGS trainer stores them.</para>
/// <para><b>Objective</b> (N = Σᵢ wᵢ; the biases are never penalised):</para>
/// <code>
/// minimise (1/N)·Σᵢ wᵢ·(−log softmax(W·xᵢ + b)[yᵢ]) + (L2/2)·‖W‖² + L1·‖W‖₁
/// </code>
/// <para>ML.NET's <c>LbfgsMaximumEntropy</c> minimises N times this: our <c>L2Regularization = c</c> is its <c>c·N</c>.</para>
/// </remarks>
public sealed class SoftmaxRegressionTrainer
    : LinearTrainerBase<MulticlassPredictionTransformer<MaximumEntropyModelParameters>, MaximumEntropyModelParameters>
{
    /// <summary>Options for <see cref="SoftmaxRegressionTrainer"/>; the label column must be a key type.</summary>
    public sealed class Options : LinearTrainerOptions
    {
    }

    /// <summary>Creates the trainer; the options are checked and copied here (later changes to them have no effect).</summary>
    /// <param name="mlContext">The context: its log receives progress, its seed drives <see cref="TrainingOptions.Seed"/> when that is null.</param>
    /// <param name="options">The options.</param>
    public SoftmaxRegressionTrainer(MLContext mlContext, Options options)
        : this((IHostEnvironment)mlContext, options)
    {
    }

    internal SoftmaxRegressionTrainer(IHostEnvironment environment, Options options)
        : base(environment, options, nameof(SoftmaxRegressionTrainer))
    {
    }

    /// <summary>Continues training from <paramref name="modelParameters"/> (its weights and biases are the starting point).</summary>
    /// <param name="trainData">The training data.</param>
    /// <param name="modelParameters">A model with as many classes as the label key and as many features as the data.</param>
    public MulticlassPredictionTransformer<MaximumEntropyModelParameters> Fit(IDataView trainData, MaximumEntropyModelParameters modelParameters)
    {
        ArgumentNullException.ThrowIfNull(modelParameters);
        VBuffer<float>[] rows = [];
        modelParameters.GetWeights(ref rows, out int classCount);
        int featureCount = rows.Length == 0 ? 0 : rows[0].Length;
        var parameters = new float[classCount * featureCount + classCount];
        for (int k = 0; k < classCount; k++)
        {
            rows[k].CopyTo(parameters.AsSpan(k * featureCount, featureCount));
        }

        modelParameters.GetBiases().ToArray().CopyTo(parameters.AsSpan(classCount * featureCount));
        return FitCore(trainData, null, new WarmStart(classCount, featureCount, parameters));
    }

    private protected override LabelKind LabelKind => LabelKind.Multiclass;

    private protected override LinearObjective CreateObjective(int classCount) => new SoftmaxObjective(classCount);

    private protected override ITrainerEstimator<IPredictionTransformer<object>, object> CreateSchemaOracle(MLContext context, LinearTrainerOptions options) =>
        context.MulticlassClassification.Trainers.LbfgsMaximumEntropy(options.LabelColumnName, options.FeatureColumnName, options.ExampleWeightColumnName);

    private protected override MulticlassPredictionTransformer<MaximumEntropyModelParameters> CreateTransformer(IHostEnvironment environment,
        LinearModelLayout layout, float[] parameters, string[]? labelNames, DataViewSchema trainSchema)
    {
        var (weightRows, biases) = Split(layout, parameters);
        MaximumEntropyModelParameters model = MlNetModelFactory.MaximumEntropy(environment, weightRows, biases, layout.FeatureCount, labelNames);
        return MlNetModelFactory.MulticlassTransformer(environment, model, trainSchema, FeatureColumnName, LabelColumnName);
    }
}
