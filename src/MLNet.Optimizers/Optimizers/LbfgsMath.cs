using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace MLNet.Optimizers;

/// <summary>
/// The vector kernels of <see cref="Lbfgs"/>: reductions over float vectors accumulated in double (dot products, norms,
/// the curvature pair), and the float update x + t·d shared by the line search and the final step so both produce the
/// same bits.
/// </summary>
internal static class LbfgsMath
{
    // The reductions below sum in one fixed order on every machine: element i goes to lane i mod 4, each lane adds its
    // elements in index order, the lanes combine as (l0 + l1) + (l2 + l3), and the tail (n mod 4 elements) follows one
    // by one. The Vector256 path (8 floats widened into two 4-lane halves) keeps exactly that order, and a float·float
    // product is exact in double, so the results do not depend on the vector width or on hardware acceleration.

    /// <summary>Σ aᵢ·bᵢ in double, in the fixed order described above.</summary>
    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        b = b[..a.Length];
        var lanes = Vector256<double>.Zero;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<float>.Count <= a.Length; i += Vector256<float>.Count)
            {
                var va = Vector256.Create(a.Slice(i, Vector256<float>.Count));
                var vb = Vector256.Create(b.Slice(i, Vector256<float>.Count));
                lanes += Vector256.WidenLower(va) * Vector256.WidenLower(vb);
                lanes += Vector256.WidenUpper(va) * Vector256.WidenUpper(vb);
            }
        }

        double l0 = lanes[0], l1 = lanes[1], l2 = lanes[2], l3 = lanes[3];
        for (; i + 4 <= a.Length; i += 4)
        {
            l0 += (double)a[i] * b[i];
            l1 += (double)a[i + 1] * b[i + 1];
            l2 += (double)a[i + 2] * b[i + 2];
            l3 += (double)a[i + 3] * b[i + 3];
        }

        double sum = (l0 + l1) + (l2 + l3);
        for (; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    /// <summary>
    /// One pass of the two-loop recursion: <paramref name="x"/> ← (x + a·v)·scale in float (the product a·v rounded, then
    /// the sum, then the scaling, exactly as <c>TensorPrimitives.MultiplyAdd</c> followed by <c>Multiply</c>; scale 1 changes
    /// nothing), and in the same pass Σ uᵢ·xᵢ of the updated x in <see cref="Dot"/>'s order, so the result is that of the
    /// separate passes bit for bit while each vector is read once. An empty <paramref name="u"/> skips the dot (returns 0).
    /// </summary>
    internal static double AddScaledThenDot(Span<float> x, float a, ReadOnlySpan<float> v, float scale, ReadOnlySpan<float> u)
    {
        v = v[..x.Length];
        bool dot = !u.IsEmpty;
        if (dot)
        {
            u = u[..x.Length];
        }

        var lanes = Vector256<double>.Zero;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            var vscale = Vector256.Create(scale);
            for (; i + Vector256<float>.Count <= x.Length; i += Vector256<float>.Count)
            {
                var updated = ((Vector256.Create(v.Slice(i, Vector256<float>.Count)) * va) + Vector256.Create(x.Slice(i, Vector256<float>.Count))) * vscale;
                updated.CopyTo(x.Slice(i, Vector256<float>.Count));
                if (dot)
                {
                    var vu = Vector256.Create(u.Slice(i, Vector256<float>.Count));
                    lanes += Vector256.WidenLower(vu) * Vector256.WidenLower(updated);
                    lanes += Vector256.WidenUpper(vu) * Vector256.WidenUpper(updated);
                }
            }
        }

        double l0 = lanes[0], l1 = lanes[1], l2 = lanes[2], l3 = lanes[3];
        for (; i + 4 <= x.Length; i += 4)
        {
            for (int lane = 0; lane < 4; lane++)
            {
                x[i + lane] = ((v[i + lane] * a) + x[i + lane]) * scale;
            }

            if (dot)
            {
                l0 += (double)u[i] * x[i];
                l1 += (double)u[i + 1] * x[i + 1];
                l2 += (double)u[i + 2] * x[i + 2];
                l3 += (double)u[i + 3] * x[i + 3];
            }
        }

        double sum = (l0 + l1) + (l2 + l3);
        for (; i < x.Length; i++)
        {
            x[i] = ((v[i] * a) + x[i]) * scale;
            sum += dot ? (double)u[i] * x[i] : 0;
        }

        return dot ? sum : 0;
    }

    /// <summary>Σ |aᵢ| (the L1 norm) in double, in the fixed order described above.</summary>
    internal static double SumAbs(ReadOnlySpan<float> a)
    {
        var lanes = Vector256<double>.Zero;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<float>.Count <= a.Length; i += Vector256<float>.Count)
            {
                var va = Vector256.Abs(Vector256.Create(a.Slice(i, Vector256<float>.Count)));
                lanes += Vector256.WidenLower(va);
                lanes += Vector256.WidenUpper(va);
            }
        }

        double l0 = lanes[0], l1 = lanes[1], l2 = lanes[2], l3 = lanes[3];
        for (; i + 4 <= a.Length; i += 4)
        {
            l0 += Math.Abs(a[i]);
            l1 += Math.Abs(a[i + 1]);
            l2 += Math.Abs(a[i + 2]);
            l3 += Math.Abs(a[i + 3]);
        }

        double sum = (l0 + l1) + (l2 + l3);
        for (; i < a.Length; i++)
        {
            sum += Math.Abs(a[i]);
        }

        return sum;
    }

    /// <summary>max |aᵢ| (the infinity norm); NaN when any element is NaN.</summary>
    internal static double MaxAbs(ReadOnlySpan<float> a) => Math.Abs(TensorPrimitives.MaxMagnitude(a));

    /// <summary>
    /// y·s and y·y for y = g − gPrevious and s = t·d, with y and s rounded to float exactly as
    /// <see cref="LbfgsState.PushHistory"/> stores them, without writing them anywhere: the oldest history entry must
    /// survive when the curvature check rejects the pair.
    /// </summary>
    internal static (double Ys, double Yy) CurvaturePair(ReadOnlySpan<float> gradient, ReadOnlySpan<float> previousGradient,
        ReadOnlySpan<float> direction, float step)
    {
        previousGradient = previousGradient[..gradient.Length];
        direction = direction[..gradient.Length];
        var ysLanes = Vector256<double>.Zero;
        var yyLanes = Vector256<double>.Zero;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var t = Vector256.Create(step);
            for (; i + Vector256<float>.Count <= gradient.Length; i += Vector256<float>.Count)
            {
                var y = Vector256.Create(gradient.Slice(i, Vector256<float>.Count)) - Vector256.Create(previousGradient.Slice(i, Vector256<float>.Count));
                var s = Vector256.Create(direction.Slice(i, Vector256<float>.Count)) * t;
                var yLow = Vector256.WidenLower(y);
                var yHigh = Vector256.WidenUpper(y);
                ysLanes += yLow * Vector256.WidenLower(s);
                yyLanes += yLow * yLow;
                ysLanes += yHigh * Vector256.WidenUpper(s);
                yyLanes += yHigh * yHigh;
            }
        }

        Span<double> ys = [ysLanes[0], ysLanes[1], ysLanes[2], ysLanes[3]];
        Span<double> yy = [yyLanes[0], yyLanes[1], yyLanes[2], yyLanes[3]];
        for (; i + 4 <= gradient.Length; i += 4)
        {
            for (int lane = 0; lane < 4; lane++)
            {
                double y = gradient[i + lane] - previousGradient[i + lane];
                double s = direction[i + lane] * step;
                ys[lane] += y * s;
                yy[lane] += y * y;
            }
        }

        double ysSum = (ys[0] + ys[1]) + (ys[2] + ys[3]);
        double yySum = (yy[0] + yy[1]) + (yy[2] + yy[3]);
        for (; i < gradient.Length; i++)
        {
            double y = gradient[i] - previousGradient[i];
            double s = direction[i] * step;
            ysSum += y * s;
            yySum += y * y;
        }

        return (ysSum, yySum);
    }

    /// <summary>destination ← x + t·d in float (t rounded to float once), PyTorch's <c>p.add_(d, alpha=t)</c>.</summary>
    internal static void AddScaled(ReadOnlySpan<float> x, double step, ReadOnlySpan<float> direction, Span<float> destination) =>
        TensorPrimitives.MultiplyAdd(direction, (float)step, x, destination);
}
