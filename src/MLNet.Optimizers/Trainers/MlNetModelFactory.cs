using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using CalibratedBinaryModel = Microsoft.ML.Calibrators.CalibratedModelParametersBase<Microsoft.ML.Trainers.LinearBinaryModelParameters, Microsoft.ML.Calibrators.PlattCalibrator>;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// Builds ML.NET's own model and prediction-transformer types from trained weights. This is the ONLY place in the library
/// that touches ML.NET internals.
/// </summary>
/// <remarks>
/// <para>Why reflection: every constructor of <see cref="LinearBinaryModelParameters"/>, <see cref="PlattCalibrator"/>,
/// <c>ParameterMixingCalibratedModelParameters&lt;,&gt;</c> (an internal type), <see cref="MaximumEntropyModelParameters"/>,
/// <see cref="LinearRegressionModelParameters"/>, <see cref="PoissonRegressionModelParameters"/> and the prediction transformers is internal, and no public API builds
/// them from weights. In return the trained model is made only of ML.NET types: it saves, loads in a process without this
/// library, evaluates, cross-validates and exports to ONNX exactly like a model from ML.NET's own trainers.</para>
/// <para>The signatures used are the same from Microsoft.ML 1.0 through 5.0; Directory.Packages.props pins [5.0.1, 6.0.0)
/// and a guard test resolves every member. If a member is missing, the error says so and names the ML.NET version.</para>
/// </remarks>
internal static class MlNetModelFactory
{
    private const BindingFlags InstanceMembers = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly Assembly StandardTrainers = typeof(LinearBinaryModelParameters).Assembly;
    private static readonly Assembly DataAssembly = typeof(PlattCalibrator).Assembly;
    private static readonly Type FloatBufferByRef = typeof(VBuffer<float>).MakeByRefType();

    private static readonly Lazy<Type> ModelStatisticsType = new(() => RequireType(StandardTrainers, "Microsoft.ML.Trainers.ModelStatisticsBase"));

    private static readonly Lazy<Type> CalibratedBinaryType = new(() =>
        RequireType(DataAssembly, "Microsoft.ML.Calibrators.ParameterMixingCalibratedModelParameters`2")
            .MakeGenericType(typeof(LinearBinaryModelParameters), typeof(PlattCalibrator)));

    private static readonly Lazy<ConstructorInfo> LinearBinaryCtor = new(() => RequireConstructor(typeof(LinearBinaryModelParameters),
        typeof(IHostEnvironment), FloatBufferByRef, typeof(float), ModelStatisticsType.Value));

    private static readonly Lazy<ConstructorInfo> PlattCtor = new(() => RequireConstructor(typeof(PlattCalibrator),
        typeof(IHostEnvironment), typeof(double), typeof(double)));

    private static readonly Lazy<ConstructorInfo> CalibratedBinaryCtor = new(() => RequireConstructor(CalibratedBinaryType.Value,
        typeof(IHostEnvironment), typeof(LinearBinaryModelParameters), typeof(PlattCalibrator)));

    private static readonly Lazy<ConstructorInfo> MaximumEntropyCtor = new(() => RequireConstructor(typeof(MaximumEntropyModelParameters),
        typeof(IHostEnvironment), typeof(VBuffer<float>[]), typeof(float[]), typeof(int), typeof(int), typeof(string[]), ModelStatisticsType.Value));

    private static readonly Lazy<ConstructorInfo> LinearRegressionCtor = new(() => RequireConstructor(typeof(LinearRegressionModelParameters),
        typeof(IHostEnvironment), FloatBufferByRef, typeof(float)));

    private static readonly Lazy<ConstructorInfo> BinaryTransformerCtor = new(() => RequireConstructor(typeof(BinaryPredictionTransformer<CalibratedBinaryModel>),
        typeof(IHostEnvironment), typeof(CalibratedBinaryModel), typeof(DataViewSchema), typeof(string), typeof(float), typeof(string)));

    // Current form (env, model, schema, feature, label, score, predictedLabel); Microsoft.ML 1.0 had the first five only.
    private static readonly Lazy<ConstructorInfo> MulticlassTransformerCtor = new(() =>
        typeof(MulticlassPredictionTransformer<MaximumEntropyModelParameters>).GetConstructor(InstanceMembers, null,
            [typeof(IHostEnvironment), typeof(MaximumEntropyModelParameters), typeof(DataViewSchema), typeof(string), typeof(string), typeof(string), typeof(string)], null)
        ?? RequireConstructor(typeof(MulticlassPredictionTransformer<MaximumEntropyModelParameters>),
            typeof(IHostEnvironment), typeof(MaximumEntropyModelParameters), typeof(DataViewSchema), typeof(string), typeof(string)));

    private static readonly Lazy<ConstructorInfo> PoissonRegressionCtor = new(() => RequireConstructor(typeof(PoissonRegressionModelParameters),
        typeof(IHostEnvironment), FloatBufferByRef, typeof(float)));

    private static readonly Lazy<ConstructorInfo> RegressionTransformerCtor = new(RegressionTransformerConstructor<LinearRegressionModelParameters>);

    private static readonly Lazy<ConstructorInfo> PoissonTransformerCtor = new(RegressionTransformerConstructor<PoissonRegressionModelParameters>);

    private static readonly Lazy<PropertyInfo> CatalogEnvironmentProperty = new(() =>
    {
        Type catalogInterface = RequireType(DataAssembly, "Microsoft.ML.Data.IInternalCatalog");
        return catalogInterface.GetProperty("Environment", InstanceMembers) is { } property && property.PropertyType == typeof(IHostEnvironment)
            ? property
            : throw InternalsChanged($"{catalogInterface.FullName}.Environment");
    });

    /// <summary>Resolves every reflected member now, so a changed ML.NET fails here rather than mid-training (used by the guard test).</summary>
    internal static void ResolveAll()
    {
        _ = LinearBinaryCtor.Value;
        _ = PlattCtor.Value;
        _ = CalibratedBinaryCtor.Value;
        _ = MaximumEntropyCtor.Value;
        _ = LinearRegressionCtor.Value;
        _ = BinaryTransformerCtor.Value;
        _ = MulticlassTransformerCtor.Value;
        _ = RegressionTransformerCtor.Value;
        _ = PoissonRegressionCtor.Value;
        _ = PoissonTransformerCtor.Value;
        _ = CatalogEnvironmentProperty.Value;
    }

    /// <summary>The environment behind an ML.NET trainer catalog (<c>IInternalCatalog.Environment</c>), so the trainer logs to the user's
    /// <c>MLContext.Log</c> and draws from the context's seeded random source.</summary>
    internal static IHostEnvironment GetEnvironment(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return CatalogEnvironmentProperty.Value.GetValue(catalog, BindingFlags.DoNotWrapExceptions, null, null, null) as IHostEnvironment
            ?? throw InternalsChanged($"{catalog.GetType().FullName}: IInternalCatalog.Environment returned no environment");
    }

    /// <summary>Logistic regression as ML.NET's L-BFGS trainer builds it: a linear model plus a Platt calibrator with slope −1 and
    /// offset 0, which ML.NET evaluates as P = 1/(1 + exp(−score)) = sigmoid(score).</summary>
    internal static CalibratedBinaryModel CalibratedLinearBinary(IHostEnvironment env, float[] weights, float bias)
    {
        var linear = Create<LinearBinaryModelParameters>(LinearBinaryCtor.Value, env, new VBuffer<float>(weights.Length, weights), bias, null);
        var platt = Create<PlattCalibrator>(PlattCtor.Value, env, -1.0, 0.0);
        return Create<CalibratedBinaryModel>(CalibratedBinaryCtor.Value, env, linear, platt);
    }

    /// <summary>Softmax regression: one weight row and one bias per class; <paramref name="labelNames"/> are the label's text key
    /// values (or null), stored in the model as ML.NET's L-BFGS trainer does.</summary>
    internal static MaximumEntropyModelParameters MaximumEntropy(IHostEnvironment env, float[][] weightRows, float[] biases, int featureCount, string[]? labelNames)
    {
        var rows = new VBuffer<float>[weightRows.Length];
        for (int k = 0; k < rows.Length; k++)
        {
            rows[k] = new VBuffer<float>(featureCount, weightRows[k]);
        }

        return Create<MaximumEntropyModelParameters>(MaximumEntropyCtor.Value, env, rows, biases, weightRows.Length, featureCount, labelNames, null);
    }

    /// <summary>Linear regression: score = w·x + b.</summary>
    internal static LinearRegressionModelParameters LinearRegression(IHostEnvironment env, float[] weights, float bias) =>
        Create<LinearRegressionModelParameters>(LinearRegressionCtor.Value, env, new VBuffer<float>(weights.Length, weights), bias);

    /// <summary>Poisson regression: score = exp(w·x + b), as ML.NET's <c>LbfgsPoissonRegression</c> builds it.</summary>
    internal static PoissonRegressionModelParameters PoissonRegression(IHostEnvironment env, float[] weights, float bias) =>
        Create<PoissonRegressionModelParameters>(PoissonRegressionCtor.Value, env, new VBuffer<float>(weights.Length, weights), bias);

    /// <summary>The binary transformer ML.NET's L-BFGS trainer returns: threshold 0 on the <c>Score</c> column.</summary>
    internal static BinaryPredictionTransformer<CalibratedBinaryModel> BinaryTransformer(IHostEnvironment env, CalibratedBinaryModel model,
        DataViewSchema trainSchema, string featureColumn) =>
        Create<BinaryPredictionTransformer<CalibratedBinaryModel>>(BinaryTransformerCtor.Value, env, model, trainSchema, featureColumn, 0f, "Score");

    /// <summary>The multiclass transformer; <c>PredictedLabel</c> takes its key values from the training label column.</summary>
    internal static MulticlassPredictionTransformer<MaximumEntropyModelParameters> MulticlassTransformer(IHostEnvironment env,
        MaximumEntropyModelParameters model, DataViewSchema trainSchema, string featureColumn, string labelColumn)
    {
        ConstructorInfo ctor = MulticlassTransformerCtor.Value;
        object?[] arguments = ctor.GetParameters().Length == 7
            ? [env, model, trainSchema, featureColumn, labelColumn, "Score", "PredictedLabel"]
            : [env, model, trainSchema, featureColumn, labelColumn];
        return Create<MulticlassPredictionTransformer<MaximumEntropyModelParameters>>(ctor, arguments);
    }

    /// <summary>The regression transformer.</summary>
    internal static RegressionPredictionTransformer<LinearRegressionModelParameters> RegressionTransformer(IHostEnvironment env,
        LinearRegressionModelParameters model, DataViewSchema trainSchema, string featureColumn) =>
        Create<RegressionPredictionTransformer<LinearRegressionModelParameters>>(RegressionTransformerCtor.Value, env, model, trainSchema, featureColumn);

    /// <summary>The regression transformer around a Poisson model.</summary>
    internal static RegressionPredictionTransformer<PoissonRegressionModelParameters> PoissonRegressionTransformer(IHostEnvironment env,
        PoissonRegressionModelParameters model, DataViewSchema trainSchema, string featureColumn) =>
        Create<RegressionPredictionTransformer<PoissonRegressionModelParameters>>(PoissonTransformerCtor.Value, env, model, trainSchema, featureColumn);

    private static ConstructorInfo RegressionTransformerConstructor<TModel>()
        where TModel : class =>
        RequireConstructor(typeof(RegressionPredictionTransformer<TModel>), typeof(IHostEnvironment), typeof(TModel), typeof(DataViewSchema), typeof(string));

    // ML.NET's own argument checks throw inside the constructor; DoNotWrapExceptions surfaces them as they are, with their stack.
    private static T Create<T>(ConstructorInfo ctor, params object?[] arguments) =>
        (T)ctor.Invoke(BindingFlags.DoNotWrapExceptions, null, arguments, null);

    private static Type RequireType(Assembly assembly, string fullName) =>
        assembly.GetType(fullName, throwOnError: false) ?? throw InternalsChanged($"type {fullName} in {assembly.GetName().Name}");

    private static ConstructorInfo RequireConstructor(Type type, params Type[] parameterTypes) =>
        type.GetConstructor(InstanceMembers, null, parameterTypes, null)
        ?? throw InternalsChanged($"{type.FullName} constructor ({string.Join(", ", parameterTypes.Select(t => t.Name))})");

    private static string MicrosoftMlVersion =>
        StandardTrainers.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? StandardTrainers.GetName().Version?.ToString() ?? "unknown";

    private static InvalidOperationException InternalsChanged(string member) =>
        new($"ML.NET internals changed (Microsoft.ML {MicrosoftMlVersion}): {member} was not found. " +
            "MLNet.Optimizers builds ML.NET's own model types through these internal members and supports Microsoft.ML [5.0.1, 6.0.0); " +
            "use a Microsoft.ML version in that range.");
}
