using System.Numerics.Tensors;
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
    /// The formula of <see cref="TileLosses"/> in single precision (the scores carry a single-precision rounding already), output
    /// by output over the tile's rows; only each row's ℓ = log Σ − (s_y − m) is formed in double. Every exponential is at most
    /// 1 and their sum at least 1, so the float sum and its logarithm lose only a few units in the last place: the mean loss
    /// stays within the dense path's 1e-6 of the all-double evaluation.
    /// </remarks>
    internal override bool TileLossesSingle(Span<float> scores, ReadOnlySpan<float> biases, ReadOnlySpan<float> labels,
        Span<double> losses, Span<float> scratch, bool writeScoreGradient)
    {
        int count = labels.Length;
        var max = scratch[..count];
        var sum = scratch.Slice(count, count);
        for (int k = 0; k < _classCount; k++)
        {
            var outputScores = scores.Slice(k * count, count);
            TensorPrimitives.Add(outputScores, biases[k], outputScores);
            if (k == 0)
            {
                outputScores.CopyTo(max);
            }
            else
            {
                TensorPrimitives.Max(max, outputScores, max);
            }
        }

        for (int k = 0; k < _classCount; k++)
        {
            TensorPrimitives.Subtract(scores.Slice(k * count, count), max, scores.Slice(k * count, count));
        }

        for (int r = 0; r < count; r++)
        {
            losses[r] = -(double)scores[((int)labels[r] * count) + r];
        }

        var all = scores[..(_classCount * count)];
        TensorPrimitives.Exp(all, all);
        scores[..count].CopyTo(sum);
        for (int k = 1; k < _classCount; k++)
        {
            TensorPrimitives.Add(sum, scores.Slice(k * count, count), sum);
        }

        TensorPrimitives.Log(sum, max);
        for (int r = 0; r < count; r++)
        {
            losses[r] += max[r];
        }

        if (!writeScoreGradient)
        {
            return true;
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

        return true;
    }
}
