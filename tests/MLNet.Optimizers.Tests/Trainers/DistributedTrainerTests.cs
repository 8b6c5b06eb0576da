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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Binary_shards_of_one_class_each_train_the_model_of_their_union(bool cacheData)
    {
        // Rank 0 holds only the positive rows, rank 1 only the negative ones: each shard alone has one class, the union both.
        float[][] weights = ThreadCommunicators.Run(2, communicator => BinaryWeights(communicator, cacheData,
            label => label == (communicator.Rank == 0)));
        float[] single = BinaryWeights(SingleProcessCommunicator.Instance, cacheData, _ => true);

        Assert.Equal(weights[0], weights[1]);
        Assert.All(weights[0].Zip(single), pair => Assert.Equal(pair.Second, pair.First, 1e-3));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Binary_shards_whose_union_lacks_a_class_fail_every_rank_with_the_same_error(bool cacheData)
    {
        var errors = ThreadCommunicators.Errors(2, communicator => BinaryWeights(communicator, cacheData, label => label));

        Assert.All(errors, error => Assert.Contains(
            "Label column 'Label' of the training data (the shards of all 2 ranks together) has positive total example weight in only " +
            "the class true; binary classification needs both classes", Assert.IsType<ArgumentException>(error).Message));
    }

    /// <summary>Logistic regression (L-BFGS to tight tolerances) on the breast_cancer rows whose label passes <paramref name="keep"/>
    /// (this rank's shard); the normaliser is fitted on all the rows.</summary>
    private static float[] BinaryWeights(ICommunicator communicator, bool cacheData, Func<bool, bool> keep)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView all = Load(mlContext, "breast_cancer", DataKind.Boolean);
        ITransformer featurizer = Featurize(mlContext, keyLabel: false).Fit(all);
        bool[] labels = [.. all.GetColumn<bool>("Label")];
        IDataView kept = mlContext.Data.LoadFromEnumerable(
            all.GetColumn<float[]>("Raw").Select((raw, row) => new RawRow { Raw = raw, Label = labels[row] }).Where(row => keep(row.Label)),
            all.Schema);
        IDataView shard = featurizer.Transform(kept);
        var options = new LogisticRegressionTrainer.Options
        {
            Optimizer = new Lbfgs(gradientTolerance: 1e-9, changeTolerance: 1e-12),
            NumberOfEpochs = 500,
            L2Regularization = 1e-3,
            Seed = 0,
            CacheData = cacheData,
            Communicator = communicator,
        };
        return [.. mlContext.BinaryClassification.Trainers.LogisticRegression(options).Fit(shard).Model.SubModel.Weights];
    }

    private sealed class RawRow
    {
        public float[] Raw { get; set; } = [];

        public bool Label { get; set; }
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
