using System.Numerics;

namespace MLNet.Optimizers.Tests.Optimizers;

public class GradientClippingTests
{
    [Fact]
    public void Global_norm_clipping_scales_by_max_over_norm_plus_pytorch_epsilon()
    {
        // ‖(3, 4)‖ = 5 > 1: k = 1/(5 + 1e-6) = 0.19999996, so g = (0.59999988, 0.79999984); the returned norm is the unclipped 5.
        float[] gradient = [3f, 4f];
        double norm = GradientClipping.ByGlobalNorm(1.0).Apply(gradient);

        Assert.Equal(5.0, norm);
        Golden.AssertClose(0.59999988, gradient[0], "g[0]");
        Golden.AssertClose(0.79999984, gradient[1], "g[1]");
    }

    [Fact]
    public void Global_norm_clipping_leaves_a_small_gradient_untouched()
    {
        float[] gradient = [0.3f, -0.4f];
        double norm = new ClipByGlobalNorm(maxNorm: 1.0).Apply(gradient);

        Assert.Equal(0.5, norm, 1e-7);
        Assert.Equal([0.3f, -0.4f], gradient);
    }

    [Fact]
    public void Global_norm_is_accumulated_in_double_across_vector_body_and_tail()
    {
        // 3·Vector<float>.Count + 3 elements of 0.5 and one of 2: Σg² = n·0.25 + 4, exactly representable.
        int n = 3 * Vector<float>.Count + 3;
        float[] gradient = Enumerable.Repeat(0.5f, n).Append(2f).ToArray();

        Assert.Equal(Math.Sqrt(n * 0.25 + 4), GradientClipping.GlobalNorm(gradient));
        Assert.Equal(0.0, GradientClipping.GlobalNorm([]));
    }

    [Fact]
    public void Global_norm_clipping_over_many_elements_matches_a_plain_double_loop()
    {
        var random = new Random(7);
        float[] gradient = Enumerable.Range(0, 1001).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        float[] original = (float[])gradient.Clone();
        double expectedNorm = Math.Sqrt(original.Sum(g => (double)g * g));

        double norm = new ClipByGlobalNorm(maxNorm: 2.0).Apply(gradient);

        Assert.Equal(expectedNorm, norm, 1e-9);
        float scale = (float)(2.0 / (expectedNorm + 1e-6));
        for (int i = 0; i < gradient.Length; i++)
        {
            Assert.Equal(original[i] * scale, gradient[i]);
        }

        Golden.AssertClose(2.0, GradientClipping.GlobalNorm(gradient), "clipped norm");
    }

    [Fact]
    public void Value_clipping_clamps_each_element_and_returns_the_norm_before()
    {
        float[] gradient = [-2f, 0.25f, 0.5f, 3f, -0.125f];
        double norm = GradientClipping.ByValue(0.5).Apply(gradient);

        Assert.Equal(Math.Sqrt(4 + 0.0625 + 0.25 + 9 + 0.015625), norm);
        Assert.Equal([-0.5f, 0.25f, 0.5f, 0.5f, -0.125f], gradient);
    }

    [Fact]
    public void Value_clipping_maps_infinities_to_the_bound_and_keeps_nan()
    {
        float[] gradient = [float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        double norm = new ClipByValue(clipValue: 1).Apply(gradient);

        Assert.True(double.IsNaN(norm));
        Assert.Equal(1f, gradient[0]);
        Assert.Equal(-1f, gradient[1]);
        Assert.True(float.IsNaN(gradient[2]));
    }
}
