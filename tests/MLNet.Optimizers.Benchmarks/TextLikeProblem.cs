using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// Hashed-text-like multiclass data, the common use of ML.NET's linear trainers (FeaturizeText into 10⁵ dimensions): each
/// row is a bag of 20–100 tokens, a quarter drawn from its class's own vocabulary and the rest from a shared one (both
/// Zipf-distributed), hashed into 2^bits features, counted and L2-normalised; in 30 % of the rows the class vocabulary is
/// another class's, so the classes overlap and the regularised optimum is well inside the data's reach.
/// </summary>
internal sealed class TextLikeProblem(int featureCount, int classCount, int[] rowOffsets, int[] indices, float[] values, int[] labels)
{
    private const int SharedVocabulary = 50_000;
    private const int ClassVocabulary = 1_000;

    public int FeatureCount => featureCount;

    public int ClassCount => classCount;

    public int RowCount => labels.Length;

    private sealed class Row
    {
        public float Label { get; set; }

        public VBuffer<float> Features { get; set; }
    }

    public static TextLikeProblem Generate(int rows, int featureBits, int classes, int seed)
    {
        var random = new Random(seed);
        double[] shared = ZipfCdf(SharedVocabulary), own = ZipfCdf(ClassVocabulary);
        int features = 1 << featureBits;
        var offsets = new int[rows + 1];
        var allIndices = new List<int>();
        var allValues = new List<float>();
        var allLabels = new int[rows];
        var counts = new SortedDictionary<int, int>();
        for (int r = 0; r < rows; r++)
        {
            int label = random.Next(classes);
            int topic = random.NextDouble() < 0.3 ? random.Next(classes) : label;
            int length = 20 + random.Next(81);
            counts.Clear();
            for (int t = 0; t < length; t++)
            {
                long word = random.NextDouble() < 0.25
                    ? SharedVocabulary + ((long)topic * ClassVocabulary) + Draw(own, random)
                    : Draw(shared, random);
                int feature = (int)(((ulong)word * 0x9E3779B97F4A7C15UL) >> (64 - featureBits));
                counts[feature] = counts.GetValueOrDefault(feature) + 1;
            }

            double norm = Math.Sqrt(counts.Values.Sum(c => (double)c * c));
            foreach (var (feature, count) in counts)
            {
                allIndices.Add(feature);
                allValues.Add((float)(count / norm));
            }

            offsets[r + 1] = allIndices.Count;
            allLabels[r] = label;
        }

        return new TextLikeProblem(features, classes, offsets, [.. allIndices], [.. allValues], allLabels);
    }

    public Objectives.TrainingData ToTrainingData() =>
        Objectives.TrainingData.Sparse(FeatureCount, (int[])rowOffsets.Clone(), (int[])indices.Clone(), (float[])values.Clone(),
            labels.Select(l => (float)l).ToArray(), weights: null);

    public IDataView ToDataView(MLContext ml)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, FeatureCount);
        var rows = Enumerable.Range(0, RowCount).Select(r =>
        {
            int start = rowOffsets[r], length = rowOffsets[r + 1] - start;
            return new Row
            {
                Label = labels[r],
                Features = new VBuffer<float>(FeatureCount, length, values.AsSpan(start, length).ToArray(), indices.AsSpan(start, length).ToArray()),
            };
        }).ToList();
        var numbered = ml.Data.LoadFromEnumerable(rows, schema);
        return ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(numbered).Transform(numbered);
    }

    /// <summary>Mean softmax log-loss + (λ/2)·‖W‖² (biases not penalised), in double; weights class-major.</summary>
    public double Objective(double[] weights, double[] biases, double l2)
    {
        double loss = 0;
        var scores = new double[ClassCount];
        for (int r = 0; r < RowCount; r++)
        {
            for (int k = 0; k < ClassCount; k++)
            {
                double s = biases[k];
                for (int p = rowOffsets[r]; p < rowOffsets[r + 1]; p++)
                {
                    s += weights[(k * FeatureCount) + indices[p]] * values[p];
                }

                scores[k] = s;
            }

            double max = scores.Max();
            double sum = scores.Sum(s => Math.Exp(s - max));
            loss += max + Math.Log(sum) - scores[labels[r]];
        }

        return loss / RowCount + l2 / 2 * weights.Sum(w => w * w);
    }

    private static double[] ZipfCdf(int size)
    {
        var cdf = new double[size];
        double total = 0;
        for (int i = 0; i < size; i++)
        {
            total += 1.0 / (i + 1);
            cdf[i] = total;
        }

        for (int i = 0; i < size; i++)
        {
            cdf[i] /= total;
        }

        return cdf;
    }

    private static int Draw(double[] cdf, Random random)
    {
        int index = Array.BinarySearch(cdf, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, cdf.Length - 1);
    }
}
