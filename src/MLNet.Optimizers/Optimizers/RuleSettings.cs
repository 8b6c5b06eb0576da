using MLNet.Optimizers.Internal;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace MLNet.Optimizers;

/// <summary>
/// The settings of a rule that a saved state must agree with: every public number, bool or enum property of the rule
/// (β₁, ε, amsGrad, historySize, ...) except the learning rate, as (name, value) pairs in ordinal name order. The
/// learning rate is left out because it is given to every step (a schedule changes it) and a restored run may go on at
/// another rate.
/// </summary>
/// <remarks>
/// Read by reflection so that a new rule, or a new setting of a rule, is covered without a list to keep in step.
/// </remarks>
internal static class RuleSettings
{
    private static readonly HashSet<string> NotSettings =
        [nameof(IOptimizer.LearningRate), nameof(FirstOrderOptimizer.HasSeparateEvaluationPoint)];

    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> PropertiesByType = new();

    /// <summary>The settings of <paramref name="rule"/>.</summary>
    internal static KeyValuePair<string, double>[] Of(object rule) =>
        PropertiesByType.GetOrAdd(rule.GetType(), SettingProperties)
            .Select(property => new KeyValuePair<string, double>(property.Name, AsNumber(property.GetValue(rule)!)))
            .ToArray();

    /// <summary>True when both lists hold the same names with bit-identical values.</summary>
    internal static bool Equal(IReadOnlyList<KeyValuePair<string, double>> first, IReadOnlyList<KeyValuePair<string, double>> second) =>
        first.Count == second.Count && first.Zip(second).All(pair =>
            pair.First.Key == pair.Second.Key && pair.First.Value.Equals(pair.Second.Value));

    /// <summary>
    /// The message for a snapshot whose rule was configured differently: each setting that differs, with both values.
    /// </summary>
    internal static string Mismatch(string ruleName, IReadOnlyList<KeyValuePair<string, double>> saved,
        IReadOnlyList<KeyValuePair<string, double>> current)
    {
        var savedByName = saved.ToDictionary(pair => pair.Key, pair => pair.Value);
        var currentByName = current.ToDictionary(pair => pair.Key, pair => pair.Value);
        var differences = new StringBuilder();
        foreach (string name in savedByName.Keys.Union(currentByName.Keys).Order(StringComparer.Ordinal))
        {
            string savedValue = savedByName.TryGetValue(name, out double s) ? Format(s) : "(absent)";
            string currentValue = currentByName.TryGetValue(name, out double c) ? Format(c) : "(absent)";
            if (savedValue != currentValue)
            {
                differences.Append(differences.Length == 0 ? "" : ", ").Append($"{CamelCase(name)} {savedValue} there but {currentValue} here");
            }
        }

        return $"The snapshot was saved by a {ruleName} configured differently: {differences}. " +
            $"Restore it into a state created by a {ruleName} with the same settings (only the learning rate may differ).";
    }

    /// <summary>Writes settings into a snapshot payload as a count and (name, value) pairs.</summary>
    internal static void Write(BinaryWriter writer, IReadOnlyList<KeyValuePair<string, double>> settings)
    {
        writer.Write(settings.Count);
        foreach (var (name, value) in settings)
        {
            writer.Write(name);
            writer.Write(value);
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    internal static KeyValuePair<string, double>[] Read(BinaryReader reader)
    {
        var settings = new KeyValuePair<string, double>[SnapshotFrame.ReadCount(reader, SnapshotFrame.MaxNamedEntries, "settings")];
        for (int i = 0; i < settings.Length; i++)
        {
            settings[i] = new(reader.ReadString(), reader.ReadDouble());
        }

        return settings;
    }

    private static PropertyInfo[] SettingProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.GetIndexParameters().Length == 0 && !NotSettings.Contains(property.Name) && IsSetting(property.PropertyType))
            .OrderBy(property => property.Name, StringComparer.Ordinal)
            .ToArray();

    private static bool IsSetting(Type type) =>
        type.IsEnum || type == typeof(double) || type == typeof(float) || type == typeof(int) || type == typeof(long) || type == typeof(bool);

    private static double AsNumber(object value) =>
        value is Enum ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : Convert.ToDouble(value, CultureInfo.InvariantCulture);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string CamelCase(string name) => string.Concat(char.ToLowerInvariant(name[0]).ToString(), name.AsSpan(1));
}
