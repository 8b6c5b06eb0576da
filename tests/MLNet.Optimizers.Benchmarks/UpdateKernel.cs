using System.Numerics.Tensors;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// One memory-bound loop to time: an optimizer's update step or a bandwidth baseline, with the number of bytes it must
/// move per parameter (floats read + floats written, 4 bytes each, counted the STREAM way: no write-allocate traffic).
/// </summary>
/// <param name="Name">The row label.</param>
/// <param name="BytesPerParameter">Bytes the loop must read and write per element; the floor is this ÷ triad bandwidth.</param>
/// <param name="Prepare">Allocates the vectors for n elements and returns the loop to time.</param>
public sealed record UpdateKernel(string Name, int BytesPerParameter, Func<int, Action> Prepare)
{
    /// <summary>The STREAM triad a ← b + s·c (read 2, write 1): the bandwidth every rule's floor is measured against.</summary>
    public const string TriadName = "Triad (baseline)";

    /// <summary>Every kernel in the update-step benchmark, baselines first.</summary>
    public static IEnumerable<UpdateKernel> All()
    {
        yield return new("Copy (baseline)", 8, n =>
        {
            float[] a = new float[n], b = Filled(n, 1);
            return () => b.AsSpan().CopyTo(a);
        });
        yield return new(TriadName, 12, n =>
        {
            float[] a = new float[n], b = Filled(n, 1), c = Filled(n, 2);
            return () => TensorPrimitives.MultiplyAdd(c, 0.5f, b, a);
        });

        // Bytes = 4 × (vectors read + vectors written): parameters and gradient are read, parameters written, and each
        // state vector is read and written.
        yield return Rule(new Sgd(), stateVectors: 0);
        yield return Rule(new Sgd(momentum: 0.9), stateVectors: 1, label: "Sgd momentum");
        yield return Rule(new Adagrad(), stateVectors: 1);
        yield return Rule(new RmsProp(), stateVectors: 1);
        yield return Rule(new Adadelta(), stateVectors: 2);
        yield return Rule(new Adam(), stateVectors: 2);
        yield return Rule(new AdamW(), stateVectors: 2);
        yield return Rule(new Adamax(), stateVectors: 2);
        yield return Rule(new NAdam(), stateVectors: 2);
        yield return Rule(new RAdam(), stateVectors: 2);
        yield return Rule(new ScheduleFreeAdamW(), stateVectors: 2);
        yield return Rule(new ScheduleFreeSgd(), stateVectors: 1);
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static UpdateKernel Rule(FirstOrderOptimizer rule, int stateVectors, string? label = null) =>
        new(label ?? rule.Name, 4 * (3 + 2 * stateVectors), n =>
        {
            float[] parameters = Filled(n, 3);
            float[] gradient = Filled(n, 4);
            var state = rule.CreateState(n);
            return () => rule.Step(parameters, gradient, state);
        });

    /// <summary>Values of magnitude in [0.5, 1) with random signs: no zeros or denormals to slow a loop down.</summary>
    private static float[] Filled(int n, int seed)
    {
        var random = new Random(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            float magnitude = 0.5f + 0.5f * random.NextSingle();
            values[i] = random.Next(2) == 0 ? magnitude : -magnitude;
        }

        return values;
    }
}
