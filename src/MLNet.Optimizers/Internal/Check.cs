using System.Runtime.CompilerServices;

namespace MLNet.Optimizers.Internal;

/// <summary>
/// Hyperparameter checks that reject NaN (every comparison with NaN is false) and name the parameter, its allowed range
/// and the value received.
/// </summary>
internal static class Check
{
    /// <summary>Returns <paramref name="value"/> when it is finite and ≥ 0.</summary>
    internal static double NonNegative(double value, [CallerArgumentExpression(nameof(value))] string name = "") =>
        value >= 0 && double.IsFinite(value)
            ? value
            : throw OutOfRange(name, $"{name} must be finite and >= 0; got {value}.");

    /// <summary>Returns <paramref name="value"/> when it is finite and &gt; 0.</summary>
    internal static double Positive(double value, [CallerArgumentExpression(nameof(value))] string name = "") =>
        value > 0 && double.IsFinite(value)
            ? value
            : throw OutOfRange(name, $"{name} must be finite and > 0; got {value}.");

    /// <summary>Returns <paramref name="value"/> when it is in [min, max] or [min, max).</summary>
    internal static double InRange(double value, double min, double max, bool maxExclusive,
        [CallerArgumentExpression(nameof(value))] string name = "") =>
        value >= min && (maxExclusive ? value < max : value <= max)
            ? value
            : throw OutOfRange(name, $"{name} must be in [{min}, {max}{(maxExclusive ? ")" : "]")}; got {value}.");

    /// <summary>Returns <paramref name="value"/> when it is strictly between <paramref name="min"/> and <paramref name="max"/>.</summary>
    internal static double InOpenRange(double value, double min, double max,
        [CallerArgumentExpression(nameof(value))] string name = "") =>
        value > min && value < max
            ? value
            : throw OutOfRange(name, $"{name} must be in ({min}, {max}); got {value}.");

    /// <summary>Returns <paramref name="value"/> when it is at least <paramref name="min"/>.</summary>
    internal static int AtLeast(int value, int min, [CallerArgumentExpression(nameof(value))] string name = "") =>
        value >= min
            ? value
            : throw OutOfRange(name, $"{name} must be >= {min}; got {value}.");

    /// <summary>Returns <paramref name="value"/> when it is an index in [0, <paramref name="count"/>).</summary>
    internal static int Index(int value, int count, [CallerArgumentExpression(nameof(value))] string name = "") =>
        (uint)value < (uint)count
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, {count}); got {value}.");

    /// <summary>Returns <paramref name="value"/> when it is a named member of its enum.</summary>
    internal static TEnum Defined<TEnum>(TEnum value, [CallerArgumentExpression(nameof(value))] string name = "")
        where TEnum : struct, Enum =>
        Enum.IsDefined(value)
            ? value
            : throw OutOfRange(name, $"{name} must be one of [{string.Join(", ", Enum.GetNames<TEnum>())}]; got {value}.");

    /// <summary>The exception for an out-of-range argument, its message stating the value once (the overload that also takes
    /// the value would append "Actual value was …" after a message that already says it).</summary>
    private static ArgumentOutOfRangeException OutOfRange(string name, string message) => new(name, message);
}
