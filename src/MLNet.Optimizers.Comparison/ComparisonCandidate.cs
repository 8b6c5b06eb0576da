using MLNet.Optimizers.Internal;
using System.Globalization;

namespace MLNet.Optimizers.Comparison;

/// <summary>
/// One configuration to compare: an optimizer (with its hyperparameters) plus optional trainer settings. Candidates are
/// immutable and every fold and rung trains a fresh model from them.
/// </summary>
public sealed class ComparisonCandidate
{
    /// <summary>Creates a candidate.</summary>
    /// <param name="optimizer">The optimizer strategy and its hyperparameters.</param>
    /// <param name="name">The display name; defaults to the optimizer's <see cref="IOptimizer.Name"/>.</param>
    public ComparisonCandidate(IOptimizer optimizer, string? name = null)
    {
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        Name = string.IsNullOrWhiteSpace(name) ? optimizer.Name : name;
    }

    /// <summary>The optimizer strategy and its hyperparameters.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The display name (the optimizer family, e.g. <c>Sgd+Nesterov</c>); the learning rate is shown separately.</summary>
    public string Name { get; }

    /// <summary>The mini-batch size given to the trainer (0 = full batch); null keeps the trainer's default. Ignored for
    /// <see cref="Lbfgs"/>, which always takes the full batch.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The L2 penalty given to the trainer; null keeps the trainer's default.</summary>
    public double? L2Regularization { get; init; }

    /// <summary>The optimizer's hyperparameters (its <c>ToString</c>) followed by the trainer settings this candidate overrides.</summary>
    public string Configuration
    {
        get
        {
            string text = Optimizer.ToString() ?? Optimizer.Name;
            if (BatchSize is int batch)
            {
                text += string.Create(CultureInfo.InvariantCulture, $", batchSize: {batch}");
            }

            if (L2Regularization is double l2)
            {
                text += string.Create(CultureInfo.InvariantCulture, $", l2: {l2}");
            }

            return text;
        }
    }

    /// <summary>A short label for legends and progress: the name and the learning rate, e.g. <c>Adam lr=0.003</c>.</summary>
    public string Label => string.Create(CultureInfo.InvariantCulture, $"{Name} lr={Optimizer.LearningRate:G4}");

    /// <summary>Returns a copy with another learning rate (through <see cref="IOptimizer.WithLearningRate"/>) and the same settings.</summary>
    /// <param name="learningRate">The new base learning rate.</param>
    public ComparisonCandidate WithLearningRate(double learningRate) =>
        new(Optimizer.WithLearningRate(learningRate), Name) { BatchSize = BatchSize, L2Regularization = L2Regularization };

    /// <summary>
    /// Expands each base candidate into a log-spaced learning-rate grid: its learning rate times each multiplier,
    /// in the order given (base candidates outer, multipliers inner).
    /// </summary>
    /// <param name="baseCandidates">The candidates whose learning rates are the grid centres.</param>
    /// <param name="learningRateMultipliers">The factors, each finite and &gt; 0, e.g. {0.1, 0.3, 1, 3, 10}.</param>
    public static IReadOnlyList<ComparisonCandidate> WithLearningRateGrid(
        IEnumerable<ComparisonCandidate> baseCandidates, IReadOnlyList<double> learningRateMultipliers)
    {
        ArgumentNullException.ThrowIfNull(baseCandidates);
        ArgumentNullException.ThrowIfNull(learningRateMultipliers);
        if (learningRateMultipliers.Count == 0)
        {
            throw new ArgumentException("learningRateMultipliers must contain at least one factor.", nameof(learningRateMultipliers));
        }

        foreach (double factor in learningRateMultipliers)
        {
            Check.Positive(factor, nameof(learningRateMultipliers));
        }

        var grid = new List<ComparisonCandidate>();
        foreach (var candidate in baseCandidates)
        {
            foreach (double factor in learningRateMultipliers)
            {
                grid.Add(candidate.WithLearningRate(candidate.Optimizer.LearningRate * factor));
            }
        }

        return grid;
    }

    /// <inheritdoc />
    public override string ToString() => Configuration;
}
