using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;
using CalibratedBinaryModel = Microsoft.ML.Calibrators.CalibratedModelParametersBase<Microsoft.ML.Trainers.LinearBinaryModelParameters, Microsoft.ML.Calibrators.PlattCalibrator>;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// Binary logistic regression trained by any optimizer strategy; returns the same model type as ML.NET's
/// <c>LbfgsLogisticRegression</c>, so it is a drop-in replacement in pipelines, evaluation, cross-validation, PFI and ONNX export.
/// </summary>
/// <remarks>
/// <para><b>Trainer characteristics:</b> task binary classification; label Boolean; features known-size vector of Single;
/// normalization required (yes); caching (read once into memory); extra NuGet none (scoring needs only Microsoft.ML); ONNX export yes.</para>
/// <para><b>Scoring:</b> Score = w·x + b; Probability = 1/(1 + exp(−Score)) (a Platt calibrator with slope −1 and offset 0);
/// PredictedLabel = Score &gt; 0.</para>
/// <para><b>Objective</b> (N = Σᵢ wᵢ, yᵢ ∈ {−1, +1}; the bias is never penalised):</para>
/// <code>
/// minimise (1/N)·Σᵢ wᵢ·log(1 + exp(−yᵢ·(w·xᵢ + b))) + (L2/2)·‖w‖² + L1·‖w‖₁
/// </code>
/// <para>ML.NET's L-BFGS logistic regression minimises Σᵢ wᵢ·lossᵢ + (L2ₘₗ/2)·‖w‖² + L1ₘₗ·‖w‖₁, i.e. N times ours: our
/// <c>L2Regularization = c</c> is ML.NET's <c>L2Regularization = c·N</c> (likewise L1).</para>
/// </remarks>
public sealed class LogisticRegressionTrainer
    : LinearTrainerBase<BinaryPredictionTransformer<CalibratedBinaryModel>, CalibratedBinaryModel>
{
    /// <summary>Options for <see cref="LogisticRegressionTrainer"/>; the label column must be Boolean.</summary>
    public sealed class Options : LinearTrainerOptions
    {
    }

    /// <summary>Creates the trainer; the options are checked and copied here (later changes to them have no effect).</summary>
    /// <param name="mlContext">The context: its log receives progress, its seed drives <see cref="TrainingOptions.Seed"/> when that is null.</param>
    /// <param name="options">The options.</param>
    public LogisticRegressionTrainer(MLContext mlContext, Options options)
        : this((IHostEnvironment)mlContext, options)
    {
    }

    internal LogisticRegressionTrainer(IHostEnvironment environment, Options options)
        : base(environment, options, nameof(LogisticRegressionTrainer))
    {
    }

    /// <summary>Continues training from <paramref name="modelParameters"/> (its weights and bias are the starting point).</summary>
    /// <param name="trainData">The training data.</param>
    /// <param name="modelParameters">A model with as many weights as the data has features, e.g. from a previous <c>Fit</c>.</param>
    public BinaryPredictionTransformer<CalibratedBinaryModel> Fit(IDataView trainData, LinearBinaryModelParameters modelParameters) =>
        FitFromLinearModel(trainData, modelParameters);

    /// <summary>Continues training from a calibrated model (its linear sub-model is the starting point; the calibrator is rebuilt).</summary>
    /// <param name="trainData">The training data.</param>
    /// <param name="modelParameters">A model as returned by this trainer or ML.NET's <c>LbfgsLogisticRegression</c>.</param>
    public BinaryPredictionTransformer<CalibratedBinaryModel> Fit(IDataView trainData, CalibratedBinaryModel modelParameters)
    {
        ArgumentNullException.ThrowIfNull(modelParameters);
        return Fit(trainData, modelParameters.SubModel);
    }

    private protected override LabelKind LabelKind => LabelKind.Binary;

    private protected override LinearObjective CreateObjective(int classCount) => new LogisticObjective();

    private protected override ITrainerEstimator<IPredictionTransformer<object>, object> CreateSchemaOracle(MLContext context, LinearTrainerOptions options) =>
        context.BinaryClassification.Trainers.LbfgsLogisticRegression(options.LabelColumnName, options.FeatureColumnName, options.ExampleWeightColumnName);

    private protected override BinaryPredictionTransformer<CalibratedBinaryModel> CreateTransformer(IHostEnvironment environment,
        LinearModelLayout layout, float[] parameters, string[]? labelNames, DataViewSchema trainSchema)
    {
        var (weightRows, biases) = Split(layout, parameters);
        CalibratedBinaryModel model = MlNetModelFactory.CalibratedLinearBinary(environment, weightRows[0], biases[0]);
        return MlNetModelFactory.BinaryTransformer(environment, model, trainSchema, FeatureColumnName);
    }
}
