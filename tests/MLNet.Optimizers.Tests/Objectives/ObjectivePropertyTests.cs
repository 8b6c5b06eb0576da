using FsCheck.Xunit;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Tests.Objectives;

/// <summary>Every objective's gradient matches central finite differences of its loss, over random data and points (FsCheck).</summary>
public class ObjectivePropertyTests
{
    [Property(Arbitrary = [typeof(Generators)], MaxTest = 300)]
    public bool Gradient_matches_central_finite_differences(ObjectiveCase c)
    {
        float[] gradient = new float[c.Parameters.Length];
        c.Objective.LossAndGradient(c.Data, c.Parameters, gradient);
        float[] probe = (float[])c.Parameters.Clone();
        for (int j = 0; j < probe.Length; j++)
        {
            // The probe points are floats, so the difference is divided by the step actually taken.
            double h = 1e-3 * Math.Max(1, Math.Abs(c.Parameters[j]));
            float up = (float)(c.Parameters[j] + h), down = (float)(c.Parameters[j] - h);
            probe[j] = up;
            double lossUp = c.Objective.Loss(c.Data, probe);
            probe[j] = down;
            double lossDown = c.Objective.Loss(c.Data, probe);
            probe[j] = c.Parameters[j];
            double finiteDifference = (lossUp - lossDown) / ((double)up - down);
            if (Math.Abs(finiteDifference - gradient[j]) > 1e-4 * (1 + Math.Abs(gradient[j])))
            {
                return false;
            }
        }

        return true;
    }
}
