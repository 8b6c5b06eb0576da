using MLNet.Optimizers.Internal;

namespace MLNet.Optimizers;

/// <summary>
/// An L1 term <c>λ₁·Σⱼ |θⱼ|</c> over the contiguous range [<see cref="Start"/>, <see cref="Start"/> + <see cref="Count"/>) of
/// the parameters, which <see cref="Lbfgs"/> adds to the smooth objective and minimises by OWL-QN.
/// </summary>
/// <remarks>
/// Parameters outside the range (for a linear model: the biases, which follow the weights) are not penalised.
/// </remarks>
public readonly record struct LbfgsL1Penalty
{
    /// <summary>Creates the term.</summary>
    /// <param name="strength">λ₁; finite and ≥ 0 (0 adds nothing: plain L-BFGS).</param>
    /// <param name="start">The first penalised parameter; ≥ 0.</param>
    /// <param name="count">How many parameters from <paramref name="start"/> are penalised; ≥ 0.</param>
    public LbfgsL1Penalty(double strength, int start, int count)
    {
        Strength = Check.NonNegative(strength);
        Start = Check.AtLeast(start, 0);
        Count = Check.AtLeast(count, 0);
    }

    /// <summary>λ₁, the weight of the L1 norm.</summary>
    public double Strength { get; }

    /// <summary>The first penalised parameter.</summary>
    public int Start { get; }

    /// <summary>The number of penalised parameters.</summary>
    public int Count { get; }

    /// <summary>Whether the term changes anything: λ₁ &gt; 0 over at least one parameter.</summary>
    internal bool IsActive => Strength > 0 && Count > 0;

    /// <summary>Throws unless the penalised range lies within <paramref name="parameterCount"/> parameters.</summary>
    internal void EnsureFits(int parameterCount)
    {
        if ((long)Start + Count > parameterCount)
        {
            throw new ArgumentException(
                $"The L1 penalty covers parameters [{Start}, {(long)Start + Count}) but there are {parameterCount}.", "l1");
        }
    }
}
