using Xunit.Abstractions;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>
/// Our trainers with L-BFGS (OWL-QN when L1 &gt; 0) against ML.NET's L-BFGS trainers on real data, features standardised outside
/// the pipeline: the optimality (KKT) conditions hold for every weight, and the objective is no worse than what ML.NET's own
/// L-BFGS reaches on the same objective (with a tight OptimizationTolerance).
/// ML.NET minimises (Σᵢ wᵢ·lossᵢ + (L2ₘₗ/2)·‖w‖²)/Σᵢ wᵢ + (L1ₘₗ/N)·‖w‖₁ (N rows; L1Optimizer gets L1/NumGoodRows), so with unit
/// weights our λ₂ = L2ₘₗ/N and λ₁ = L1ₘₗ/N.
/// </summary>
public class MlNetLbfgsOptimumTests(ITestOutputHelper output)
{
    /// <summary>The KKT residual bound: |∂ⱼf| ≤ λ₁ + this where wⱼ = 0, |∂ⱼf + λ₁·sign(wⱼ)| ≤ this elsewhere, |∂f/∂b| ≤ this.</summary>
    private const double KktTolerance = 1e-6;

    /// <summary>How far above ML.NET's objective ours may end (absolute, on the mean objective).</summary>
    private const double ObjectiveTolerance = 1e-7;

    private static Lbfgs TightLbfgs => new(gradientTolerance: 1e-9, changeTolerance: 1e-13);

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(10.0, 0.1)]
    public void Logistic_with_L1_meets_KKT_and_ML_NET_on_breast_cancer(double mlNetL1, double mlNetL2)
    {
        var (data, _) = SampleCsv.LoadStandardized("breast_cancer");
        int n = data.RowCount;
        var mlContext = new MLContext(seed: 1);
        IDataView view = ToDataView(mlContext, data, label: y => y == 1f);

        var ours = mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = TightLbfgs, NumberOfEpochs = 5000, L1Regularization = mlNetL1 / n, L2Regularization = mlNetL2 / n,
        }).Fit(view).Model.SubModel;
        var theirs = mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            L1Regularization = (float)mlNetL1, L2Regularization = (float)mlNetL2, OptimizationTolerance = 1e-10f, HistorySize = 20,
        }).Fit(view).Model.SubModel;

        var problem = new Problem(output, new LogisticObjective(), data, mlNetL1 / n, mlNetL2 / n);
        float[] ourParameters = [.. ours.Weights, ours.Bias];
        problem.AssertKkt(ourParameters);
        problem.AssertNoWorseThan(ourParameters, [.. theirs.Weights, theirs.Bias]);
        Assert.Contains(0f, ourParameters);
    }

    [Fact]
    public void Softmax_with_L1_meets_KKT_and_ML_NET_on_digits()
    {
        const double mlNetL1 = 1, mlNetL2 = 1;
        var (data, _) = SampleCsv.LoadStandardized("digits");
        int n = data.RowCount, d = data.FeatureCount;
        var mlContext = new MLContext(seed: 1);
        IDataView view = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(ToDataView(mlContext, data, label: y => y)).Transform(ToDataView(mlContext, data, label: y => y));

        var ours = mlContext.MulticlassClassification.Trainers.SoftmaxRegression(new SoftmaxRegressionTrainer.Options
        {
            Optimizer = TightLbfgs, NumberOfEpochs = 5000, L1Regularization = mlNetL1 / n, L2Regularization = mlNetL2 / n,
        }).Fit(view).Model;
        var theirs = mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            L1Regularization = (float)mlNetL1, L2Regularization = (float)mlNetL2, OptimizationTolerance = 1e-10f, HistorySize = 20,
        }).Fit(view).Model;

        var problem = new Problem(output, new SoftmaxObjective(10), data, mlNetL1 / n, mlNetL2 / n);
        float[] ourParameters = Flatten(ours, d);
        problem.AssertKkt(ourParameters);
        problem.AssertNoWorseThan(ourParameters, Flatten(theirs, d));
        Assert.Contains(0f, ourParameters);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 1.0)]
    public void Poisson_meets_KKT_and_LbfgsPoissonRegression_on_diabetes_counts(double mlNetL1, double mlNetL2)
    {
        // Counts: the diabetes progression score in fifties, rounded (0 … 7). (With larger counts the float parameters limit the
        // KKT residual: one ulp of the bias moves the gradient by about mean count × 1.2e-7.)
        var (raw, _) = SampleCsv.LoadStandardized("diabetes");
        float[] counts = [.. Enumerable.Range(0, raw.RowCount).Select(i => MathF.Round(raw.Labels[i] / 50))];
        var data = TrainingData.Dense(raw.FeatureCount, raw.DenseFeatures!, counts, null);
        int n = data.RowCount;
        var mlContext = new MLContext(seed: 1);
        IDataView view = ToDataView(mlContext, data, label: y => y);

        var ours = mlContext.Regression.Trainers.PoissonRegression(new PoissonRegressionTrainer.Options
        {
            Optimizer = TightLbfgs, NumberOfEpochs = 5000, L1Regularization = mlNetL1 / n, L2Regularization = mlNetL2 / n,
        }).Fit(view).Model;
        var theirs = mlContext.Regression.Trainers.LbfgsPoissonRegression(new LbfgsPoissonRegressionTrainer.Options
        {
            L1Regularization = (float)mlNetL1, L2Regularization = (float)mlNetL2, OptimizationTolerance = 1e-10f, HistorySize = 20,
        }).Fit(view).Model;

        var problem = new Problem(output, new PoissonObjective(), data, mlNetL1 / n, mlNetL2 / n);
        float[] ourParameters = [.. ours.Weights, ours.Bias];
        problem.AssertKkt(ourParameters);
        problem.AssertNoWorseThan(ourParameters, [.. theirs.Weights, theirs.Bias]);
    }

    [Fact]
    public void Least_squares_with_L1_meets_KKT_on_diabetes()
    {
        // ML.NET has no L-BFGS least-squares trainer to compare with: the KKT conditions alone certify the optimum (the
        // objective is strictly convex with L2 > 0). Labels standardised too, so that the residual bound is meaningful.
        var (raw, _) = SampleCsv.LoadStandardized("diabetes");
        float[] labels = [.. Enumerable.Range(0, raw.RowCount).Select(i => raw.Labels[i])];
        double mean = labels.Average(y => (double)y), std = Math.Sqrt(labels.Average(y => (y - mean) * (y - mean)));
        var data = TrainingData.Dense(raw.FeatureCount, raw.DenseFeatures!, [.. labels.Select(y => (float)((y - mean) / std))], null);
        var mlContext = new MLContext(seed: 1);
        IDataView view = ToDataView(mlContext, data, label: y => y);
        const double l1 = 0.02, l2 = 1e-3;

        var ours = mlContext.Regression.Trainers.LinearRegression(new LinearRegressionTrainer.Options
        {
            Optimizer = TightLbfgs, NumberOfEpochs = 5000, L1Regularization = l1, L2Regularization = l2,
        }).Fit(view).Model;

        float[] parameters = [.. ours.Weights, ours.Bias];
        new Problem(output, new SquaredObjective(), data, l1, l2).AssertKkt(parameters);
        Assert.Contains(0f, parameters);
    }

    /// <summary>The penalised objective J = f + (λ₂/2)·‖W‖² + λ₁·‖W‖₁ on the data, evaluated in double.</summary>
    private sealed class Problem(ITestOutputHelper output, LinearObjective objective, TrainingData data, double l1, double l2)
    {
        private readonly int _weightCount = objective.LayoutFor(data).WeightCount;

        public double Value(float[] parameters)
        {
            double value = objective.Loss(data, parameters);
            for (int j = 0; j < _weightCount; j++)
            {
                value += (0.5 * l2 * parameters[j] * parameters[j]) + (l1 * Math.Abs(parameters[j]));
            }

            return value;
        }

        public void AssertKkt(float[] parameters)
        {
            var gradient = new float[parameters.Length];
            objective.LossAndGradient(data, parameters, gradient);
            double worst = 0;
            int worstIndex = -1;
            for (int j = 0; j < parameters.Length; j++)
            {
                double smooth = gradient[j] + (j < _weightCount ? l2 * parameters[j] : 0);
                double residual = j >= _weightCount ? Math.Abs(smooth)
                    : parameters[j] == 0 ? Math.Max(0, Math.Abs(smooth) - l1)
                    : Math.Abs(smooth + (l1 * Math.Sign(parameters[j])));
                if (residual > worst)
                {
                    (worst, worstIndex) = (residual, j);
                }
            }

            int zeros = parameters.Take(_weightCount).Count(w => w == 0);
            output.WriteLine($"{objective.GetType().Name}: KKT residual {worst:E2}, {zeros} of {_weightCount} weights exactly 0");
            Assert.True(worst <= KktTolerance, $"KKT residual {worst:E3} at parameter {worstIndex}; {zeros} of {_weightCount} weights are 0");
        }

        public void AssertNoWorseThan(float[] ours, float[] theirs)
        {
            double a = Value(ours), b = Value(theirs);
            output.WriteLine($"{objective.GetType().Name}: objective ours {a:R}, ML.NET {b:R}, ours − ML.NET {a - b:E2}");
            Assert.True(a <= b + ObjectiveTolerance, $"ours {a:R}, ML.NET {b:R}, gap {a - b:E3}");
        }
    }

    private sealed class Row<TLabel>
    {
        public TLabel Label { get; set; } = default!;

        public float[] Features { get; set; } = [];
    }

    private static IDataView ToDataView<TLabel>(MLContext mlContext, TrainingData data, Func<float, TLabel> label)
    {
        int d = data.FeatureCount;
        var rows = Enumerable.Range(0, data.RowCount)
            .Select(i => new Row<TLabel> { Label = label(data.Labels[i]), Features = data.DenseFeatures!.AsSpan(i * d, d).ToArray() })
            .ToArray();
        var schema = SchemaDefinition.Create(typeof(Row<TLabel>));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    private static float[] Flatten(MaximumEntropyModelParameters model, int featureCount)
    {
        VBuffer<float>[] rows = [];
        model.GetWeights(ref rows, out int classes);
        return [.. rows.SelectMany(r => r.DenseValues()), .. model.GetBiases().Take(classes)];
    }
}
