using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Distributed;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>The ML.NET trainers with a communicator (ranks made of threads, each with its own MLContext): the checks that
/// only the trainers can make, and logging from rank 0 alone.</summary>
public class DistributedTrainerTests
{
    [Fact]
    public void A_label_mapping_fitted_on_each_shard_fails_every_rank_naming_the_label_names()
    {
        var errors = ThreadCommunicators.Errors(2, communicator =>
        {
            var mlContext = new MLContext(seed: 1);
            IDataView shard = mlContext.Data.ShardForRank(Load(mlContext, "iris", DataKind.String), communicator);
            if (communicator.Rank == 1)
            {
                shard = mlContext.Data.SkipRows(shard, 25); // iris is sorted by class: rank 1 never sees class "0"
            }

            // The mistake under test: the key mapping (and normaliser) fitted on each rank's shard.
            IDataView features = Featurize(mlContext, keyLabel: true).Fit(shard).Transform(shard);
            mlContext.MulticlassClassification.Trainers.SoftmaxRegression(new SoftmaxRegressionTrainer.Options { Communicator = communicator })
                .Fit(features);
        });

        Assert.All(errors, error => Assert.Contains("disagree on the label names: it differs between rank 0 and rank 1",
            Assert.IsType<ArgumentException>(error).Message));
    }

    [Fact]
    public void A_rank_whose_shard_cannot_be_read_fails_every_rank_naming_it()
    {
        var errors = ThreadCommunicators.Errors(3, communicator =>
        {
            var mlContext = new MLContext(seed: 1);
            IDataView data = mlContext.Data.TakeRows(Load(mlContext, "diabetes", DataKind.Single), 2);
            IDataView shard = mlContext.Data.ShardForRank(data, communicator);
            IDataView features = mlContext.Transforms.Concatenate("Features", "Raw").Fit(shard).Transform(shard);
            mlContext.Regression.Trainers.LinearRegression(new LinearRegressionTrainer.Options { Communicator = communicator }).Fit(features);
        });

        Assert.Contains("contains no rows", Assert.IsAssignableFrom<ArgumentException>(errors[2]).Message);
        Assert.All(errors[..2], error => Assert.Contains("rank(s) 2 of 3 could not read their training data",
            Assert.IsAssignableFrom<ArgumentException>(error).Message));
    }

    [Fact]
    public void Only_rank_0_writes_to_the_MLContext_log()
    {
        var messages = ThreadCommunicators.Run(2, communicator =>
        {
            var mlContext = new MLContext(seed: 1);
            int count = 0;
            mlContext.Log += (_, e) => count += e.RawMessage.Contains("epoch ", StringComparison.Ordinal) ? 1 : 0;
            IDataView shard = mlContext.Data.ShardForRank(Load(mlContext, "breast_cancer", DataKind.Boolean), communicator);
            IDataView features = Featurize(mlContext, keyLabel: false).Fit(shard).Transform(shard);
            mlContext.BinaryClassification.Trainers.LogisticRegression(
                new LogisticRegressionTrainer.Options { NumberOfEpochs = 5, Seed = 1, Communicator = communicator }).Fit(features);
            return count;
        });

        Assert.True(messages[0] > 0);
        Assert.Equal(0, messages[1]);
    }
}
