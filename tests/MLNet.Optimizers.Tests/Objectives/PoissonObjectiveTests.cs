using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Tests.Objectives;

public class PoissonObjectiveTests
{
    /// <summary>Synthetic rows with count labels drawn around exp(true score), weighted, in dense form.</summary>
    private static TrainingData CountData(int rowCount, int featureCount, int seed)
    {
        var synthetic = SyntheticData.Create(LabelKind.Regression, rowCount, featureCount, seed, weighted: true);
        float[] counts = [.. synthetic.Labels.Select(y => MathF.Round(MathF.Exp(0.3f * y)))];
        return TrainingData.Dense(featureCount, (float[])synthetic.Features.Clone(), counts, (float[]?)synthetic.Weights?.Clone());
    }

    /// <summary>Σᵢ wᵢ·(exp(sᵢ) − yᵢ·sᵢ + log yᵢ!) / Σᵢ wᵢ in double, log y! as a plain sum of logs (labels are integers here).</summary>
    private static double ReferenceLoss(TrainingData data, double[] p)
    {
        int d = data.FeatureCount;
        double loss = 0, weight = 0;
        for (int i = 0; i < data.RowCount; i++)
        {
            double s = p[d];
            for (int j = 0; j < d; j++)
            {
                s += p[j] * data.DenseFeatures![(i * d) + j];
            }

            double y = data.Labels[i], logFactorial = 0;
            for (int k = 2; k <= y; k++)
            {
                logFactorial += Math.Log(k);
            }

            double w = data.Weights.IsEmpty ? 1 : data.Weights[i];
            loss += w * (Math.Exp(s) - (y * s) + logFactorial);
            weight += w;
        }

        return loss / weight;
    }

    [Fact]
    public void Loss_equals_double_reference_and_gradient_equals_central_difference()
    {
        var data = CountData(rowCount: 150, featureCount: 6, seed: 21);
        var objective = new PoissonObjective();
        var parameters = SyntheticData.RandomVector(objective.LayoutFor(data).ParameterCount, seed: 4, scale: 0.3);
        var gradient = new float[parameters.Length];

        double loss = objective.LossAndGradient(data, parameters, gradient);

        double[] p = [.. parameters.Select(v => (double)v)];
        double reference = ReferenceLoss(data, p);
        Assert.Equal(reference, loss, Math.Abs(reference) * 1e-12);
        const double h = 1e-5;
        for (int i = 0; i < p.Length; i++)
        {
            double saved = p[i];
            p[i] = saved + h;
            double plus = ReferenceLoss(data, p);
            p[i] = saved - h;
            double minus = ReferenceLoss(data, p);
            p[i] = saved;
            double central = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(gradient[i] - central) <= 1e-6 * (1 + Math.Abs(central)), $"parameter {i}: analytic {gradient[i]}, central {central}");
        }
    }

    [Fact]
    public void Log_gamma_agrees_with_the_factorial_table_and_the_recurrence()
    {
        Assert.Equal(0, PoissonObjective.LogGamma(1));
        Assert.Equal(0, PoissonObjective.LogGamma(2));
        Assert.Equal(Enumerable.Range(2, 9).Sum(k => Math.Log(k)), PoissonObjective.LogGamma(11), 1e-13);
        // Γ(1/2) = √π, so log Γ(4.5) = log(3.5·2.5·1.5·0.5·√π).
        Assert.Equal(Math.Log(3.5 * 2.5 * 1.5 * 0.5 * Math.Sqrt(Math.PI)), PoissonObjective.LogGamma(4.5), 1e-13);
        // Beyond the table (integers > 256) and between integers, the series must satisfy log Γ(x + 1) = log Γ(x) + log x.
        foreach (double x in new[] { 1.25, 9.75, 255.5, 256, 300, 1e5 + 0.5 })
        {
            Assert.Equal(PoissonObjective.LogGamma(x) + Math.Log(x), PoissonObjective.LogGamma(x + 1), 1e-12 * Math.Max(1, PoissonObjective.LogGamma(x + 1)));
        }
    }

    [Fact]
    public void Large_scores_give_finite_values_up_to_the_double_range_and_never_nan()
    {
        // One row, one feature x = 1, label 3: the score is w + b.
        var data = TrainingData.Dense(1, [1f], [3f], null);
        var objective = new PoissonObjective();
        var gradient = new float[2];

        double atSevenHundred = objective.LossAndGradient(data, [700f, 0f], gradient);
        Assert.True(double.IsFinite(atSevenHundred));
        Assert.Equal((float)(Math.Exp(700) - 3), gradient[1]);

        double beyond = objective.LossAndGradient(data, [800f, 0f], gradient);
        Assert.Equal(double.PositiveInfinity, beyond);

        double veryNegative = objective.LossAndGradient(data, [-800f, 0f], gradient);
        Assert.Equal(3 * 800 + Math.Log(6), veryNegative, 1e-9);
        Assert.Equal(-3f, gradient[1]);
    }

    [Fact]
    public void Negative_label_is_rejected_naming_the_row()
    {
        var data = TrainingData.Dense(1, [1f, 2f, 3f], [0f, 2f, -1f], null);

        var error = Assert.Throws<ArgumentException>(() => new PoissonObjective().EnsureValidLabels(data));

        Assert.Contains("Row 2", error.Message);
        Assert.Contains("count >= 0", error.Message);
    }
}
