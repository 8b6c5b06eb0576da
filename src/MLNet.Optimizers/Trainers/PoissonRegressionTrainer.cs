using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// Poisson regression (a log-linear model of counts) trained by any optimizer strategy; returns the same model type as ML.NET's
/// <c>LbfgsPoissonRegression</c>.
/// </summary>
/// <remarks>
/// <para><b>Trainer characteristics:</b> task regression; label Single, finite and ≥ 0 (counts or rates); features known-size
/// vector of Single; normalization required (yes); caching (read once into memory); extra NuGet none; ONNX export yes.</para>
/// <para><b>Scoring:</b> Score = exp(w·x + b), the predicted mean count.</para>
/// <para><b>Objective</b> (N = Σᵢ wᵢ; the bias is never penalised; log Γ(y + 1) = log y! is a constant, reported in the loss
/// but without effect on the optimum):</para>
/// <code>
/// minimise (1/N)·Σᵢ wᵢ·(exp(w·xᵢ + b) − yᵢ·(w·xᵢ + b) + log Γ(yᵢ + 1)) + (L2/2)·‖w‖² + L1·‖w‖₁
/// </code>
/// <para>ML.NET's <c>LbfgsPoissonRegression</c> minimises the same mean with its L2 divided by N and its L1 divided by the row
/// count: our <c>L2Regularization = c</c> is its <c>c·N</c> (likewise L1 with unit example weights).</para>
/// </remarks>
public sealed class PoissonRegressionTrainer
    : LinearTrainerBase<RegressionPredictionTransformer<PoissonRegressionModelParameters>, PoissonRegressionModelParameters>
{
    /// <summary>Options for <see cref="PoissonRegressionTrainer"/>; the label column must be Single with values ≥ 0.</summary>
    public sealed class Options : LinearTrainerOptions
    {
    }

    /// <summary>Creates the trainer; the options are checked and copied here (later changes to them have no effect).</summary>
    /// <param name="mlContext">The context: its log receives progress, its seed drives <see cref="TrainingOptions.Seed"/> when that is null.</param>
    /// <param name="options">The options.</param>
    public PoissonRegressionTrainer(MLContext mlContext, Options options)
        : this((IHostEnvironment)mlContext, options)
    {
    }

    internal PoissonRegressionTrainer(IHostEnvironment environment, Options options)
        : base(environment, options, nameof(PoissonRegressionTrainer))
    {
    }

    /// <summary>Continues training from <paramref name="modelParameters"/> (its weights and bias are the starting point).</summary>
    /// <param name="trainData">The training data.</param>
    /// <param name="modelParameters">A model with as many weights as the data has features, e.g. from a previous <c>Fit</c> or
    /// ML.NET's <c>LbfgsPoissonRegression</c>.</param>
    public RegressionPredictionTransformer<PoissonRegressionModelParameters> Fit(IDataView trainData, PoissonRegressionModelParameters modelParameters) =>
        FitFromLinearModel(trainData, modelParameters);

    private protected override LabelKind LabelKind => LabelKind.Count;

    private protected override LinearObjective CreateObjective(int classCount) => new PoissonObjective();

    private protected override ITrainerEstimator<IPredictionTransformer<object>, object> CreateSchemaOracle(MLContext context, LinearTrainerOptions options) =>
        context.Regression.Trainers.LbfgsPoissonRegression(options.LabelColumnName, options.FeatureColumnName, options.ExampleWeightColumnName);

    private protected override RegressionPredictionTransformer<PoissonRegressionModelParameters> CreateTransformer(IHostEnvironment environment,
        LinearModelLayout layout, float[] parameters, string[]? labelNames, DataViewSchema trainSchema)
    {
        var (weightRows, biases) = Split(layout, parameters);
        PoissonRegressionModelParameters model = MlNetModelFactory.PoissonRegression(environment, weightRows[0], biases[0]);
        return MlNetModelFactory.PoissonRegressionTransformer(environment, model, trainSchema, FeatureColumnName);
    }
}
