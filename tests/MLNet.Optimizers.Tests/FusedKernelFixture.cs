using System.Numerics;
using System.Runtime.InteropServices;
using MLNet.Optimizers;

namespace MLNet.Optimizers.Tests;

/// <summary>A rule's scalar <c>ReferenceStep</c>, as a delegate (spans cannot be generic arguments of Action).</summary>
internal delegate void ReferenceStepFunction(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate);

/// <summary>
/// Shared check that a rule's fused <see cref="Vector{T}"/> step equals its scalar <c>ReferenceStep</c> bit for bit, for
/// every length 0 … 3·<see cref="Vector{T}.Count"/> + 1 (no full vector, one, several, and each tail length), with seeded
/// random data and NaN guard elements around the parameters that must stay untouched.
/// </summary>
internal static class FusedKernelFixture
{
    private const int Guard = 8;

    /// <summary>Every length that exercises a different split between full vectors and the scalar tail.</summary>
    public static IEnumerable<int> AllLengths => Enumerable.Range(0, 3 * Vector<float>.Count + 2);

    /// <summary>Runs <paramref name="steps"/> fused and reference steps side by side for every length and compares everything.</summary>
    public static void AssertFusedMatchesReference(FirstOrderOptimizer rule, ReferenceStepFunction reference, int steps, int seed = 42)
    {
        foreach (int length in AllLengths)
        {
            AssertFusedMatchesReference(rule, reference, length, steps, seed + length);
        }
    }

    private static void AssertFusedMatchesReference(FirstOrderOptimizer rule, ReferenceStepFunction reference, int length, int steps, int seed)
    {
        var random = new Random(seed);
        float[] initial = RandomVector(random, length, scale: 2f);
        float[] fusedBuffer = Guarded(initial);
        float[] referenceBuffer = Guarded(initial);
        var fusedState = rule.CreateState(length);
        var referenceState = rule.CreateState(length);
        for (int step = 0; step < steps; step++)
        {
            float[] gradient = RandomVector(random, length, scale: 1f);
            double learningRate = 0.05 * (1 + step % 3); // varies like a schedule would
            rule.Step(fusedBuffer.AsSpan(Guard, length), gradient, fusedState, learningRate);
            reference(referenceBuffer.AsSpan(Guard, length), gradient, referenceState, learningRate);

            string where = $"{rule.Name}, length {length}, after step {step + 1}";
            AssertBitIdentical(referenceBuffer, fusedBuffer, $"{where}, parameters (with guards)");
            Assert.Equal(referenceState.Step, fusedState.Step);
            Assert.Equal(referenceState.VectorNames, fusedState.VectorNames);
            foreach (string name in referenceState.VectorNames)
            {
                AssertBitIdentical(referenceState.Vector(name), fusedState.Vector(name), $"{where}, state vector '{name}'");
            }

            Assert.Equal(referenceState.ScalarNames, fusedState.ScalarNames);
            foreach (string name in referenceState.ScalarNames)
            {
                Assert.True(
                    BitConverter.DoubleToInt64Bits(referenceState.Scalar(name)) == BitConverter.DoubleToInt64Bits(fusedState.Scalar(name)),
                    $"{where}, state scalar '{name}': reference {referenceState.Scalar(name):R}, fused {fusedState.Scalar(name):R}");
            }
        }

        for (int i = 0; i < Guard; i++)
        {
            Assert.True(float.IsNaN(fusedBuffer[i]) && float.IsNaN(fusedBuffer[Guard + length + i]), $"{rule.Name}, length {length}: a guard element was written");
        }
    }

    private static float[] RandomVector(Random random, int length, float scale)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = scale * (2 * random.NextSingle() - 1);
        }

        return values;
    }

    private static float[] Guarded(float[] values)
    {
        var buffer = new float[values.Length + 2 * Guard];
        Array.Fill(buffer, float.NaN);
        values.CopyTo(buffer, Guard);
        return buffer;
    }

    private static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var expectedBits = MemoryMarshal.Cast<float, int>(expected);
        var actualBits = MemoryMarshal.Cast<float, int>(actual);
        for (int i = 0; i < expectedBits.Length; i++)
        {
            Assert.True(expectedBits[i] == actualBits[i], $"{what}[{i}]: reference {expected[i]:R}, fused {actual[i]:R}");
        }
    }
}
