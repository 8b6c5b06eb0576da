namespace MLNet.Optimizers.Tests.Training;

/// <summary>The single-process communicator, the in-process multi-rank one the distributed tests use, and AllGather.</summary>
public class CommunicatorTests
{
    [Fact]
    public void Single_process_is_rank_0_of_1_and_leaves_values_unchanged()
    {
        ICommunicator single = SingleProcessCommunicator.Instance;
        double[] values = [1.5, -2, double.Epsilon];

        single.AllreduceSum(values);
        single.Broadcast(values, root: 0);
        single.Barrier();

        Assert.Equal((0, 1), (single.Rank, single.Size));
        Assert.Equal([1.5, -2, double.Epsilon], values);
        Assert.Equal(values, single.AllGather(values));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => single.Broadcast(values, root: 1));
        Assert.Equal("root", error.ParamName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Thread_ranks_sum_broadcast_and_gather_like_the_definitions(int size)
    {
        var results = ThreadCommunicators.Run(size, communicator =>
        {
            int r = communicator.Rank;
            double[] sum = [r + 1, 0.1 * r];
            communicator.AllreduceSum(sum);
            double[] broadcast = [r, -r];
            communicator.Broadcast(broadcast, root: size - 1);
            communicator.Barrier();
            return (communicator.Size, Sum: sum, Broadcast: broadcast, Gather: communicator.AllGather([r, 2 * r]));
        });

        double[] expectedSum = [0, 0];
        for (int r = 0; r < size; r++)
        {
            expectedSum[0] += r + 1;
            expectedSum[1] += 0.1 * r;
        }

        double[] expectedGather = Enumerable.Range(0, size).SelectMany(r => new double[] { r, 2 * r }).ToArray();
        foreach (var result in results)
        {
            Assert.Equal(size, result.Size);
            Assert.Equal(expectedSum, result.Sum);
            Assert.Equal([size - 1, 1 - size], result.Broadcast);
            Assert.Equal(expectedGather, result.Gather);
        }
    }

    [Fact]
    public void Thread_ranks_report_a_rank_that_makes_a_different_call_instead_of_hanging()
    {
        var errors = ThreadCommunicators.Errors(2, communicator =>
        {
            if (communicator.Rank == 0)
            {
                communicator.AllreduceSum(new double[2]);
            }
            else
            {
                communicator.AllreduceSum(new double[3]);
            }
        });

        Assert.All(errors, error => Assert.Contains("while rank", Assert.IsType<InvalidOperationException>(error).Message));
    }
}
