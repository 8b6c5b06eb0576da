using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Tests.Objectives;

/// <summary>The batch gradient accumulator: indices come out strictly increasing with their summed values, on both sort paths.</summary>
public class SparseGradientTests
{
    [Theory]
    [InlineData(5_000_000, 300)] // few touched coordinates: radix sort, three 11-bit passes
    [InlineData(100_000, 2_000)] // radix sort, two passes
    [InlineData(1_000, 600)]     // most coordinates touched: read in order from the slots
    public void Indices_are_sorted_and_values_are_the_sums(int length, int adds)
    {
        var gradient = new SparseGradient(length);
        var random = new Random(length);
        for (int round = 0; round < 2; round++) // the second round checks that Clear leaves nothing behind
        {
            var expected = new SortedDictionary<int, double>();
            gradient.Clear();
            for (int a = 0; a < adds; a++)
            {
                int index = random.Next(length);
                double value = random.NextDouble() - 0.5;
                gradient.Add(index, value);
                expected[index] = expected.GetValueOrDefault(index) + value;
            }

            gradient.Finish(divisor: 2);

            Assert.Equal(expected.Keys, gradient.Indices.ToArray());
            Assert.Equal(expected.Values.Select(v => (float)(v / 2)), gradient.Values.ToArray());
        }
    }
}
