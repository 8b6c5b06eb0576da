using Microsoft.ML;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// <c>mlContext.BinaryClassification.Trainers.LogisticRegression(...)</c>,
/// <c>mlContext.MulticlassClassification.Trainers.SoftmaxRegression(...)</c>,
/// <c>mlContext.Regression.Trainers.LinearRegression(...)</c> and <c>mlContext.Regression.Trainers.PoissonRegression(...)</c>:
/// the trainers of this library on ML.NET's catalogs. Each comes as a
/// simple overload (columns plus the most-used settings, defaulting to <see cref="TrainingOptions.Defaults"/>) and an
/// overload taking the full options. The trainers log to, and draw their default seed from, the catalog's <c>MLContext</c>.
/// </summary>
public static class TrainerCatalogExtensions
{
    /// <summary>Binary logistic regression trained by <paramref name="optimizer"/>; see <see cref="LogisticRegressionTrainer"/>.</summary>
    /// <param name="catalog">The binary classification trainer catalog.</param>
    /// <param name="labelColumnName">The label column: Boolean.</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="exampleWeightColumnName">The optional example-weight column: Single, finite, ≥ 0.</param>
    /// <param name="optimizer">The optimizer strategy; null means <c>new Lbfgs()</c>.</param>
    /// <param name="batchSize">Rows per step; 0 = full batch (with a first-order rule, one step per epoch: set a mini-batch size).</param>
    /// <param name="numberOfEpochs">Passes over the data (L-BFGS: iterations).</param>
    public static LogisticRegressionTrainer LogisticRegression(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null,
        IOptimizer? optimizer = null, int batchSize = TrainingOptions.Defaults.BatchSize,
        int numberOfEpochs = TrainingOptions.Defaults.NumberOfEpochs) =>
        catalog.LogisticRegression(Configure(new LogisticRegressionTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, optimizer, batchSize, numberOfEpochs));

    /// <summary>Binary logistic regression with full options; see <see cref="LogisticRegressionTrainer"/>.</summary>
    /// <param name="catalog">The binary classification trainer catalog.</param>
    /// <param name="options">The options.</param>
    public static LogisticRegressionTrainer LogisticRegression(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        LogisticRegressionTrainer.Options options) =>
        new(MlNetModelFactory.GetEnvironment(catalog), options);

    /// <summary>Multiclass softmax regression trained by <paramref name="optimizer"/>; see <see cref="SoftmaxRegressionTrainer"/>.</summary>
    /// <param name="catalog">The multiclass classification trainer catalog.</param>
    /// <param name="labelColumnName">The label column: a key type of known cardinality (use <c>MapValueToKey</c>).</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="exampleWeightColumnName">The optional example-weight column: Single, finite, ≥ 0.</param>
    /// <param name="optimizer">The optimizer strategy; null means <c>new Lbfgs()</c>.</param>
    /// <param name="batchSize">Rows per step; 0 = full batch (with a first-order rule, one step per epoch: set a mini-batch size).</param>
    /// <param name="numberOfEpochs">Passes over the data (L-BFGS: iterations).</param>
    public static SoftmaxRegressionTrainer SoftmaxRegression(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null,
        IOptimizer? optimizer = null, int batchSize = TrainingOptions.Defaults.BatchSize,
        int numberOfEpochs = TrainingOptions.Defaults.NumberOfEpochs) =>
        catalog.SoftmaxRegression(Configure(new SoftmaxRegressionTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, optimizer, batchSize, numberOfEpochs));

    /// <summary>Multiclass softmax regression with full options; see <see cref="SoftmaxRegressionTrainer"/>.</summary>
    /// <param name="catalog">The multiclass classification trainer catalog.</param>
    /// <param name="options">The options.</param>
    public static SoftmaxRegressionTrainer SoftmaxRegression(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        SoftmaxRegressionTrainer.Options options) =>
        new(MlNetModelFactory.GetEnvironment(catalog), options);

    /// <summary>Least-squares linear regression trained by <paramref name="optimizer"/>; see <see cref="LinearRegressionTrainer"/>.</summary>
    /// <param name="catalog">The regression trainer catalog.</param>
    /// <param name="labelColumnName">The label column: Single.</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="exampleWeightColumnName">The optional example-weight column: Single, finite, ≥ 0.</param>
    /// <param name="optimizer">The optimizer strategy; null means <c>new Lbfgs()</c>.</param>
    /// <param name="batchSize">Rows per step; 0 = full batch (with a first-order rule, one step per epoch: set a mini-batch size).</param>
    /// <param name="numberOfEpochs">Passes over the data (L-BFGS: iterations).</param>
    public static LinearRegressionTrainer LinearRegression(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null,
        IOptimizer? optimizer = null, int batchSize = TrainingOptions.Defaults.BatchSize,
        int numberOfEpochs = TrainingOptions.Defaults.NumberOfEpochs) =>
        catalog.LinearRegression(Configure(new LinearRegressionTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, optimizer, batchSize, numberOfEpochs));

    /// <summary>Least-squares linear regression with full options; see <see cref="LinearRegressionTrainer"/>.</summary>
    /// <param name="catalog">The regression trainer catalog.</param>
    /// <param name="options">The options.</param>
    public static LinearRegressionTrainer LinearRegression(this RegressionCatalog.RegressionTrainers catalog,
        LinearRegressionTrainer.Options options) =>
        new(MlNetModelFactory.GetEnvironment(catalog), options);

    /// <summary>Poisson regression of counts trained by <paramref name="optimizer"/>; see <see cref="PoissonRegressionTrainer"/>.</summary>
    /// <param name="catalog">The regression trainer catalog.</param>
    /// <param name="labelColumnName">The label column: Single, finite and ≥ 0.</param>
    /// <param name="featureColumnName">The feature column: a known-size vector of Single.</param>
    /// <param name="exampleWeightColumnName">The optional example-weight column: Single, finite, ≥ 0.</param>
    /// <param name="optimizer">The optimizer strategy; null means <c>new Lbfgs()</c>.</param>
    /// <param name="batchSize">Rows per step; 0 = full batch (with a first-order rule, one step per epoch: set a mini-batch size).</param>
    /// <param name="numberOfEpochs">Passes over the data (L-BFGS: iterations).</param>
    public static PoissonRegressionTrainer PoissonRegression(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null,
        IOptimizer? optimizer = null, int batchSize = TrainingOptions.Defaults.BatchSize,
        int numberOfEpochs = TrainingOptions.Defaults.NumberOfEpochs) =>
        catalog.PoissonRegression(Configure(new PoissonRegressionTrainer.Options(), labelColumnName, featureColumnName,
            exampleWeightColumnName, optimizer, batchSize, numberOfEpochs));

    /// <summary>Poisson regression with full options; see <see cref="PoissonRegressionTrainer"/>.</summary>
    /// <param name="catalog">The regression trainer catalog.</param>
    /// <param name="options">The options.</param>
    public static PoissonRegressionTrainer PoissonRegression(this RegressionCatalog.RegressionTrainers catalog,
        PoissonRegressionTrainer.Options options) =>
        new(MlNetModelFactory.GetEnvironment(catalog), options);

    private static TOptions Configure<TOptions>(TOptions options, string labelColumnName, string featureColumnName,
        string? exampleWeightColumnName, IOptimizer? optimizer, int batchSize, int numberOfEpochs)
        where TOptions : LinearTrainerOptions
    {
        options.LabelColumnName = labelColumnName;
        options.FeatureColumnName = featureColumnName;
        options.ExampleWeightColumnName = exampleWeightColumnName;
        options.Optimizer = optimizer ?? options.Optimizer;
        options.BatchSize = batchSize;
        options.NumberOfEpochs = numberOfEpochs;
        return options;
    }
}
