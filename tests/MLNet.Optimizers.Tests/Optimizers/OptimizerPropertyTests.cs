using FsCheck.Xunit;

namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary>Properties every first-order rule must have, over random rules, settings, parameters and gradients (FsCheck).</summary>
public class OptimizerPropertyTests
{
    [Property(Arbitrary = [typeof(Generators)], MaxTest = 400)]
    public bool Finite_gradients_and_parameters_in_range_never_give_non_finite_parameters(StepRun run)
    {
        float[] parameters = (float[])run.Parameters.Clone();
        var state = run.Rule.CreateState(parameters.Length);
        float[] evaluation = new float[parameters.Length];
        foreach (float[] gradient in run.Gradients)
        {
            run.Rule.Step(parameters, gradient, state);
            run.Rule.WriteEvaluationPoint(parameters, state, evaluation);
            if (!parameters.All(float.IsFinite) || !evaluation.All(float.IsFinite))
            {
                return false;
            }
        }

        return true;
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 200)]
    public bool Save_then_restore_then_step_equals_stepping_on(StepRun run)
    {
        float[] straight = (float[])run.Parameters.Clone();
        var uninterrupted = run.Rule.CreateState(straight.Length);
        foreach (float[] gradient in run.Gradients)
        {
            run.Rule.Step(straight, gradient, uninterrupted);
        }

        float[] resumed = (float[])run.Parameters.Clone();
        var first = run.Rule.CreateState(resumed.Length);
        foreach (float[] gradient in run.Gradients[..run.Split])
        {
            run.Rule.Step(resumed, gradient, first);
        }

        var second = run.Rule.CreateState(resumed.Length);
        second.Restore(new MemoryStream(Save(first)));
        foreach (float[] gradient in run.Gradients[run.Split..])
        {
            run.Rule.Step(resumed, gradient, second);
        }

        return Bits(straight).SequenceEqual(Bits(resumed)) && Save(uninterrupted).SequenceEqual(Save(second));
    }

    private static byte[] Save(OptimizerState state)
    {
        using var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }

    private static IEnumerable<int> Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits);
}
