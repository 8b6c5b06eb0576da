using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers;
using MLNet.Optimizers.Distributed;
using MLNet.Optimizers.Trainers;
using MLNet.Optimizers.Training;

// Data-parallel logistic regression over MPI. Each rank trains on every N-th row of breast_cancer.csv; the ranks add their
// losses and gradients with MPI_Allreduce, so every rank ends with the model one process would train on all the rows.
//   mpirun -np 2 dotnet samples/DistributedTraining/bin/Release/net10.0/DistributedTraining.dll [model.zip]
// (as root add --allow-run-as-root; more ranks than cores need --oversubscribe). Without mpirun it runs as a job of one rank.
using var mpi = MpiCommunicator.Initialize();
// RunOrAbort: a rank that fails alone would leave the others waiting in their next collective call, so any exception ends the
// whole job (MPI_Abort) after printing which rank failed and why.
mpi.RunOrAbort(() =>
{
    var mlContext = new MLContext(seed: 0);
    var loader = mlContext.Data.CreateTextLoader<TumorMeasurements>(separatorChar: ',', hasHeader: true);
    IDataView all = loader.Load(Path.Combine(AppContext.BaseDirectory, "data", "breast_cancer.csv"));

    // The normaliser is fitted on all the rows on every rank, so the features mean the same everywhere (a normaliser fitted on
    // each shard would differ from rank to rank). Only the trainer's work is split.
    var featurizer = mlContext.Transforms.Concatenate("Features", nameof(TumorMeasurements.Measurements))
        .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
        .Fit(all);
    IDataView shard = featurizer.Transform(mlContext.Data.ShardForRank(all, mpi));

    // L-BFGS run to tight tolerances, so that it reaches the optimum whichever way the sums are rounded.
    var options = new LogisticRegressionTrainer.Options
    {
        Optimizer = new Lbfgs(gradientTolerance: 1e-9, changeTolerance: 1e-12),
        NumberOfEpochs = 500,
        L2Regularization = 1e-3,
        Seed = 0,
        Communicator = mpi,
    };
    double distributedLoss = double.NaN;
    options.OnEpochEnd = report => distributedLoss = report.TrainingLoss;
    var model = mlContext.BinaryClassification.Trainers.LogisticRegression(options).Fit(shard);
    double distributedObjective = Objective(distributedLoss, model.Model.SubModel.Weights, options.L2Regularization);
    Console.WriteLine($"rank {mpi.Rank} of {mpi.Size}: trained on {shard.GetColumn<bool>("Label").Count()} rows, objective {distributedObjective:R}");

    if (mpi.Rank == 0)
    {
        // Rank 0 reports and saves. For the demonstration it also trains in this process alone on all the rows and compares.
        IDataView features = featurizer.Transform(all);
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(features));
        Console.WriteLine($"{mpi.Library}");
        Console.WriteLine($"All rows: AUC {metrics.AreaUnderRocCurve:F4}, accuracy {metrics.Accuracy:F4}, log-loss {metrics.LogLoss:F4}");

        options.Communicator = SingleProcessCommunicator.Instance;
        double singleLoss = double.NaN;
        options.OnEpochEnd = report => singleLoss = report.TrainingLoss;
        var single = mlContext.BinaryClassification.Trainers.LogisticRegression(options).Fit(features);
        double singleObjective = Objective(singleLoss, single.Model.SubModel.Weights, options.L2Regularization);
        double maxDifference = model.Model.SubModel.Weights.Zip(single.Model.SubModel.Weights, (a, b) => Math.Abs(a - b)).Max();
        double relativeDifference = Math.Abs(distributedObjective - singleObjective) / singleObjective;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"One process on all rows: objective {singleObjective:R}; relative difference {relativeDifference:E1}, largest weight difference {maxDifference:E1}"));
        if (!(relativeDifference <= 1e-9))
        {
            throw new InvalidOperationException("The distributed model does not match the single-process one.");
        }

        string modelPath = Path.GetFullPath(args.Length > 0 ? args[0] : "distributed-model.zip");
        mlContext.Model.Save(featurizer.Append(model), loader, modelPath);
        Console.WriteLine($"Model saved to {modelPath}");
    }
});

// The objective L-BFGS minimised: the mean log-loss + (λ₂/2)·‖w‖².
static double Objective(double loss, IReadOnlyList<float> weights, double l2) => loss + (0.5 * l2 * weights.Sum(w => (double)w * w));

/// <summary>One row of breast_cancer.csv: 30 measurements, then the label (1 = benign).</summary>
internal sealed class TumorMeasurements
{
    [LoadColumn(0, 29), VectorType(30)]
    public float[] Measurements { get; set; } = [];

    [LoadColumn(30)]
    public bool Label { get; set; }
}
