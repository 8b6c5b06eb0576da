using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using MLNet.Optimizers.Distributed;
using MLNet.Optimizers.Trainers;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.MpiHost;

/// <summary>
/// The fits of the MPI integration tests, run on every rank of an mpirun job by the host and, as the reference, in one process
/// by the tests (this file is compiled into both): the same code both times, only the communicator differs.
/// </summary>
internal static class DistributedFits
{
    /// <summary>λ₂: a well-conditioned optimum, which L-BFGS reaches to its tolerances from either path.</summary>
    private const double L2 = 1e-2;

    /// <summary>
    /// Trains the named fit on a sample CSV (features, then the label); with a communicator of N ranks, each rank on every N-th
    /// row. The normaliser (and the label's key mapping) is fitted on all the rows, the same on every rank.
    /// </summary>
    /// <returns>The parameters (weights output by output, then the biases) and the objective J = the last epoch's training loss
    /// + (λ₂/2)·‖W‖², which L-BFGS minimises.</returns>
    public static (float[] Parameters, double Objective) Fit(string name, string csvPath, ICommunicator communicator)
    {
        var mlContext = new MLContext(seed: 1);
        bool multiclass = name.StartsWith("softmax", StringComparison.Ordinal);
        int featureCount = File.ReadLines(csvPath).First().Split(',').Length - 1;
        var loader = mlContext.Data.CreateTextLoader(
            [new TextLoader.Column("Raw", DataKind.Single, 0, featureCount - 1),
             new TextLoader.Column("Label", multiclass ? DataKind.Single : DataKind.Boolean, featureCount)],
            separatorChar: ',', hasHeader: true);
        IDataView all = loader.Load(csvPath);
        IEstimator<ITransformer> featurize = mlContext.Transforms.Concatenate("Features", "Raw")
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"));
        if (multiclass)
        {
            featurize = mlContext.Transforms.Conversion.MapValueToKey("Label").Append(featurize);
        }

        IDataView shard = featurize.Fit(all).Transform(mlContext.Data.ShardForRank(all, communicator));
        double loss = double.NaN;
        void Configure(TrainingOptions options)
        {
            options.Communicator = communicator;
            options.Seed = 3;
            options.L2Regularization = L2;
            options.OnEpochEnd = report => loss = report.TrainingLoss;
            (options.Optimizer, options.NumberOfEpochs) = name switch
            {
                "logistic-adam-full-batch" => ((IOptimizer)new Adam(learningRate: 0.05), 30),
                _ => (new Lbfgs(gradientTolerance: 1e-9, changeTolerance: 1e-12), 200),
            };
        }

        if (multiclass)
        {
            var options = new SoftmaxRegressionTrainer.Options();
            Configure(options);
            var model = mlContext.MulticlassClassification.Trainers.SoftmaxRegression(options).Fit(shard).Model;
            VBuffer<float>[] weights = [];
            model.GetWeights(ref weights, out _);
            float[] flat = [.. weights.SelectMany(row => row.DenseValues())];
            return ([.. flat, .. model.GetBiases()], Objective(loss, flat));
        }
        else
        {
            var options = new LogisticRegressionTrainer.Options();
            Configure(options);
            LinearBinaryModelParameters model = mlContext.BinaryClassification.Trainers.LogisticRegression(options).Fit(shard).Model.SubModel;
            return ([.. model.Weights, model.Bias], Objective(loss, [.. model.Weights]));
        }
    }

    private static double Objective(double loss, float[] weights) => loss + (0.5 * L2 * weights.Sum(w => (double)w * w));
}
