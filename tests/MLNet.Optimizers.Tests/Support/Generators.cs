using FsCheck;
using FsCheck.Fluent;
using MLNet.Optimizers.Objectives;
using System.Globalization;

namespace MLNet.Optimizers.Tests.Support;

/// <summary>FsCheck generators for the property-based tests: rules with random in-range settings, finite vectors, data sets.</summary>
public static class Generators
{
    private const int Resolution = 1 << 20;

    /// <summary>A uniform double in [min, max], endpoints included.</summary>
    public static Gen<double> Uniform(double min, double max) =>
        Gen.Choose(0, Resolution).Select(i => min + (max - min) * i / Resolution);

    /// <summary>10^u with u uniform in [log10 min, log10 max].</summary>
    public static Gen<double> LogUniform(double min, double max) =>
        Uniform(Math.Log10(min), Math.Log10(max)).Select(exponent => Math.Pow(10, exponent));

    /// <summary>A finite float: 0 one time in nine, else ± a magnitude log-uniform in [1e-30, <paramref name="maxMagnitude"/>].</summary>
    public static Gen<float> Finite(double maxMagnitude) => Gen.Frequency(
        (1, Gen.Constant(0f)),
        (8, from magnitude in LogUniform(1e-30, maxMagnitude)
            from negative in Flag
            select (float)(negative ? -magnitude : magnitude)));

    // Static initialisers run in text order: the setting generators come before the rules that use them.
    /// <summary>true or false.</summary>
    public static Gen<bool> Flag { get; } = Gen.Elements(false, true);

    /// <summary>
    /// An objective (logistic, softmax with 2 to 4 classes, or squared) over 1 to 12 rows of 1 to 5 features in [−3, 3]
    /// (a third of them 0), dense or sparse, unweighted or with weights in [0, 2] (some 0), at parameters in [−2, 2].
    /// </summary>
    public static Arbitrary<ObjectiveCase> ObjectiveCases() => Arb.From(
        from kind in Gen.Choose(0, 2)
        from classes in Gen.Choose(2, 4)
        from features in Gen.Choose(1, 5)
        from rows in Gen.Choose(1, 12)
        from values in Gen.ArrayOf(Gen.Frequency((1, Gen.Constant(0f)), (2, Uniform(-3, 3).Select(v => (float)v))), rows * features)
        from labelDraws in Gen.ArrayOf(Uniform(0, 1), rows)
        from weighted in Flag
        from weights in Gen.ArrayOf(Gen.Frequency((1, Gen.Constant(0f)), (4, Uniform(0, 2).Select(v => (float)v))), rows)
        from sparse in Flag
        from parameters in Gen.ArrayOf(Uniform(-2, 2).Select(v => (float)v), (kind == 1 ? classes : 1) * (features + 1))
        select ObjectiveCase.Create(kind, classes, features, values, labelDraws, weighted ? weights : null, sparse, parameters));

    private static Gen<double> Rate { get; } = LogUniform(1e-4, 1);

    private static Gen<double> Beta { get; } = Gen.OneOf(Uniform(0, 0.999), Gen.Elements(0.0, 0.9, 0.999));

    private static Gen<double> Momentum { get; } = Gen.OneOf(Uniform(0, 0.99), Gen.Constant(0.0));

    private static Gen<double> Epsilon { get; } = LogUniform(1e-10, 1e-2);

    private static Gen<double> Decay { get; } = Gen.OneOf(Gen.Constant(0.0), LogUniform(1e-6, 0.1));

    /// <summary>Every first-order rule, with every setting drawn from its valid range (endpoints included).</summary>
    public static Gen<FirstOrderOptimizer> Rules { get; } = Gen.OneOf(
        from lr in Rate from momentum in Momentum from dampening in Uniform(0, 1) from nesterov in Flag from decay in Decay
        select (FirstOrderOptimizer)new Sgd(lr, momentum, nesterov && momentum > 0 ? 0 : dampening, nesterov && momentum > 0, decay),
        from lr in Rate from lrDecay in Decay from decay in Decay from initial in Uniform(0, 1) from eps in Epsilon
        select (FirstOrderOptimizer)new Adagrad(lr, lrDecay, decay, initial, eps),
        // α stays inside (0, 1): at α = 1 (and centered at α = 0) the denominator is ε alone, the step is γ·g/ε, and any
        // weight decay then grows θ by a factor of about γλ/ε per step: divergence by construction, not a numeric fault.
        from lr in Rate from alpha in Uniform(0.01, 0.999) from eps in Epsilon from decay in Decay
        from momentum in Momentum from centered in Flag
        select (FirstOrderOptimizer)new RmsProp(lr, alpha, eps, decay, momentum, centered),
        from lr in Rate from rho in Beta.Select(b => b == 0.999 ? 1 : b) from eps in Epsilon from decay in Decay
        select (FirstOrderOptimizer)new Adadelta(lr, rho, eps, decay),
        from lr in Rate from beta1 in Beta from beta2 in Beta from eps in Epsilon from decay in Decay from amsGrad in Flag
        select (FirstOrderOptimizer)new Adam(lr, beta1, beta2, eps, decay, amsGrad),
        from lr in Rate from beta1 in Beta from beta2 in Beta from eps in Epsilon from decay in Decay from amsGrad in Flag
        select (FirstOrderOptimizer)new AdamW(lr, beta1, beta2, eps, decay, amsGrad),
        from lr in Rate from beta1 in Beta from beta2 in Beta from eps in Epsilon from decay in Decay
        select (FirstOrderOptimizer)new Adamax(lr, beta1, beta2, eps, decay),
        from lr in Rate from beta1 in Beta from beta2 in Beta from eps in Epsilon from decay in Decay from psi in Uniform(0, 0.01)
        select (FirstOrderOptimizer)new NAdam(lr, beta1, beta2, eps, decay, psi),
        from lr in Rate from beta1 in Beta from beta2 in Beta from eps in Epsilon from decay in Decay
        select (FirstOrderOptimizer)new RAdam(lr, beta1, beta2, eps, decay),
        from lr in Rate from beta1 in Uniform(0.01, 0.99) from beta2 in Beta from eps in Epsilon from decay in Decay
        from warmup in Gen.Choose(0, 10) from r in Uniform(0, 2) from power in Uniform(0, 3)
        select (FirstOrderOptimizer)new ScheduleFreeAdamW(lr, beta1, beta2, eps, decay, warmup, r, power),
        from lr in Rate from momentum in Uniform(0.01, 0.99) from decay in Decay
        from warmup in Gen.Choose(0, 10) from r in Uniform(0, 2) from power in Uniform(0, 3)
        select (FirstOrderOptimizer)new ScheduleFreeSgd(lr, momentum, decay, warmup, r, power));

    /// <summary>A run: a rule, starting parameters (1 to 20, so both the vector body and the scalar tail run) and 1 to 30 gradients.</summary>
    public static Arbitrary<StepRun> StepRuns() => Arb.From(
        from rule in Rules
        from length in Gen.Choose(1, 20)
        from parameters in Gen.ArrayOf(Finite(1e6), length)
        from steps in Gen.Choose(1, 30)
        from gradients in Gen.ArrayOf(Gen.ArrayOf(Finite(1e6), length), steps)
        from split in Gen.Choose(0, steps)
        select new StepRun(rule, parameters, gradients, split));
}

/// <summary>One generated run of a rule: starting parameters, the gradient of each step, and a step to save and restore at.</summary>
public sealed record StepRun(FirstOrderOptimizer Rule, float[] Parameters, float[][] Gradients, int Split)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Rule}, parameters [{Join(Parameters)}], split at {Split}, gradients [{string.Join("; ", Gradients.Select(Join))}]";

    private static string Join(float[] values) => string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}

/// <summary>One generated objective evaluation: the objective, its data and the point at which to compare gradients.</summary>
public sealed record ObjectiveCase(LinearObjective Objective, TrainingData Data, float[] Parameters, string Description)
{
    /// <summary>Builds the case; <paramref name="labelDraws"/> in [0, 1] become labels that suit the objective.</summary>
    public static ObjectiveCase Create(int kind, int classes, int features, float[] values, double[] labelDraws, float[]? weights,
        bool sparse, float[] parameters)
    {
        LinearObjective objective = kind switch
        {
            0 => new LogisticObjective(),
            1 => new SoftmaxObjective(classes),
            _ => new SquaredObjective(),
        };
        float[] labels = labelDraws.Select(draw => (float)(kind switch
        {
            0 => Math.Round(draw),
            1 => Math.Min(classes - 1, Math.Floor(draw * classes)),
            _ => 10 * draw - 5,
        })).ToArray();
        var data = sparse ? SparseData(features, values, labels, weights) : TrainingData.Dense(features, values, labels, weights);
        string description = $"{objective.GetType().Name}{(kind == 1 ? $"({classes})" : "")}, {(sparse ? "sparse" : "dense")}, " +
            $"features [{string.Join(", ", values)}], labels [{string.Join(", ", labels)}], weights [{string.Join(", ", weights ?? [])}], " +
            $"parameters [{string.Join(", ", parameters)}]";
        return new ObjectiveCase(objective, data, parameters, description);
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    private static TrainingData SparseData(int features, float[] values, float[] labels, float[]? weights)
    {
        var offsets = new List<int> { 0 };
        var indices = new List<int>();
        var stored = new List<float>();
        for (int row = 0; row < labels.Length; row++)
        {
            for (int feature = 0; feature < features; feature++)
            {
                float value = values[row * features + feature];
                if (value != 0)
                {
                    indices.Add(feature);
                    stored.Add(value);
                }
            }

            offsets.Add(indices.Count);
        }

        return TrainingData.Sparse(features, [.. offsets], [.. indices], [.. stored], labels, weights);
    }
}
