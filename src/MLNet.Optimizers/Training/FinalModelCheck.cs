using System.Globalization;
using System.Numerics.Tensors;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// The check every run's returned model passes, whatever the optimizer, so that a model is never silently wrong:
/// <list type="number">
/// <item><b>Float scores are finite.</b> ML.NET scores in single precision. With M = max |xᵢⱼ| over every row and feature,
/// <c>M·Σⱼ |W[k,j]| + |b[k]|</c> bounds every row's |score| for output k and every partial sum of its dot product; when it is
/// below <see cref="ScoreLimit"/> (half of float's 3.4e38, room for rounding) for every k, the scores are proven finite
/// without looking at a row. Only when it is not are the rows checked one by one (<c>Σⱼ |W[k,j]·xᵢⱼ| + |b[k]|</c> per row, one
/// more pass).</item>
/// <item><b>The loss is not worse than the all-zero model's.</b> The training loss of the returned parameters must not exceed
/// the baseline by more than <see cref="RelativeLossTolerance"/> of it. The baseline is the all-zero model's loss (from the labels
/// alone, see <see cref="LinearObjective.ZeroModelLoss"/>) or, for a warm start that is worse, the starting point's: a learning
/// rate of 0 stays legal from any start, a model made worse than both predicting nothing and its start does not.</item>
/// </list>
/// M and the zero model's loss come from the data read anyway (one vectorised scan of data held in memory, cached in the
/// data, and label statistics; or gathered during the first complete pass of streamed data); with several ranks the verdict
/// and the baseline are reduced across them.
/// </summary>
internal static class FinalModelCheck
{
    /// <summary>The largest score magnitude accepted: half of <see cref="float.MaxValue"/>.</summary>
    public const double ScoreLimit = float.MaxValue / 2.0;

    /// <summary>How much worse than the all-zero model's the final loss may be, relative to it (rounding of the sums).</summary>
    public const double RelativeLossTolerance = 1e-6;

    /// <summary>Throws when <paramref name="parameters"/> fail either check.</summary>
    /// <param name="objective">The data term.</param>
    /// <param name="layout">The parameter layout.</param>
    /// <param name="train">The training rows.</param>
    /// <param name="parameters">The returned parameters.</param>
    /// <param name="trainingLoss">Their training data loss (global over ranks), or null when unknown (no epoch completed: the
    /// parameters are the starting point).</param>
    /// <param name="startLoss">The training loss at a warm start's parameters, or null (a zero start).</param>
    /// <param name="epochs">The epochs run, for messages.</param>
    /// <param name="communicator">The ranks.</param>
    /// <exception cref="InvalidOperationException">A check failed; the message says which and what to do.</exception>
    public static void Ensure(LinearObjective objective, LinearModelLayout layout, EpochData train, ReadOnlySpan<float> parameters,
        double? trainingLoss, double? startLoss, int epochs, ICommunicator communicator)
    {
        DataSummary summary = train.Summary(objective, epochs);
        double bound = ScoreBound(layout, parameters, summary.FeatureMagnitude);
        long failingRow = bound < ScoreLimit ? -1 : FirstRowBeyondLimit(layout, parameters, train.Chunks(epochs));
        double[] totals = [summary.ZeroModelLossSum, summary.Weight, failingRow >= 0 ? 1 : 0];
        if (communicator.Size > 1)
        {
            communicator.AllreduceSum(totals);
        }

        if (totals[2] > 0)
        {
            string where = failingRow >= 0 ? string.Create(CultureInfo.InvariantCulture, $" (row {failingRow} of the training data)") : " (on another rank)";
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The model trained for {epochs} epoch(s) has scores beyond the range of float{where}: ML.NET scores in single precision, so its predictions would be infinite or NaN. The largest feature magnitude is {summary.FeatureMagnitude:G3} and the largest parameter {Math.Abs(TensorPrimitives.MaxMagnitude(parameters)):G3}. Normalise the features (e.g. to mean 0 and variance 1), or use a smaller learning rate."));
        }

        double zeroModelLoss = totals[1] > 0 ? totals[0] / totals[1] : 0;
        double baseline = Math.Max(zeroModelLoss, startLoss ?? zeroModelLoss);
        if (trainingLoss is double loss && !(loss <= baseline + (RelativeLossTolerance * Math.Abs(baseline))))
        {
            string start = startLoss is double s ? string.Create(CultureInfo.InvariantCulture, $" and than its starting point's {s:G6}") : "";
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The model trained for {epochs} epoch(s) has a training loss of {loss:G6}, worse than the all-zero model's {zeroModelLoss:G6}{start}: it would predict worse than predicting nothing. Use a smaller learning rate, normalise the features (and, for regression, the labels) to mean 0 and variance 1, or train for more epochs."));
        }
    }

    /// <summary>maxₖ (M·Σⱼ |W[k,j]| + |b[k]|), in double.</summary>
    private static double ScoreBound(LinearModelLayout layout, ReadOnlySpan<float> parameters, float featureMagnitude)
    {
        int features = layout.FeatureCount;
        double bound = 0;
        for (int k = 0; k < layout.OutputCount; k++)
        {
            double absoluteWeights = 0;
            foreach (float w in parameters.Slice(k * features, features))
            {
                absoluteWeights += Math.Abs((double)w);
            }

            bound = Math.Max(bound, (featureMagnitude * absoluteWeights) + Math.Abs((double)parameters[layout.WeightCount + k]));
        }

        return bound;
    }

    /// <summary>The first row (counted over all chunks) one of whose scores may reach <see cref="ScoreLimit"/>, or −1.</summary>
    private static long FirstRowBeyondLimit(LinearModelLayout layout, ReadOnlySpan<float> parameters, IEnumerable<TrainingData> chunks)
    {
        int features = layout.FeatureCount;
        long firstRow = 0;
        foreach (var chunk in chunks)
        {
            for (int row = 0; row < chunk.RowCount; row++)
            {
                for (int k = 0; k < layout.OutputCount; k++)
                {
                    var weights = parameters.Slice(k * features, features);
                    double sum = Math.Abs((double)parameters[layout.WeightCount + k]);
                    if (chunk.IsSparse)
                    {
                        for (int p = chunk.RowOffsets![row]; p < chunk.RowOffsets[row + 1]; p++)
                        {
                            sum += Math.Abs(weights[chunk.Indices![p]] * (double)chunk.Values![p]);
                        }
                    }
                    else
                    {
                        var x = chunk.DenseRow(row);
                        for (int j = 0; j < features; j++)
                        {
                            sum += Math.Abs(weights[j] * (double)x[j]);
                        }
                    }

                    if (!(sum < ScoreLimit))
                    {
                        return firstRow + row;
                    }
                }
            }

            firstRow += chunk.RowCount;
        }

        return -1;
    }
}
