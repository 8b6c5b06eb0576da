using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// <c>race</c> mode: our trainers against ML.NET's SDCA and L-BFGS trainers on the same cached IDataView in the same run.
/// Every trainer is run with a growing budget (1, 2, 4, … epochs or iterations); each model is scored on one common
/// objective, mean log-loss + (λ/2)·‖W‖² over the training rows (computed here in double from the model's weights), and on
/// held-out accuracy. "Time to target" is the wall time of the cheapest run whose objective is within 1e-3 (relative) of
/// the best objective any run reached.
/// </summary>
public static class TrainingRace
{
    private const double L2 = 1e-4;
    private const double Target = 1e-3;
    private static readonly int[] Budgets = [1, 2, 4, 8, 16, 32, 64];

    /// <summary>Runs the logistic and the softmax race (or only the one named) and prints one Markdown table each.</summary>
    /// <param name="only">"logistic", "softmax", or null for both.</param>
    public static void Run(string? only)
    {
        bool full = BenchmarkScale.Full;
        if (only is null or "logistic")
        {
            Race("logistic", rows: full ? 1_000_000 : 100_000, features: 100, classes: 2);
        }

        if (only is null or "softmax")
        {
            Race("softmax", rows: full ? 200_000 : 40_000, features: 784, classes: 10);
        }
    }

    /// <summary>
    /// <c>race-profile</c> mode: where our L-BFGS's time goes on the race's data (each <c>Fit</c> split into reading the view
    /// and the iterations; one objective evaluation alone; evaluations per iteration), next to ML.NET's L-BFGS at 8 iterations.
    /// </summary>
    /// <param name="only">"logistic", "softmax", or null for both; "sparse" for the text-like sparse softmax (20,000 × 2^17 × 20);
    /// "vector" for L-BFGS's vector work alone at that size (2.6M parameters).</param>
    public static void Profile(string? only)
    {
        if (only is null or "logistic")
        {
            ProfileOne("logistic", rows: 100_000, features: 100, classes: 2);
        }

        if (only is null or "softmax")
        {
            ProfileOne("softmax", rows: 40_000, features: 784, classes: 10);
        }

        if (only is "sparse")
        {
            var train = TextLikeProblem.Generate(20_000, featureBits: 17, classes: 20, seed: 21);
            var ml = new MLContext(seed: 1);
            ProfileOn("sparse softmax", ml, ml.Data.Cache(train.ToDataView(ml)), train.ToTrainingData(), train.RowCount, train.ClassCount);
            VectorWork(train.FeatureCount * train.ClassCount + train.ClassCount);
        }

        if (only is "vector")
        {
            VectorWork((20 << 17) + 20);
        }
    }

    private static void ProfileOne(string task, int rows, int features, int classes)
    {
        var train = Problem.Generate(rows, features, classes, seed: 21, hiddenSeed: 5);
        var ml = new MLContext(seed: 1);
        ProfileOn(task, ml, ml.Data.Cache(train.ToDataView(ml)), train.ToTrainingData(), rows, classes);
    }

    private static void ProfileOn(string task, MLContext ml, IDataView view, Objectives.TrainingData data, int rows, int classes)
    {
        var featureColumn = view.Schema["Features"];
        double CursorPass()
        {
            var watch = Stopwatch.StartNew();
            using var cursor = view.GetRowCursor([featureColumn]);
            var getter = cursor.GetGetter<VBuffer<float>>(featureColumn);
            VBuffer<float> row = default;
            while (cursor.MoveNext())
            {
                getter(ref row);
            }

            return watch.Elapsed.TotalSeconds;
        }

        CursorPass();
        Console.WriteLine($"{task}: bare cursor pass over the cached view (features only): {CursorPass():F3} s");
        bool binary = classes == 2;
        foreach (int budget in new[] { 8, 16 })
        {
            for (int repeat = 0; repeat < 2; repeat++)
            {
                var reports = new List<Training.EpochReport>();
                var watch = Stopwatch.StartNew();
                if (binary)
                {
                    ml.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
                    { NumberOfEpochs = budget, L2Regularization = L2, Seed = 1, OnEpochEnd = reports.Add }).Fit(view);
                }
                else
                {
                    ml.MulticlassClassification.Trainers.SoftmaxRegression(new SoftmaxRegressionTrainer.Options
                    { NumberOfEpochs = budget, L2Regularization = L2, Seed = 1, OnEpochEnd = reports.Add }).Fit(view);
                }

                double total = watch.Elapsed.TotalSeconds;
                double iterating = reports.Sum(r => r.Elapsed.TotalSeconds);
                Console.WriteLine($"{task}: ours Lbfgs budget {budget}: Fit {total:F3} s = iterations {iterating:F3} s ({reports.Count}) + reading and wrapping {total - iterating:F3} s");
            }
        }

        Objectives.LinearObjective objective = binary ? new Objectives.LogisticObjective() : new Objectives.SoftmaxObjective(classes);
        var parameters = new float[objective.LayoutFor(data).ParameterCount];
        var gradient = new float[parameters.Length];
        objective.LossAndGradient(data, parameters, gradient);
        var times = new List<double>();
        for (int i = 0; i < 15; i++)
        {
            var evalWatch = Stopwatch.StartNew();
            objective.LossAndGradient(data, parameters, gradient);
            times.Add(evalWatch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine($"{task}: one loss-and-gradient evaluation: fastest {times[0]:F1} ms, median {times[7]:F1} ms (of 15)");
        int count = 0;
        var inObjective = new Stopwatch();
        double Counted(ReadOnlySpan<float> point, Span<float> g)
        {
            count++;
            inObjective.Start();
            double loss = objective.LossAndGradient(data, point, g);
            inObjective.Stop();
            return loss;
        }

        for (int repeat = 0; repeat < 2; repeat++)
        {
            count = 0;
            inObjective.Reset();
            var lbfgsWatch = Stopwatch.StartNew();
            var result = new Lbfgs().Minimize(new float[parameters.Length], Counted, maxIterations: 16);
            double seconds = lbfgsWatch.Elapsed.TotalSeconds;
            Console.WriteLine($"{task}: Lbfgs 16 iterations (no L2): {seconds:F3} s = evaluations {inObjective.Elapsed.TotalSeconds:F3} s ({count}) + vector work {seconds - inObjective.Elapsed.TotalSeconds:F3} s; {result}");
        }
        foreach (int budget in new[] { 8 })
        {
            for (int repeat = 0; repeat < 2; repeat++)
            {
                var watch = Stopwatch.StartNew();
                MlNetLbfgs(ml, view, binary, rows, budget, L2Only);

                Console.WriteLine($"{task}: ML.NET L-BFGS budget {budget}: Fit {watch.Elapsed.TotalSeconds:F3} s");
            }
        }
    }

    /// <summary>
    /// L-BFGS's own vector work at <paramref name="parameterCount"/> parameters: 30 iterations on a badly conditioned diagonal
    /// quadratic ½·Σ aᵢ(xᵢ − 1)² (aᵢ from 1e-2 to 1e2), whose evaluation is one pass over the vectors, with the time inside the
    /// objective split off.
    /// </summary>
    private static void VectorWork(int parameterCount)
    {
        var random = new Random(3);
        float[] curvature = [.. Enumerable.Range(0, parameterCount).Select(_ => (float)Math.Pow(10, (random.NextDouble() * 4) - 2))];
        var inObjective = new Stopwatch();
        int evaluations = 0;
        double Quadratic(ReadOnlySpan<float> x, Span<float> g)
        {
            inObjective.Start();
            evaluations++;
            double loss = 0;
            for (int i = 0; i < x.Length; i++)
            {
                float offset = x[i] - 1;
                g[i] = curvature[i] * offset;
                loss += 0.5 * curvature[i] * offset * offset;
            }

            inObjective.Stop();
            return loss;
        }

        for (int repeat = 0; repeat < 3; repeat++)
        {
            inObjective.Reset();
            evaluations = 0;
            var watch = Stopwatch.StartNew();
            var result = new Lbfgs(gradientTolerance: 0, changeTolerance: 0).Minimize(new float[parameterCount], Quadratic, maxIterations: 30, maxEvaluations: 1000);
            double seconds = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"Lbfgs vector work at {parameterCount:N0} parameters: {result.Iterations} iterations, {evaluations} evaluations: " +
                $"{seconds:F3} s = objective {inObjective.Elapsed.TotalSeconds:F3} s + L-BFGS {(seconds - inObjective.Elapsed.TotalSeconds) / result.Iterations * 1000:F1} ms per iteration");
        }
    }

    private sealed record Entry(string Trainer, int Budget, double Seconds, double Objective, double Accuracy);

    /// <summary>
    /// <c>race-lbfgs</c> mode: our <c>Lbfgs</c> against ML.NET's L-BFGS trainer only (same process, same cached view, L2
    /// matched), at the issue's sizes: softmax 40k × 784 × 10 and 200k × 100 × 10, logistic 1M × 100. Each trainer runs with
    /// budgets growing by about 1.4× (after one warm-up fit) until its objective stops improving; the time to within 1e-3 and
    /// 1e-6 (relative) of the best objective either reached is the median of 5 fits at the cheapest budget that reaches it.
    /// </summary>
    /// <param name="only">"logistic", "softmax", or null for all three; "sparse" for the text-like sparse softmax race
    /// (20,000 rows × 2^17 hashed features × 20 classes); "l1" for the L1 race instead: softmax 40k × 784 × 10 and
    /// logistic 1M × 100 with ML.NET's <c>L1Regularization = L2Regularization = 1</c> (sums) against ours with λ₁ = λ₂ = 1/N
    /// (means), the same objective.</param>
    public static void RaceLbfgs(string? only)
    {
        var rows = new List<string>();
        if (only is "sparse")
        {
            rows.AddRange(SparseLbfgsRace());
        }

        if (only is "l1")
        {
            rows.AddRange(LbfgsRace("softmax", 40_000, 784, 10, withL1: true));
            rows.AddRange(LbfgsRace("logistic", 1_000_000, 100, 2, withL1: true));
        }

        if (only is null or "softmax")
        {
            rows.AddRange(LbfgsRace("softmax", 40_000, 784, 10));
            rows.AddRange(LbfgsRace("softmax", 200_000, 100, 10));
        }

        if (only is null or "logistic")
        {
            rows.AddRange(LbfgsRace("logistic", 1_000_000, 100, 2));
        }

        Console.WriteLine();
        Console.WriteLine("| task | trainer | time to 1e-3 (iterations) | time to 1e-6 (iterations) | ours ÷ ML.NET at 1e-3 | at 1e-6 |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
        rows.ForEach(Console.WriteLine);
    }

    private static readonly int[] FineBudgets = [2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 90, 128, 181, 256, 362, 512];

    private static IEnumerable<string> LbfgsRace(string task, int rows, int features, int classes, bool withL1 = false)
    {
        var train = Problem.Generate(rows, features, classes, seed: 21, hiddenSeed: 5);
        var ml = new MLContext(seed: 1);
        return LbfgsRaceOn(ml, FilledCache(ml, train.ToDataView(ml)), task, $"{rows:N0} × {features}{(classes == 2 ? "" : $" × {classes}")}",
            rows, features, classes, train.Objective, withL1);
    }

    /// <summary>The sparse text-like race: 20,000 rows × 2^17 hashed features × 20 classes (2.6M parameters), L2 only.</summary>
    private static IEnumerable<string> SparseLbfgsRace(int rows = 20_000, int featureBits = 17, int classes = 20)
    {
        var train = TextLikeProblem.Generate(rows, featureBits, classes, seed: 21);
        var ml = new MLContext(seed: 1);
        return LbfgsRaceOn(ml, FilledCache(ml, train.ToDataView(ml)), "sparse softmax", $"{rows:N0} × 2^{featureBits} × {classes}",
            rows, train.FeatureCount, classes, train.Objective, withL1: false);
    }

    private static IEnumerable<string> LbfgsRaceOn(MLContext ml, IDataView view, string task, string size, int rows, int features,
        int classes, Func<double[], double[], double, double> trainObjective, bool withL1)
    {
        bool binary = classes == 2;
        // Ours are means, ML.NET's sums: ML.NET's L1 = L2 = 1 is λ₁ = λ₂ = 1/N.
        var penalty = withL1 ? new Penalty(1.0 / rows, 1.0 / rows) : L2Only;
        var trainers = new (string Name, Func<int, ITransformer> Fit)[]
        {
            ("ours Lbfgs", k => OurLbfgs(ml, view, binary, k, penalty)),
            ($"ML.NET {(binary ? "LbfgsLogisticRegression" : "LbfgsMaximumEntropy")}", k => MlNetLbfgs(ml, view, binary, rows, k, penalty)),
        };
        var runs = trainers.Select(trainer =>
        {
            var entries = new List<(int Budget, double Seconds, double Objective)>();
            trainer.Fit(FineBudgets[0]);
            double ownBest = double.PositiveInfinity;
            int sinceImproved = 0;
            foreach (int budget in FineBudgets)
            {
                var watch = Stopwatch.StartNew();
                var model = trainer.Fit(budget);
                double seconds = watch.Elapsed.TotalSeconds;
                var (weights, biases) = Problem.Parameters(model, features, classes);
                double objective = trainObjective(weights, biases, penalty.L2) + (penalty.L1 * weights.Sum(Math.Abs));
                entries.Add((budget, seconds, objective));
                Console.Error.WriteLine($"{task} {rows} {trainer.Name} budget {budget}: {seconds:F2} s, objective {objective:R}");
                // Stop once three budgets in a row improve on this trainer's best by no more than 1e-9 (relative).
                sinceImproved = objective < ownBest - (1e-9 * Math.Abs(ownBest)) ? 0 : sinceImproved + 1;
                ownBest = Math.Min(ownBest, objective);
                if (sinceImproved == 3 || seconds > 60)
                {
                    break;
                }
            }

            return entries;
        }).ToList();
        double best = runs.SelectMany(r => r).Min(e => e.Objective);
        var times = new double?[trainers.Length, 2];
        var budgets = new int?[trainers.Length, 2];
        double[] targets = [1e-3, 1e-6];
        for (int t = 0; t < trainers.Length; t++)
        {
            for (int g = 0; g < targets.Length; g++)
            {
                var reached = runs[t].Where(e => e.Objective <= best + (targets[g] * Math.Abs(best))).Select(e => (int?)e.Budget).FirstOrDefault();
                if (reached is int budget)
                {
                    times[t, g] = g > 0 && budgets[t, 0] == budget ? times[t, 0] : MedianFitSeconds(trainers[t].Fit, budget);
                    budgets[t, g] = budget;
                }
            }
        }

        for (int t = 0; t < trainers.Length; t++)
        {
            string Cell(int g) => times[t, g] is double s ? $"{s:F2} s ({budgets[t, g]})" : "not reached";
            string Ratio(int g) => t == 0 && times[0, g] is double ours && times[1, g] is double theirs ? $"{ours / theirs:F2}" : "";
            string l1 = withL1 ? ", L1 = L2 = 1/N" : "";
            yield return $"| {task} {size}{l1} (best {best:F8}) | {trainers[t].Name} | {Cell(0)} | {Cell(1)} | {Ratio(0)} | {Ratio(1)} |";
        }
    }

    private static double MedianFitSeconds(Func<int, ITransformer> fit, int budget)
    {
        var fits = new double[5];
        for (int repeat = 0; repeat < fits.Length; repeat++)
        {
            var watch = Stopwatch.StartNew();
            fit(budget);
            fits[repeat] = watch.Elapsed.TotalSeconds;
        }

        Array.Sort(fits);
        return fits[fits.Length / 2];
    }

    /// <summary>The problem as a cached IDataView, read once before any trainer is timed.</summary>
    private static IDataView FilledCache(MLContext ml, IDataView data)
    {
        var view = ml.Data.Cache(data);
        using var cursor = view.GetRowCursor(view.Schema);
        while (cursor.MoveNext())
        {
            // Fill the cache.
        }

        return view;
    }

    /// <summary>The penalties of a race, as our (mean) objective has them.</summary>
    private readonly record struct Penalty(double L2, double L1);

    /// <summary>The races' usual penalty: L2 only (ML.NET's L1, 1 by default, set to 0 so the objectives match).</summary>
    private static readonly Penalty L2Only = new(L2, 0);

    /// <summary>ML.NET's L-BFGS trainer for <paramref name="iterations"/> iterations, L2 and L1 matched to ours (theirs are sums, ours means).</summary>
    private static ITransformer MlNetLbfgs(MLContext ml, IDataView view, bool binary, int rows, int iterations, Penalty penalty) => binary
        ? ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            L2Regularization = (float)(penalty.L2 * rows), L1Regularization = (float)(penalty.L1 * rows),
            MaximumNumberOfIterations = iterations, OptimizationTolerance = 1e-12f,
        }).Fit(view)
        : ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            L2Regularization = (float)(penalty.L2 * rows), L1Regularization = (float)(penalty.L1 * rows),
            MaximumNumberOfIterations = iterations, OptimizationTolerance = 1e-12f,
        }).Fit(view);

    /// <summary>Our trainer with its default <see cref="Lbfgs"/> for <paramref name="iterations"/> iterations.</summary>
    private static ITransformer OurLbfgs(MLContext ml, IDataView view, bool binary, int iterations, Penalty penalty) => binary
        ? ml.BinaryClassification.Trainers.LogisticRegression(new LogisticRegressionTrainer.Options
        { NumberOfEpochs = iterations, L2Regularization = penalty.L2, L1Regularization = penalty.L1, Seed = 1 }).Fit(view)
        : ml.MulticlassClassification.Trainers.SoftmaxRegression(new SoftmaxRegressionTrainer.Options
        { NumberOfEpochs = iterations, L2Regularization = penalty.L2, L1Regularization = penalty.L1, Seed = 1 }).Fit(view);

    private static void Race(string task, int rows, int features, int classes)
    {
        var train = Problem.Generate(rows, features, classes, seed: 21, hiddenSeed: 5);
        var test = Problem.Generate(rows / 5, features, classes, seed: 22, hiddenSeed: 5);
        var ml = new MLContext(seed: 1);
        var view = FilledCache(ml, train.ToDataView(ml));
        bool binary = classes == 2;
        var trainers = new List<(string Name, Func<int, ITransformer> Fit)>();
        if (binary)
        {
            var t = ml.BinaryClassification.Trainers;
            trainers.Add(("ML.NET SdcaLogisticRegression", k => t.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
            { L2Regularization = (float)L2, MaximumNumberOfIterations = k, ConvergenceTolerance = 1e-7f, Shuffle = true }).Fit(view)));
            trainers.Add(("ML.NET LbfgsLogisticRegression", k => MlNetLbfgs(ml, view, binary, rows, k, L2Only)));
            foreach (var (name, optimizer, batch) in OurConfigurations())
            {
                trainers.Add(($"ours {name}", k => t.LogisticRegression(new LogisticRegressionTrainer.Options
                { Optimizer = optimizer, BatchSize = batch, NumberOfEpochs = k, L2Regularization = L2, Seed = 1 }).Fit(view)));
            }
        }
        else
        {
            var t = ml.MulticlassClassification.Trainers;
            trainers.Add(("ML.NET SdcaMaximumEntropy", k => t.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            { L2Regularization = (float)L2, MaximumNumberOfIterations = k, ConvergenceTolerance = 1e-7f, Shuffle = true }).Fit(view)));
            trainers.Add(("ML.NET LbfgsMaximumEntropy", k => MlNetLbfgs(ml, view, binary, rows, k, L2Only)));
            foreach (var (name, optimizer, batch) in OurConfigurations())
            {
                trainers.Add(($"ours {name}", k => t.SoftmaxRegression(new SoftmaxRegressionTrainer.Options
                { Optimizer = optimizer, BatchSize = batch, NumberOfEpochs = k, L2Regularization = L2, Seed = 1 }).Fit(view)));
            }
        }

        var entries = new List<Entry>();
        foreach (var (name, fit) in trainers)
        {
            double previous = double.PositiveInfinity;
            foreach (int budget in Budgets)
            {
                var watch = Stopwatch.StartNew();
                var model = fit(budget);
                double seconds = watch.Elapsed.TotalSeconds;
                var (weights, biases) = Problem.Parameters(model, features, classes);
                double objective = train.Objective(weights, biases, L2);
                entries.Add(new Entry(name, budget, seconds, objective, test.Accuracy(weights, biases)));
                Console.Error.WriteLine($"{task} {name} budget {budget}: {seconds:F2} s, objective {objective:F6}");
                bool converged = Math.Abs(previous - objective) <= 1e-5 * Math.Abs(objective);
                previous = objective;
                if (converged || seconds > (BenchmarkScale.Full ? 120 : 20))
                {
                    break;
                }
            }
        }

        double best = entries.Min(e => e.Objective);
        Console.WriteLine();
        Console.WriteLine($"**{task}**: {rows:N0} training rows × {features} features{(binary ? "" : $" × {classes} classes")}, {rows / 5:N0} held-out rows; best objective {best:F6} (mean log-loss + {L2}/2·‖W‖²).");
        Console.WriteLine();
        Console.WriteLine("| trainer | time to within 1e-3 of best | budget then | objective then | held-out accuracy then | best objective of this trainer |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in entries.GroupBy(e => e.Trainer))
        {
            var reached = group.Where(e => e.Objective <= best + Target * Math.Abs(best)).MinBy(e => e.Seconds);
            double own = group.Min(e => e.Objective);
            Console.WriteLine(reached is null
                ? $"| {group.Key} | not reached | — | — | {group.MinBy(e => e.Objective)!.Accuracy:P2} (at its best) | {own:F6} |"
                : $"| {group.Key} | {reached.Seconds:F2} s | {reached.Budget} | {reached.Objective:F6} | {reached.Accuracy:P2} | {own:F6} |");
        }
    }

    private static IEnumerable<(string Name, IOptimizer Optimizer, int BatchSize)> OurConfigurations()
    {
        yield return ("Lbfgs (full batch)", new Lbfgs(), 0);
        yield return ("Adam, batch 256", new Adam(learningRate: 0.005), 256);
        yield return ("ScheduleFreeAdamW, batch 256", new ScheduleFreeAdamW(learningRate: 0.005), 256);
        yield return ("ScheduleFreeAdamW lr 0.02, batch 2048", new ScheduleFreeAdamW(learningRate: 0.02), 2048);
        yield return ("Sgd momentum 0.9, batch 256", new Sgd(learningRate: 0.05, momentum: 0.9), 256);
    }

    /// <summary>One synthetic data set: dense features, labels drawn from a softmax (or logistic) model.</summary>
    internal sealed class Problem
    {
        private readonly float[] _features;
        private readonly int[] _labels;
        private readonly int _featureCount;
        private readonly int _classCount;

        private Problem(float[] features, int[] labels, int featureCount, int classCount)
        {
            _features = features;
            _labels = labels;
            _featureCount = featureCount;
            _classCount = classCount;
        }

        private sealed class BinaryRow
        {
            public bool Label { get; set; }

            public float[] Features { get; set; } = [];
        }

        private sealed class ClassRow
        {
            public float Label { get; set; }

            public float[] Features { get; set; } = [];
        }

        public static Problem Generate(int rows, int features, int classes, int seed, int hiddenSeed)
        {
            var hiddenRandom = new Random(hiddenSeed);
            int outputs = classes == 2 ? 1 : classes;
            var hidden = new double[outputs * features];
            for (int i = 0; i < hidden.Length; i++)
            {
                hidden[i] = Gaussian(hiddenRandom) * 2 / Math.Sqrt(features);
            }

            var random = new Random(seed);
            var x = new float[rows * features];
            var labels = new int[rows];
            var scores = new double[outputs];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < features; j++)
                {
                    x[r * features + j] = (float)Gaussian(random);
                }

                for (int k = 0; k < outputs; k++)
                {
                    double s = 0;
                    for (int j = 0; j < features; j++)
                    {
                        s += hidden[k * features + j] * x[r * features + j];
                    }

                    scores[k] = s;
                }

                labels[r] = classes == 2
                    ? (random.NextDouble() < 1 / (1 + Math.Exp(-scores[0])) ? 1 : 0)
                    : Gumbel(random, scores);
            }

            return new Problem(x, labels, features, classes);
        }

        public Objectives.TrainingData ToTrainingData() =>
            Objectives.TrainingData.Dense(_featureCount, (float[])_features.Clone(), _labels.Select(l => (float)l).ToArray(), weights: null);

        public IDataView ToDataView(MLContext ml)
        {
            int f = _featureCount;
            float[] Row(int r) => _features.AsSpan(r * f, f).ToArray();
            if (_classCount == 2)
            {
                var schema = SchemaDefinition.Create(typeof(BinaryRow));
                schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, f);
                return ml.Data.LoadFromEnumerable(
                    Enumerable.Range(0, _labels.Length).Select(r => new BinaryRow { Label = _labels[r] == 1, Features = Row(r) }).ToList(), schema);
            }

            // The class index goes in as a number and becomes a key ordered by value, so key k + 1 is class k.
            var classSchema = SchemaDefinition.Create(typeof(ClassRow));
            classSchema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, f);
            var numbered = ml.Data.LoadFromEnumerable(
                Enumerable.Range(0, _labels.Length).Select(r => new ClassRow { Label = _labels[r], Features = Row(r) }).ToList(), classSchema);
            return ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Fit(numbered).Transform(numbered);
        }

        /// <summary>Weights (outputs × features, row-major) and biases of a fitted linear model.</summary>
        public static (double[] Weights, double[] Biases) Parameters(ITransformer transformer, int features, int classes)
        {
            object model = transformer switch
            {
                BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>> b => b.Model.SubModel,
                MulticlassPredictionTransformer<MaximumEntropyModelParameters> m => m.Model,
                _ => throw new NotSupportedException($"Unexpected transformer {transformer.GetType()}"),
            };
            if (model is LinearBinaryModelParameters linear)
            {
                return (linear.Weights.Select(w => (double)w).ToArray(), [linear.Bias]);
            }

            var maxEnt = (MaximumEntropyModelParameters)model;
            VBuffer<float>[] rows = [];
            maxEnt.GetWeights(ref rows, out int classCount);
            var weights = new double[classCount * features];
            for (int k = 0; k < classCount; k++)
            {
                var dense = rows[k].DenseValues().ToArray();
                for (int j = 0; j < features; j++)
                {
                    weights[k * features + j] = dense[j];
                }
            }

            return (weights, maxEnt.GetBiases().Select(b => (double)b).ToArray());
        }

        /// <summary>Mean log-loss + (λ/2)·‖W‖² (biases not penalised), in double.</summary>
        public double Objective(double[] weights, double[] biases, double l2)
        {
            double loss = 0;
            var scores = new double[biases.Length];
            for (int r = 0; r < _labels.Length; r++)
            {
                Scores(r, weights, biases, scores);
                if (_classCount == 2)
                {
                    double margin = _labels[r] == 1 ? scores[0] : -scores[0];
                    loss += margin > 0 ? Math.Log(1 + Math.Exp(-margin)) : -margin + Math.Log(1 + Math.Exp(margin));
                }
                else
                {
                    double max = scores.Max();
                    double sum = 0;
                    foreach (double s in scores)
                    {
                        sum += Math.Exp(s - max);
                    }

                    loss += max + Math.Log(sum) - scores[_labels[r]];
                }
            }

            return loss / _labels.Length + l2 / 2 * weights.Sum(w => w * w);
        }

        public double Accuracy(double[] weights, double[] biases)
        {
            int correct = 0;
            var scores = new double[biases.Length];
            for (int r = 0; r < _labels.Length; r++)
            {
                Scores(r, weights, biases, scores);
                int predicted = _classCount == 2 ? (scores[0] > 0 ? 1 : 0) : Array.IndexOf(scores, scores.Max());
                correct += predicted == _labels[r] ? 1 : 0;
            }

            return (double)correct / _labels.Length;
        }

        private void Scores(int row, double[] weights, double[] biases, double[] scores)
        {
            var x = _features.AsSpan(row * _featureCount, _featureCount);
            for (int k = 0; k < biases.Length; k++)
            {
                double s = biases[k];
                for (int j = 0; j < x.Length; j++)
                {
                    s += weights[k * _featureCount + j] * x[j];
                }

                scores[k] = s;
            }
        }

        private static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        /// <summary>A draw from softmax(scores) by the Gumbel-max trick.</summary>
        private static int Gumbel(Random random, double[] scores)
        {
            int best = 0;
            double bestValue = double.NegativeInfinity;
            for (int k = 0; k < scores.Length; k++)
            {
                double value = scores[k] - Math.Log(-Math.Log(1 - random.NextDouble()));
                if (value > bestValue)
                {
                    bestValue = value;
                    best = k;
                }
            }

            return best;
        }
    }
}
