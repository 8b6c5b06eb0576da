using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// The values a restored <see cref="OptimizerState"/> may hold, by PyTorch state name: every value finite; sums and
/// averages of squares or magnitudes ≥ 0 (a negative one turns the next step's root or division into NaN); the few
/// scalars within the range their update keeps them in.
/// </summary>
internal static class OptimizerStateRanges
{
    /// <summary>Vectors that are running sums or averages of squares or magnitudes.</summary>
    private static readonly HashSet<string> NonNegativeVectors =
        ["exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum", "acc_delta", "exp_inf"];

    /// <summary>Scalars with a range: NAdam's product of momentum factors; the schedule-free weights and rates; the lazy rate.</summary>
    private static readonly Dictionary<string, (double Min, double Max)> ScalarRanges = new()
    {
        ["mu_product"] = (0, 1),
        ["weight_sum"] = (0, double.MaxValue),
        ["lr_max"] = (-1, double.MaxValue),
        ["scheduled_lr"] = (0, double.MaxValue),
        ["lazy_learning_rate"] = (0, double.MaxValue),
    };

    /// <summary>The sparse rules' per-coordinate last-updated step, an int32 stored in the float's bits.</summary>
    private const string LastStepKey = SparseSteps.LastStepKey;

    /// <summary>Throws an <see cref="InvalidDataException"/> naming the first value out of its range.</summary>
    internal static void Check(string ruleName, long step, IReadOnlyDictionary<string, float[]> vectors, IReadOnlyDictionary<string, double> scalars)
    {
        if (step < 0)
        {
            throw new InvalidDataException($"The {ruleName} snapshot has step {step}; a step count is >= 0.");
        }

        foreach (var (name, values) in vectors)
        {
            if (name == LastStepKey)
            {
                CheckLastSteps(ruleName, step, values);
                continue;
            }

            bool nonNegative = NonNegativeVectors.Contains(name);
            for (int i = 0; i < values.Length; i++)
            {
                float value = values[i];
                if (!float.IsFinite(value) || (nonNegative && value < 0))
                {
                    throw new InvalidDataException(
                        $"The {ruleName} snapshot has {name}[{i}] = {value}; it must be finite{(nonNegative ? " and >= 0" : "")}.");
                }
            }
        }

        foreach (var (name, value) in scalars)
        {
            var (min, max) = ScalarRanges.TryGetValue(name, out var range) ? range : (-double.MaxValue, double.MaxValue);
            if (!(value >= min && value <= max))
            {
                throw new InvalidDataException(
                    $"The {ruleName} snapshot has {name} = {value}; it must be finite{(ScalarRanges.ContainsKey(name) ? $" and in [{min}, {max}]" : "")}.");
            }
        }
    }

    private static void CheckLastSteps(string ruleName, long step, float[] values)
    {
        ReadOnlySpan<int> lastSteps = MemoryMarshal.Cast<float, int>(values.AsSpan());
        for (int i = 0; i < lastSteps.Length; i++)
        {
            if (lastSteps[i] < 0 || lastSteps[i] > step)
            {
                throw new InvalidDataException(
                    $"The {ruleName} snapshot has {LastStepKey}[{i}] = {lastSteps[i]}; it must be in [0, {step}], the state's step.");
            }
        }
    }
}
