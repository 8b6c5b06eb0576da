using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>
/// The default L-BFGS reaches the known regularised optimum of logistic regression on breast_cancer: features standardised outside
/// the pipeline (population std over all 569 rows), L2 = 1/569, objective = mean log-loss + (L2/2)·‖w‖² (bias not penalised).
/// That is scikit-learn's LogisticRegression(C=1) objective divided by N; its optimum value is 0.0663601862.
/// </summary>
public class LbfgsOptimumTests
{
    private const double KnownOptimum = 0.0663601862;

    private sealed class Row
    {
        public bool Label { get; set; }

        [VectorType(30)]
        public float[] Features { get; set; } = [];
    }

    [Fact]
    public void Lbfgs_reaches_the_regularised_optimum_on_standardised_breast_cancer()
    {
        var (features, labels) = StandardisedBreastCancer();
        int n = labels.Length;
        double l2 = 1.0 / n;
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(features.Select((x, i) => new Row { Label = labels[i], Features = x }));

        var model = mlContext.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        {
            Optimizer = new Lbfgs(), L2Regularization = l2, NumberOfEpochs = 500,
        }).Fit(data).Model.SubModel;

        // The objective, evaluated here in double from the exported float weights.
        double[] w = model.Weights.Select(v => (double)v).ToArray();
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double score = model.Bias + features[i].Select((x, j) => x * w[j]).Sum();
            double margin = labels[i] ? score : -score;
            loss += margin > 0 ? Math.Log(1 + Math.Exp(-margin)) : -margin + Math.Log(1 + Math.Exp(margin));
        }

        double objective = loss / n + l2 / 2 * w.Sum(v => v * v);
        Assert.True(Math.Abs(objective - KnownOptimum) <= 1e-6, $"objective {objective:R}, optimum {KnownOptimum}");
    }

    private static (float[][] Features, bool[] Labels) StandardisedBreastCancer()
    {
        string[][] cells = File.ReadLines(TrainerTestData.PathOf("breast_cancer")).Skip(1).Select(l => l.Split(',')).ToArray();
        int d = cells[0].Length - 1;
        double[][] raw = cells.Select(c => c.Take(d).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var features = raw.Select(_ => new float[d]).ToArray();
        for (int j = 0; j < d; j++)
        {
            double mean = raw.Average(r => r[j]);
            double std = Math.Sqrt(raw.Average(r => (r[j] - mean) * (r[j] - mean))); // population std (ddof = 0), as StandardScaler
            for (int i = 0; i < raw.Length; i++)
            {
                features[i][j] = (float)((raw[i][j] - mean) / std);
            }
        }

        return (features, cells.Select(c => c[d] == "1").ToArray());
    }
}
