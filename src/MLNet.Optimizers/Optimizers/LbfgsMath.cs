using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// The vector kernels of <see cref="Lbfgs"/>: reductions over float vectors accumulated in double (dot products, norms,
/// the curvature pair), and the float update x + t·d shared by the line search and the final step so both produce the
/// same bits.
/// </summary>
internal static class LbfgsMath
{
    /// <summary>Σ aᵢ·bᵢ, each product and the sum in double.</summary>
    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        b = b[..a.Length];
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            var low = Vector<double>.Zero;
            var high = Vector<double>.Zero;
            for (int v = 0; v < va.Length; v++)
            {
                Vector.Widen(va[v], out var aLow, out var aHigh);
                Vector.Widen(vb[v], out var bLow, out var bHigh);
                low += aLow * bLow;
                high += aHigh * bHigh;
            }

            sum = Vector.Sum(low + high);
            i = va.Length * Vector<float>.Count;
        }

        for (; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Σ |aᵢ| (the L1 norm) in double.</summary>
    internal static double SumAbs(ReadOnlySpan<float> a)
    {
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var acc = Vector<double>.Zero;
            for (int v = 0; v < va.Length; v++)
            {
                Vector.Widen(Vector.Abs(va[v]), out var low, out var high);
                acc += low + high;
            }

            sum = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }

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
        double ys = 0, yy = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && gradient.Length >= Vector<float>.Count)
        {
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var gp = MemoryMarshal.Cast<float, Vector<float>>(previousGradient);
            var d = MemoryMarshal.Cast<float, Vector<float>>(direction);
            var t = new Vector<float>(step);
            Vector<double> ysLow = Vector<double>.Zero, ysHigh = Vector<double>.Zero;
            Vector<double> yyLow = Vector<double>.Zero, yyHigh = Vector<double>.Zero;
            for (int v = 0; v < g.Length; v++)
            {
                Vector.Widen(g[v] - gp[v], out var yLow, out var yHigh);
                Vector.Widen(d[v] * t, out var sLow, out var sHigh);
                ysLow += yLow * sLow;
                ysHigh += yHigh * sHigh;
                yyLow += yLow * yLow;
                yyHigh += yHigh * yHigh;
            }

            ys = Vector.Sum(ysLow + ysHigh);
            yy = Vector.Sum(yyLow + yyHigh);
            i = g.Length * Vector<float>.Count;
        }

        for (; i < gradient.Length; i++)
        {
            double y = gradient[i] - previousGradient[i];
            double s = direction[i] * step;
            ys += y * s;
            yy += y * y;
        }

        return (ys, yy);
    }

    /// <summary>destination ← x + t·d in float (t rounded to float once), PyTorch's <c>p.add_(d, alpha=t)</c>.</summary>
    internal static void AddScaled(ReadOnlySpan<float> x, double step, ReadOnlySpan<float> direction, Span<float> destination) =>
        TensorPrimitives.MultiplyAdd(direction, (float)step, x, destination);
}
