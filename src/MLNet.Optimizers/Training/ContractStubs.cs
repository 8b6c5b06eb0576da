// TEMPORARY stand-ins for the `core` (Objectives/, Training/) and `lbfgs` branches, written from /work/notes/training-contract.md
// so the `trainers` branch builds before they land. This file is deleted when those branches are merged; nothing else may use it.
#pragma warning disable CS1591
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers
{
    public sealed class Lbfgs : IOptimizer
    {
        public Lbfgs(double learningRate = 1) => LearningRate = learningRate;
        public string Name => "Lbfgs";
        public double LearningRate { get; }
        public IOptimizer WithLearningRate(double learningRate) => new Lbfgs(learningRate);
    }
}

namespace MLNet.Optimizers.Objectives
{
    using MLNet.Optimizers.Training;

    public abstract class LinearObjective
    {
        public abstract int OutputCount { get; }
        public double LossAndGradient(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters, Span<float> gradient)
        {
            int d = data.FeatureCount, k = OutputCount;
            gradient.Clear();
            double total = 0, weightSum = 0;
            var scores = new double[k];
            var dScores = new double[k];
            var x = new float[d];
            var g = new double[gradient.Length];
            foreach (int r in rows)
            {
                data.CopyRow(r, x);
                for (int o = 0; o < k; o++)
                {
                    double s = parameters[k * d + o];
                    for (int j = 0; j < d; j++) s += parameters[o * d + j] * (double)x[j];
                    scores[o] = s;
                }
                double w = data.Weights.IsEmpty ? 1 : data.Weights[r];
                total += w * RowLoss(scores, data.Labels[r], dScores);
                weightSum += w;
                for (int o = 0; o < k; o++)
                {
                    for (int j = 0; j < d; j++) g[o * d + j] += w * dScores[o] * x[j];
                    g[k * d + o] += w * dScores[o];
                }
            }
            for (int i = 0; i < g.Length; i++) gradient[i] = (float)(g[i] / weightSum);
            return total / weightSum;
        }
        public double Loss(TrainingData data, ReadOnlySpan<int> rows, ReadOnlySpan<float> parameters) =>
            LossAndGradient(data, rows, parameters, new float[parameters.Length]);
        protected abstract double RowLoss(double[] scores, float label, double[] dScores);
    }

    public sealed class LogisticObjective : LinearObjective
    {
        public override int OutputCount => 1;
        protected override double RowLoss(double[] s, float label, double[] d)
        {
            double y = label > 0 ? 1 : -1, m = y * s[0];
            d[0] = -y / (1 + Math.Exp(m));
            return m > 0 ? Math.Log(1 + Math.Exp(-m)) : -m + Math.Log(1 + Math.Exp(m));
        }
    }

    public sealed class SoftmaxObjective(int classCount) : LinearObjective
    {
        public override int OutputCount => classCount;
        protected override double RowLoss(double[] s, float label, double[] d)
        {
            double max = s.Max(), sum = 0;
            for (int o = 0; o < s.Length; o++) sum += Math.Exp(s[o] - max);
            for (int o = 0; o < s.Length; o++) d[o] = Math.Exp(s[o] - max) / sum - (o == (int)label ? 1 : 0);
            return max + Math.Log(sum) - s[(int)label];
        }
    }

    public sealed class SquaredObjective : LinearObjective
    {
        public override int OutputCount => 1;
        protected override double RowLoss(double[] s, float label, double[] d)
        {
            d[0] = s[0] - label;
            return 0.5 * d[0] * d[0];
        }
    }
}

namespace MLNet.Optimizers.Training
{
    public readonly record struct LinearModelLayout(int OutputCount, int FeatureCount)
    {
        public int ParameterCount => OutputCount * FeatureCount + OutputCount;
    }

    public sealed class TrainingData
    {
        private readonly float[]? _dense;
        private readonly int[]? _offsets, _indices;
        private readonly float[]? _values;
        private readonly float[] _labels;
        private readonly float[]? _weights;
        private TrainingData(int d, float[]? dense, int[]? offsets, int[]? indices, float[]? values, float[] labels, float[]? weights)
        {
            FeatureCount = d; _dense = dense; _offsets = offsets; _indices = indices; _values = values; _labels = labels; _weights = weights;
        }
        public static TrainingData Dense(int featureCount, float[] features, float[] labels, float[]? weights) =>
            new(featureCount, features, null, null, null, labels, weights);
        public static TrainingData Sparse(int featureCount, int[] rowOffsets, int[] indices, float[] values, float[] labels, float[]? weights) =>
            new(featureCount, null, rowOffsets, indices, values, labels, weights);
        public int RowCount => _labels.Length;
        public int FeatureCount { get; }
        public bool IsSparse => _dense is null;
        public ReadOnlySpan<float> Labels => _labels;
        public ReadOnlySpan<float> Weights => _weights;
        public double TotalWeight => _weights?.Sum(w => (double)w) ?? RowCount;
        internal void CopyRow(int r, float[] x)
        {
            if (_dense is not null) { _dense.AsSpan(r * FeatureCount, FeatureCount).CopyTo(x); return; }
            Array.Clear(x);
            for (int p = _offsets![r]; p < _offsets[r + 1]; p++) x[_indices![p]] = _values![p];
        }
        public TrainingData Subset(ReadOnlySpan<int> rows)
        {
            var f = new float[rows.Length * FeatureCount];
            var x = new float[FeatureCount];
            var l = new float[rows.Length];
            float[]? w = _weights is null ? null : new float[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                CopyRow(rows[i], x); x.CopyTo(f, i * FeatureCount); l[i] = _labels[rows[i]];
                if (w is not null) w[i] = _weights![rows[i]];
            }
            return Dense(FeatureCount, f, l, w);
        }
    }

    public sealed class TrainingOptions
    {
        public IOptimizer Optimizer { get; set; } = new Sgd();
        public int BatchSize { get; set; }
        public int NumberOfEpochs { get; set; } = 10;
        public bool Shuffle { get; set; } = true;
        public int Seed { get; set; }
        public double L2Regularization { get; set; }
        public double L1Regularization { get; set; }
        public LearningRateSchedule? LearningRateSchedule { get; set; }
        public double? GradientClipNorm { get; set; }
        public double? ValidationFraction { get; set; }
        public int? EarlyStoppingPatience { get; set; }
        public double EarlyStoppingTolerance { get; set; }
        public bool KeepBestModel { get; set; } = true;
        public Action<EpochReport>? OnEpochEnd { get; set; }
        public Action<string>? Log { get; set; }
        public CancellationToken CancellationToken { get; set; }
    }

    public sealed record EpochReport(int Epoch, long Steps, double TrainingLoss, double? ValidationLoss, double LearningRate, TimeSpan Elapsed);

    public sealed class TrainingResult
    {
        public LinearModelLayout Layout { get; init; }
        public float[] Parameters { get; init; } = [];
        public IReadOnlyList<EpochReport> History { get; init; } = [];
        public bool StoppedEarly { get; init; }
        public int BestEpoch { get; init; }
    }

    public sealed class LinearModelTrainer(LinearObjective objective, TrainingOptions options)
    {
        public TrainingResult Train(TrainingData train, TrainingData? validation = null, ReadOnlySpan<float> initialParameters = default)
        {
            var layout = new LinearModelLayout(objective.OutputCount, train.FeatureCount);
            var theta = new float[layout.ParameterCount];
            initialParameters.CopyTo(theta);
            var rule = (FirstOrderOptimizer)options.Optimizer;
            var state = rule.CreateState(theta.Length);
            var grad = new float[theta.Length];
            int[] all = Enumerable.Range(0, train.RowCount).ToArray();
            var history = new List<EpochReport>();
            for (int epoch = 1; epoch <= options.NumberOfEpochs; epoch++)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                double loss = objective.LossAndGradient(train, all, theta, grad);
                for (int i = 0; i < layout.OutputCount * layout.FeatureCount; i++) grad[i] += (float)(options.L2Regularization * theta[i]);
                rule.Step(theta, grad, state);
                var report = new EpochReport(epoch, epoch, loss, validation is null ? null : objective.Loss(validation, Enumerable.Range(0, validation.RowCount).ToArray(), theta), rule.LearningRate, TimeSpan.Zero);
                history.Add(report);
                options.OnEpochEnd?.Invoke(report);
                options.Log?.Invoke($"epoch {epoch}: loss {loss}");
            }
            return new TrainingResult { Layout = layout, Parameters = theta, History = history, BestEpoch = options.NumberOfEpochs };
        }
    }
}
