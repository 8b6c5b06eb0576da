using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MLNet.Optimizers.Internal;

namespace MLNet.Optimizers.Objectives;

/// <summary>
/// Multiclass cross-entropy on K scores per row (multinomial logistic regression), labels y ∈ {0, …, K−1}:
/// <c>ℓ(s, y) = −log softmax(s)[y] = logsumexp(s) − s_y</c>.
/// </summary>
/// <remarks>
/// logsumexp is computed as <c>m + log Σₖ exp(sₖ − m)</c> with <c>m = maxₖ sₖ</c>, in double, so it never overflows;
/// <c>∂ℓ/∂sₖ = softmax(s)ₖ − [k = y]</c>. The same loss as PyTorch's <c>CrossEntropyLoss</c> and ML.NET's maximum-entropy trainer.
/// </remarks>
public sealed class SoftmaxObjective : LinearObjective
{
    private readonly int _classCount;

    /// <summary>Creates the objective for <paramref name="classCount"/> classes.</summary>
    /// <param name="classCount">K, at least 2.</param>
    public SoftmaxObjective(int classCount) => _classCount = Check.AtLeast(classCount, 2);

    /// <inheritdoc />
    public override int OutputCount => _classCount;

    /// <inheritdoc />
    protected override string LabelRequirement => $"a class index 0, 1, …, {_classCount - 1}";

    /// <inheritdoc />
    protected override bool IsValidLabel(float label) => label >= 0 && label < _classCount && label == MathF.Floor(label);

    /// <inheritdoc />
    internal override double ZeroModelLoss(TrainingData data, out double totalWeight)
    {
        totalWeight = data.TotalWeight;
        return totalWeight > 0 ? Math.Log(_classCount) : 0; // equal scores: every class has probability 1/K
    }

    /// <inheritdoc />
    protected override double RowLoss(Span<double> scores, float label, bool writeScoreGradient)
    {
        int y = (int)label;
        double max = double.NegativeInfinity;
        foreach (double s in scores)
        {
            max = Math.Max(max, s);
        }

        double sum = 0;
        foreach (double s in scores)
        {
            sum += Math.Exp(s - max);
        }

        double loss = max + Math.Log(sum) - scores[y];
        if (writeScoreGradient)
        {
            for (int k = 0; k < scores.Length; k++)
            {
                scores[k] = (Math.Exp(scores[k] - max) / sum) - (k == y ? 1 : 0);
            }
        }

        return loss;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The same formula as <see cref="RowLoss"/> computed output by output over the tile's rows (vectorised): the row maxima,
    /// the shifted scores, their exponentials and sums, then ℓ = log Σ − (s_y − m) and ∂ℓ/∂sₖ = exp(sₖ − m)·(1/Σ) − [k = y].
    /// </remarks>
    internal override void TileLosses(Span<double> scores, ReadOnlySpan<float> labels, Span<double> losses, Span<double> scratch,
        bool writeScoreGradient)
    {
        int count = labels.Length;
        var max = scratch[..count];
        var sum = scratch.Slice(count, count);
        scores[..count].CopyTo(max);
        for (int k = 1; k < _classCount; k++)
        {
            TensorPrimitives.Max(max, scores.Slice(k * count, count), max);
        }

        for (int k = 0; k < _classCount; k++)
        {
            TensorPrimitives.Subtract(scores.Slice(k * count, count), max, scores.Slice(k * count, count));
        }

        for (int r = 0; r < count; r++)
        {
            losses[r] = -scores[((int)labels[r] * count) + r];
        }

        var all = scores[..(_classCount * count)];
        TensorPrimitives.Exp(all, all);
        scores[..count].CopyTo(sum);
        for (int k = 1; k < _classCount; k++)
        {
            TensorPrimitives.Add(sum, scores.Slice(k * count, count), sum);
        }

        TensorPrimitives.Log(sum, max);
        TensorPrimitives.Add(losses, max, losses);
        if (!writeScoreGradient)
        {
            return;
        }

        TensorPrimitives.Reciprocal(sum, sum);
        for (int k = 0; k < _classCount; k++)
        {
            TensorPrimitives.Multiply(scores.Slice(k * count, count), sum, scores.Slice(k * count, count));
        }

        for (int r = 0; r < count; r++)
        {
            scores[((int)labels[r] * count) + r] -= 1;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The formula of <see cref="TileLosses"/> in single precision, one vector of rows at a time with the row's K scores in
    /// registers (two passes over the tile's scores instead of a dozen): m = maxₖ (sₖ + bₖ), eₖ = exp(sₖ + bₖ − m) (by
    /// <see cref="ExpOfNonPositive"/>), Σ = Σₖ eₖ, then ℓ = log Σ − (s_y + b_y − m) formed in double and
    /// Cₖ = eₖ·(w/Σ) − w·[k = y]. Every eₖ is at most 1 and Σ at least 1, so the float sum and the coefficients lose only a
    /// few units in the last place and the mean loss stays within the dense path's 1e-6 of the all-double evaluation (1e-9
    /// and less measured at the benchmark sizes). Without Vector512 hardware, or in a tile of fewer rows than a vector holds, the double path runs
    /// instead; otherwise the last vector overlaps the one before (ending at the tile's last row) and writes the same values
    /// again, since each row's results depend on that row alone.
    /// </remarks>
    internal override bool TileLossesSingle(ReadOnlySpan<float> scores, ReadOnlySpan<float> biases, ReadOnlySpan<float> labels,
        ReadOnlySpan<float> weights, Span<double> losses, Span<float> coefficients)
    {
        int count = labels.Length, lanes = Vector512<float>.Count;
        if (!Vector512.IsHardwareAccelerated || count < lanes)
        {
            return false;
        }

        bool withGradient = !coefficients.IsEmpty;
        ref float s = ref MemoryMarshal.GetReference(scores);
        ref float c = ref MemoryMarshal.GetReference(coefficients);
        for (int step = 0; step < count; step += lanes)
        {
            int r = Math.Min(step, count - lanes);
            var label = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(labels), (nuint)r);
            var max = Vector512.LoadUnsafe(ref s, (nuint)r) + Vector512.Create(biases[0]);
            for (int k = 1; k < _classCount; k++)
            {
                max = Vector512.Max(max, Vector512.LoadUnsafe(ref s, (nuint)((k * count) + r)) + Vector512.Create(biases[k]));
            }

            var sum = Vector512<float>.Zero;
            var labelShifted = Vector512<float>.Zero;
            for (int k = 0; k < _classCount; k++)
            {
                var shifted = Vector512.LoadUnsafe(ref s, (nuint)((k * count) + r)) + Vector512.Create(biases[k]) - max;
                labelShifted = Vector512.ConditionalSelect(Vector512.Equals(label, Vector512.Create((float)k)), shifted, labelShifted);
                var e = ExpOfNonPositive(shifted);
                sum += e;
                if (withGradient)
                {
                    e.StoreUnsafe(ref c, (nuint)((k * count) + r));
                }
            }

            var (sumLow, sumHigh) = Vector512.Widen(sum);
            var (labelLow, labelHigh) = Vector512.Widen(labelShifted);
            ref double loss = ref MemoryMarshal.GetReference(losses);
            (Vector512.Log(sumLow) - labelLow).StoreUnsafe(ref loss, (nuint)r);
            (Vector512.Log(sumHigh) - labelHigh).StoreUnsafe(ref loss, (nuint)(r + Vector512<double>.Count));
            if (!withGradient)
            {
                continue;
            }

            var weight = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(weights), (nuint)r);
            var scale = weight / sum;
            for (int k = 0; k < _classCount; k++)
            {
                ref float target = ref Unsafe.Add(ref c, (k * count) + r);
                var labelWeight = Vector512.ConditionalSelect(Vector512.Equals(label, Vector512.Create((float)k)), weight, Vector512<float>.Zero);
                ((Vector512.LoadUnsafe(ref target) * scale) - labelWeight).StoreUnsafe(ref target);
            }
        }

        return true;
    }

    /// <summary>
    /// exp(x) for x ≤ 0 in single precision (Cephes' expf: x = n·ln 2 + r with |r| ≤ ½ ln 2, a degree-7 polynomial in r,
    /// then 2ⁿ through the exponent bits), within about 2 units in the last place; exp(0) = 1 exactly. Arguments below
    /// −87.3 give about 1e-38 instead of a subnormal or 0, which no sum that includes exp(0) = 1 can notice; NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpOfNonPositive(Vector512<float> x)
    {
        x = Vector512.Max(x, Vector512.Create(-87.33654f));
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1.9875691500e-4f), r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return p * scale;
    }
}
