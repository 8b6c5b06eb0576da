using MLNet.Optimizers.Schedules;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Trainers;

/// <summary>
/// Options shared by <see cref="LogisticRegressionTrainer"/>, <see cref="SoftmaxRegressionTrainer"/> and
/// <see cref="LinearRegressionTrainer"/>: the columns, the optimizer strategy and the training loop. Defaults are the constants in
/// <see cref="Defaults"/>.
/// </summary>
public abstract class LinearTrainerOptions
{
    /// <summary>The label column. Binary: Boolean; multiclass: a key of known cardinality; regression: Single.</summary>
    /// <value>Default <c>"Label"</c>.</value>
    public string LabelColumnName = "Label";

    /// <summary>The feature column: a known-size vector of Single (dense or sparse); every value must be finite.</summary>
    /// <value>Default <c>"Features"</c>.</value>
    public string FeatureColumnName = "Features";

    /// <summary>The optional example-weight column: Single, finite and ≥ 0. The data loss is the weighted mean Σwᵢ·lossᵢ / Σwᵢ.</summary>
    /// <value>Default null (every row weighs 1).</value>
    public string? ExampleWeightColumnName;

    /// <summary>The optimizer strategy: any <see cref="FirstOrderOptimizer"/> (Sgd, Adam, AdamW, ...) or <see cref="Lbfgs"/>.
    /// The object is an immutable configuration and may be shared by many fits and cross-validation folds. A rule's own
    /// <c>weightDecay</c> (e.g. <see cref="AdamW"/>'s default 0.01) acts on every parameter, biases included, on top of
    /// <see cref="L2Regularization"/>; to leave the bias unpenalised, regularise with L2Regularization and give the rule
    /// <c>weightDecay: 0</c>.</summary>
    /// <value>Default <c>new Lbfgs()</c>: full-batch, deterministic, no learning rate to tune, and it reaches the optimum of the
    /// convex objectives these trainers minimise, like ML.NET's L-BFGS trainers.</value>
    public IOptimizer Optimizer = new Lbfgs();

    /// <summary>Rows per gradient step; 0 means the full batch (one step per epoch). <see cref="Lbfgs"/> always uses the full batch.
    /// With a first-order rule the full batch makes <see cref="NumberOfEpochs"/> the number of steps (100 by default), usually
    /// far too few for SGD or Adam at their default learning rates: set a mini-batch size (e.g. 32 to 256) or more epochs.</summary>
    /// <value>Default <see cref="Defaults.BatchSize"/> (0).</value>
    public int BatchSize = Defaults.BatchSize;

    /// <summary>Passes over the training data (for <see cref="Lbfgs"/>: outer iterations; when L-BFGS uses them all without
    /// meeting its tolerances, <c>Fit</c> logs a warning through <c>MLContext.Log</c> suggesting more).</summary>
    /// <value>Default <see cref="Defaults.NumberOfEpochs"/> (100).</value>
    public int NumberOfEpochs = Defaults.NumberOfEpochs;

    /// <summary>Whether mini-batches are drawn from a fresh seeded permutation each epoch.</summary>
    /// <value>Default true.</value>
    public bool Shuffle = Defaults.Shuffle;

    /// <summary>The seed for shuffling and the validation split. Null draws one from the <c>MLContext</c> when the trainer is
    /// created, and every <c>Fit</c> of that trainer uses it: fits of one trainer, serial or concurrent, give the same model, and
    /// trainers created in the same order on contexts with the same seed get the same seeds. (Creating trainers concurrently on one
    /// context races for its generator; set a seed then.)</summary>
    /// <value>Default null.</value>
    public int? Seed;

    /// <summary>c in the penalty (c/2)·‖W‖², added to the weighted MEAN data loss; the bias is never penalised. Equals ML.NET's
    /// L-BFGS <c>L2Regularization</c> divided by the total example weight N.</summary>
    /// <value>Default <see cref="Defaults.L2Regularization"/> (1e-4).</value>
    public double L2Regularization = Defaults.L2Regularization;

    /// <summary>c in the penalty c·‖W‖₁ (applied by a proximal step, so weights reach exact zeros); the bias is never penalised.</summary>
    /// <value>Default 0.</value>
    public double L1Regularization = Defaults.L1Regularization;

    /// <summary>An optional learning-rate schedule over optimizer steps (first-order rules only; <see cref="Lbfgs"/> ignores it).</summary>
    /// <value>Default null (constant rate).</value>
    public LearningRateSchedule? LearningRateSchedule;

    /// <summary>When set, each gradient is rescaled to at most this global L2 norm before the rule sees it (first-order rules only;
    /// <see cref="Lbfgs"/> ignores it).</summary>
    /// <value>Default null (no clipping).</value>
    public double? GradientClipNorm;

    /// <summary>Whether <c>Fit</c> reads the data once into memory (true) or streams it (false), for data larger than RAM.
    /// Streaming reads the <c>IDataView</c> again on every epoch (with <see cref="Shuffle"/>, through a cursor shuffled with a
    /// seed derived from <see cref="Seed"/> and the epoch, when the view can shuffle; otherwise in the view's order), so memory
    /// is bounded by one batch (<see cref="BatchSize"/> rows; full-batch passes, L-BFGS evaluations and validation read
    /// 4,096 rows at a time) instead of the whole data set. Every transform upstream is re-run on every pass: put expensive
    /// transforms before a cache checkpoint (<c>AppendCacheCheckpoint</c>) or keep caching. L-BFGS reads the data once per
    /// objective evaluation (at least once per iteration). Validation data passed to <c>Fit</c> is streamed too;
    /// <see cref="ValidationFraction"/> needs the data in memory and is rejected when streaming. With the same batches in the
    /// same order, mini-batch training gives the same parameters as with caching.</summary>
    /// <value>Default true.</value>
    public bool CacheData = Defaults.CacheData;

    /// <summary>When set and no validation data is passed to <c>Fit</c>, this fraction of the rows (seeded split) is held out for validation.</summary>
    /// <value>Default null (no split); otherwise in (0, 1).</value>
    public double? ValidationFraction;

    /// <summary>When set, training stops after this many epochs without an improvement larger than
    /// <see cref="EarlyStoppingTolerance"/> of the validation loss, or of the training loss when there is no validation data
    /// (neither passed to <c>Fit</c> nor split off by <see cref="ValidationFraction"/>).</summary>
    /// <value>Default null (run all epochs).</value>
    public int? EarlyStoppingPatience;

    /// <summary>The smallest decrease of the validation loss that counts as an improvement.</summary>
    /// <value>Default <see cref="Defaults.EarlyStoppingTolerance"/> (0).</value>
    public double EarlyStoppingTolerance = Defaults.EarlyStoppingTolerance;

    /// <summary>With validation data, return the parameters of the epoch with the lowest validation loss instead of the last ones.</summary>
    /// <value>Default true.</value>
    public bool KeepBestModel = Defaults.KeepBestModel;

    /// <summary>Called after every epoch with its report (epoch, steps, training and validation loss, learning rate, elapsed time).</summary>
    /// <value>Default null.</value>
    public Action<EpochReport>? OnEpochEnd;

    /// <summary>Checked between steps; cancelling makes <c>Fit</c> throw <see cref="OperationCanceledException"/>.</summary>
    /// <value>Default none.</value>
    public CancellationToken CancellationToken;

    /// <summary>A shallow copy (the optimizer is immutable and may be shared).</summary>
    internal LinearTrainerOptions Clone() => (LinearTrainerOptions)MemberwiseClone();

    /// <summary>The default values of the options, shared by the three trainers; the catalog methods use the same constants.</summary>
    public static class Defaults
    {
        /// <summary>0: full batch.</summary>
        public const int BatchSize = 0;

        /// <summary>100 epochs (L-BFGS: iterations).</summary>
        public const int NumberOfEpochs = 100;

        /// <summary>Read the data once into memory.</summary>
        public const bool CacheData = true;

        /// <summary>Shuffle each epoch.</summary>
        public const bool Shuffle = true;

        /// <summary>A light ridge, 1e-4, so separable data still has a finite optimum.</summary>
        public const double L2Regularization = 1e-4;

        /// <summary>No L1 penalty.</summary>
        public const double L1Regularization = 0;

        /// <summary>Any decrease of the validation loss counts as an improvement.</summary>
        public const double EarlyStoppingTolerance = 0;

        /// <summary>Return the best validation epoch.</summary>
        public const bool KeepBestModel = true;
    }
}
