using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Objectives;

/// <summary>
/// How the parameters of a linear model with K outputs over D features sit in one flat vector of length K·D + K:
/// the weights row-major per output (<c>W[k·D + j]</c>), then the K biases.
/// </summary>
/// <remarks>K = 1 for binary classification and regression, K = the class count for softmax.</remarks>
public readonly record struct LinearModelLayout
{
    /// <summary>Creates the layout of a model with <paramref name="outputCount"/> outputs over <paramref name="featureCount"/> features.</summary>
    /// <param name="outputCount">K, at least 1.</param>
    /// <param name="featureCount">D, at least 1.</param>
    public LinearModelLayout(int outputCount, int featureCount)
    {
        Check.AtLeast(outputCount, 1);
        Check.AtLeast(featureCount, 1);
        long parameterCount = ((long)outputCount * featureCount) + outputCount;
        if (parameterCount > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(featureCount),
                $"{outputCount} outputs × {featureCount} features need {parameterCount} parameters; at most {Array.MaxLength} fit in one array.");
        }

        OutputCount = outputCount;
        FeatureCount = featureCount;
    }

    /// <summary>K, the number of outputs (scores) per row.</summary>
    public int OutputCount { get; }

    /// <summary>D, the number of features per row.</summary>
    public int FeatureCount { get; }

    /// <summary>K·D, the number of weights; the biases start at this index.</summary>
    public int WeightCount => OutputCount * FeatureCount;

    /// <summary>K·D + K, the length of the flat parameter vector.</summary>
    public int ParameterCount => WeightCount + OutputCount;

    /// <summary>All K·D weights of <paramref name="parameters"/> (every output's weights, row-major).</summary>
    /// <param name="parameters">A flat parameter vector of length <see cref="ParameterCount"/>.</param>
    public Span<float> Weights(Span<float> parameters) => Checked(parameters)[..WeightCount];

    /// <inheritdoc cref="Weights(Span{float})"/>
    public ReadOnlySpan<float> Weights(ReadOnlySpan<float> parameters) => Checked(parameters)[..WeightCount];

    /// <summary>The D weights of output <paramref name="output"/>.</summary>
    /// <param name="parameters">A flat parameter vector of length <see cref="ParameterCount"/>.</param>
    /// <param name="output">The output index k, in [0, K).</param>
    public Span<float> WeightsOf(Span<float> parameters, int output) =>
        Checked(parameters).Slice(CheckedOutput(output) * FeatureCount, FeatureCount);

    /// <inheritdoc cref="WeightsOf(Span{float}, int)"/>
    public ReadOnlySpan<float> WeightsOf(ReadOnlySpan<float> parameters, int output) =>
        Checked(parameters).Slice(CheckedOutput(output) * FeatureCount, FeatureCount);

    /// <summary>The K biases of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">A flat parameter vector of length <see cref="ParameterCount"/>.</param>
    public Span<float> Biases(Span<float> parameters) => Checked(parameters)[WeightCount..];

    /// <inheritdoc cref="Biases(Span{float})"/>
    public ReadOnlySpan<float> Biases(ReadOnlySpan<float> parameters) => Checked(parameters)[WeightCount..];

    /// <summary>Throws unless <paramref name="parameters"/> has <see cref="ParameterCount"/> elements.</summary>
    /// <param name="parameters">The vector to check.</param>
    /// <param name="name">The argument name to report.</param>
    public void EnsureLength(ReadOnlySpan<float> parameters, string name = "parameters")
    {
        if (parameters.Length != ParameterCount)
        {
            throw new ArgumentException(
                $"{name} has {parameters.Length} elements but a model with {OutputCount} output(s) over {FeatureCount} features has " +
                $"{ParameterCount} parameters ({OutputCount}×{FeatureCount} weights, then {OutputCount} bias(es)).", name);
        }
    }

    private Span<float> Checked(Span<float> parameters)
    {
        EnsureLength(parameters);
        return parameters;
    }

    private ReadOnlySpan<float> Checked(ReadOnlySpan<float> parameters)
    {
        EnsureLength(parameters);
        return parameters;
    }

    private int CheckedOutput(int output) =>
        (uint)output < (uint)OutputCount
            ? output
            : throw new ArgumentOutOfRangeException(nameof(output), $"output must be in [0, {OutputCount}); got {output}.");
}
