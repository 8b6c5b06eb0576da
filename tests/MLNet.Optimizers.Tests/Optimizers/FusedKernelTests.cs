using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary>
/// Each rule's fused Vector&lt;float&gt; loop against its scalar ReferenceStep, bit for bit, at every length that exercises a
/// different split between vector body and scalar tail.
/// </summary>
public class FusedKernelTests
{
    private const int Guard = 8;

    private delegate void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate);

    /// <summary>Every rule configuration with its scalar reference; a new rule adds one line here.</summary>
    private static readonly Dictionary<string, (FirstOrderOptimizer Rule, ReferenceStep Reference)> Kernels = Build(
        ("Sgd plain", new Sgd(learningRate: 0.1)),
        ("Sgd weight decay", new Sgd(learningRate: 0.1, weightDecay: 0.01)),
        ("Sgd momentum+dampening", new Sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.3, weightDecay: 0.01)),
        ("Sgd nesterov", new Sgd(learningRate: 0.1, momentum: 0.9, nesterov: true)),
        ("Adagrad", new Adagrad(learningRate: 0.1, learningRateDecay: 0.1, weightDecay: 0.01, initialAccumulatorValue: 0.1)),
        ("RmsProp plain", new RmsProp(weightDecay: 0.01)),
        ("RmsProp centered+momentum", new RmsProp(momentum: 0.9, centered: true)),
        ("RmsProp centered, alpha < 0.5", new RmsProp(alpha: 0.25, centered: true)),
        ("Adadelta", new Adadelta(weightDecay: 0.01)),
        ("Adam", new Adam()),
        ("Adam weight decay", new Adam(weightDecay: 0.1)),
        ("Adam amsGrad+weight decay", new Adam(amsGrad: true, weightDecay: 0.1)),
        ("AdamW", new AdamW(weightDecay: 0.1)),
        ("AdamW amsGrad", new AdamW(amsGrad: true)),
        ("Adamax weight decay", new Adamax(weightDecay: 0.1)),
        ("Adamax beta1 < 0.5", new Adamax(beta1: 0.3)), // lerp weight 0.7 ≥ 0.5: PyTorch's other lerp branch
        ("NAdam weight decay", new NAdam(weightDecay: 0.1)),
        ("RAdam weight decay", new RAdam(weightDecay: 0.1)),
        ("ScheduleFreeAdamW warm-up+weight decay+r", new ScheduleFreeAdamW(weightDecay: 0.1, warmupSteps: 3, r: 1)),
        ("ScheduleFreeSgd warm-up+weight decay", new ScheduleFreeSgd(weightDecay: 0.1, warmupSteps: 3, weightLrPower: 1)));

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Kernels.Keys)
        {
            for (int n = 0; n <= 3 * Vector<float>.Count + 1; n++)
            {
                data.Add(name, n);
            }
        }

        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Fused_step_matches_reference_step_bit_for_bit(string kernel, int length)
    {
        var (rule, reference) = Kernels[kernel];
        var random = new Random(42 + length);
        float[] parameters = Guarded(length, random, scale: 2);
        float[] referenceParameters = (float[])parameters.Clone();
        var fusedState = rule.CreateState(length);
        var referenceState = rule.CreateState(length);
        var p = parameters.AsSpan(Guard, length);
        var q = referenceParameters.AsSpan(Guard, length);

        // Seven steps so first-step branches (SGD's buffer, Adagrad's undecayed rate, schedule-free's z) and steady state
        // both run, and RAdam reaches its rectified branch (t ≥ 6).
        foreach (double learningRate in new[] { 0.1, 0.05, 0.02, 0.1, 0.05, 0.02, 0.1 })
        {
            float[] gradient = Guarded(length, random, scale: 1);
            rule.Step(p, gradient.AsSpan(Guard, length), fusedState, learningRate);
            reference(q, gradient.AsSpan(Guard, length), referenceState, learningRate);
        }

        Assert.Equal(Bits(referenceParameters), Bits(parameters));
        Assert.Equal(referenceState.Step, fusedState.Step);
        Assert.Equal(referenceState.VectorNames, fusedState.VectorNames);
        foreach (string name in referenceState.VectorNames)
        {
            Assert.Equal(Bits(referenceState.Vector(name)), Bits(fusedState.Vector(name)));
        }

        Assert.Equal(referenceState.ScalarNames, fusedState.ScalarNames);
        foreach (string name in referenceState.ScalarNames)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(referenceState.Scalar(name)), BitConverter.DoubleToInt64Bits(fusedState.Scalar(name)));
        }

        AssertGuardsUntouched(parameters, length);
    }

    private static Dictionary<string, (FirstOrderOptimizer, ReferenceStep)> Build(params (string Name, FirstOrderOptimizer Rule)[] rules) =>
        rules.ToDictionary(r => r.Name, r => (r.Rule, (ReferenceStep)r.Rule.ReferenceStep));

    /// <summary>Seeded values in [−scale, scale) with NaN sentinels on both sides (our stand-in for guard pages).</summary>
    private static float[] Guarded(int length, Random random, float scale)
    {
        var array = new float[length + 2 * Guard];
        Array.Fill(array, float.NaN);
        for (int i = 0; i < length; i++)
        {
            array[Guard + i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        return array;
    }

    private static void AssertGuardsUntouched(float[] array, int length)
    {
        for (int i = 0; i < Guard; i++)
        {
            Assert.True(float.IsNaN(array[i]), $"guard before the span was written at {i}");
            Assert.True(float.IsNaN(array[Guard + length + i]), $"guard after the span was written at {i}");
        }
    }

    private static int[] Bits(ReadOnlySpan<float> values) => MemoryMarshal.Cast<float, int>(values).ToArray();
}
