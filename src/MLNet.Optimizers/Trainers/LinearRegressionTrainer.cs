using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// Least-squares linear regression (ridge / lasso / elastic net through the penalties) trained by any optimizer strategy; returns
/// the same model type as ML.NET's <c>Sdca</c> and <c>OnlineGradientDescent</c> regression trainers.
/// </summary>
/// <remarks>
/// <para><b>Trainer characteristics:</b> task regression; label Single; features known-size vector of Single; normalization
/// required (yes); caching (read once into memory); extra NuGet none; ONNX export yes.</para>
/// <para><b>Scoring:</b> Score = w·x + b.</para>
/// <para><b>Objective</b> (N = Σᵢ wᵢ; the bias is never penalised; note the ½ on the squared error):</para>
/// <code>
/// minimise (1/N)·Σᵢ wᵢ·½(w·xᵢ + b − yᵢ)² + (L2/2)·‖w‖² + L1·‖w‖₁
/// </code>
/// </remarks>
public sealed class LinearRegressionTrainer
    : LinearTrainerBase<RegressionPredictionTransformer<LinearRegressionModelParameters>, LinearRegressionModelParameters>
{
    /// <summary>Options for <see cref="LinearRegressionTrainer"/>; the label column must be Single.</summary>
    public sealed class Options : LinearTrainerOptions
    {
    }

    /// <summary>Creates the trainer; the options are checked and copied here (later changes to them have no effect).</summary>
    /// <param name="mlContext">The context: its log receives progress, its seed drives <see cref="TrainingOptions.Seed"/> when that is null.</param>
    /// <param name="options">The options.</param>
    public LinearRegressionTrainer(MLContext mlContext, Options options)
        : this((IHostEnvironment)mlContext, options)
    {
    }

    internal LinearRegressionTrainer(IHostEnvironment environment, Options options)
        : base(environment, options, nameof(LinearRegressionTrainer))
    {
    }

    /// <summary>Continues training from <paramref name="modelParameters"/> (its weights and bias are the starting point).</summary>
    /// <param name="trainData">The training data.</param>
    /// <param name="modelParameters">A model with as many weights as the data has features.</param>
    public RegressionPredictionTransformer<LinearRegressionModelParameters> Fit(IDataView trainData, LinearRegressionModelParameters modelParameters) =>
        FitFromLinearModel(trainData, modelParameters);

    private protected override LabelKind LabelKind => LabelKind.Regression;

    private protected override LinearObjective CreateObjective(int classCount) => new SquaredObjective();

    private protected override ITrainerEstimator<IPredictionTransformer<object>, object> CreateSchemaOracle(MLContext context, LinearTrainerOptions options) =>
        context.Regression.Trainers.Sdca(options.LabelColumnName, options.FeatureColumnName, options.ExampleWeightColumnName);

    private protected override RegressionPredictionTransformer<LinearRegressionModelParameters> CreateTransformer(IHostEnvironment environment,
        LinearModelLayout layout, float[] parameters, string[]? labelNames, DataViewSchema trainSchema)
    {
        var (weightRows, biases) = Split(layout, parameters);
        LinearRegressionModelParameters model = MlNetModelFactory.LinearRegression(environment, weightRows[0], biases[0]);
        return MlNetModelFactory.RegressionTransformer(environment, model, trainSchema, FeatureColumnName);
    }
}
