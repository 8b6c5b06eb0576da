using MLNet.Optimizers.Internal;
using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers.Training;

/// <summary>
/// Settings of a training run: the optimizer, the epoch/mini-batch loop, the penalties, early stopping and progress reporting.
/// <see cref="TrainingLoop"/> takes them as they are; the ML.NET trainers' options derive from this class and add their
/// columns. Defaults are the constants in <see cref="Defaults"/>.
/// </summary>
/// <remarks>
/// The objective minimised is <c>weighted mean loss + (L2Regularization/2)·‖W‖² + L1Regularization·‖W‖₁</c>; the biases are
/// never penalised. Whoever takes the options (<see cref="TrainingLoop"/>, the trainers) copies them and calls
/// <see cref="Validate"/>, so later edits to this object have no effect on it.
/// </remarks>
public class TrainingOptions
{
    /// <summary>The optimizer strategy: any <see cref="FirstOrderOptimizer"/> (Sgd, Adam, AdamW, ...; one step per mini-batch)
    /// or <see cref="Lbfgs"/> (full batch, one epoch = one L-BFGS iteration). The object is an immutable configuration and may
    /// be shared by many runs and cross-validation folds. A rule's own <c>weightDecay</c> (e.g. <see cref="AdamW"/>'s default
    /// 0.01) acts on every parameter, biases included, on top of <see cref="L2Regularization"/>; to leave the bias unpenalised,
    /// regularise with L2Regularization and give the rule <c>weightDecay: 0</c>.</summary>
    /// <value>Default <c>new Lbfgs()</c>: full-batch, deterministic, no learning rate to tune, and it reaches the optimum of the
    /// convex objectives minimised here, like ML.NET's L-BFGS trainers.</value>
    public IOptimizer Optimizer = new Lbfgs();

    /// <summary>Rows per gradient step; 0 means the full batch (one step per epoch). <see cref="Lbfgs"/> always uses the full batch.
    /// With a first-order rule the full batch makes <see cref="NumberOfEpochs"/> the number of steps (100 by default), usually
    /// far too few for SGD or Adam at their default learning rates: set a mini-batch size (e.g. 32 to 256) or more epochs.</summary>
    /// <value>Default <see cref="Defaults.BatchSize"/> (0).</value>
    public int BatchSize = Defaults.BatchSize;

    /// <summary>Passes over the training data, at least 1 (for <see cref="Lbfgs"/>: iterations; when L-BFGS uses them all
    /// without meeting its tolerances, <see cref="TrainingResult.StopReason"/> says so, and the ML.NET trainers log a warning
    /// suggesting more).</summary>
    /// <value>Default <see cref="Defaults.NumberOfEpochs"/> (100).</value>
    public int NumberOfEpochs = Defaults.NumberOfEpochs;

    /// <summary>Whether mini-batches are drawn from a fresh seeded permutation each epoch (mini-batches only).</summary>
    /// <value>Default <see cref="Defaults.Shuffle"/> (true).</value>
    public bool Shuffle = Defaults.Shuffle;

    /// <summary>The seed of the shuffling and of the <see cref="ValidationFraction"/> split. Null: <see cref="TrainingLoop"/>
    /// uses 0; an ML.NET trainer draws one from its <c>MLContext</c> when it is created and uses it for every <c>Fit</c>, so
    /// fits of one trainer, serial or concurrent, give the same model, and trainers created in the same order on contexts with
    /// the same seed get the same seeds (creating trainers concurrently on one context races for its generator: set a seed
    /// then).</summary>
    /// <value>Default null.</value>
    public int? Seed;

    /// <summary>λ₂ ≥ 0 in the penalty (λ₂/2)·‖W‖² (λ₂·W added to the weight gradient), added to the weighted MEAN data loss; the
    /// bias is never penalised. Equals ML.NET's L-BFGS <c>L2Regularization</c> divided by the total example weight N.</summary>
    /// <value>Default <see cref="Defaults.L2Regularization"/> (1e-4).</value>
    public double L2Regularization = Defaults.L2Regularization;

    /// <summary>λ₁ ≥ 0 in the penalty λ₁·‖W‖₁, added to the weighted MEAN data loss: first-order rules apply it after each step
    /// as the proximal soft-threshold <c>w ← sign(w)·max(|w| − lr·λ₁, 0)</c>, <see cref="Lbfgs"/> minimises it by OWL-QN; both
    /// set weights exactly to zero; the bias is never penalised. Equals ML.NET's L-BFGS <c>L1Regularization</c> divided by the
    /// number of training rows.</summary>
    /// <value>Default <see cref="Defaults.L1Regularization"/> (0).</value>
    public double L1Regularization = Defaults.L1Regularization;

    /// <summary>A learning-rate schedule over optimizer steps (first-order rules only; <see cref="Lbfgs"/> ignores it).</summary>
    /// <value>Default null (the optimizer's constant rate).</value>
    public LearningRateSchedule? LearningRateSchedule;

    /// <summary>When set (&gt; 0), each gradient is rescaled to at most this global L2 norm before the rule sees it
    /// (first-order rules only; <see cref="Lbfgs"/> ignores it).</summary>
    /// <value>Default null (no clipping).</value>
    public double? GradientClipNorm;

    /// <summary>When set (in (0, 1)) and no validation data is given, this fraction of the training rows (chosen with
    /// <see cref="Seed"/>) is held out as the validation set. Needs the data in memory.</summary>
    /// <value>Default null (no split).</value>
    public double? ValidationFraction;

    /// <summary>When set (≥ 1), training stops after this many consecutive epochs without an improvement larger than
    /// <see cref="EarlyStoppingTolerance"/> of the validation loss, or of the training loss when there is no validation data
    /// (neither given nor split off by <see cref="ValidationFraction"/>).</summary>
    /// <value>Default null (run all epochs).</value>
    public int? EarlyStoppingPatience;

    /// <summary>The improvement (≥ 0) that counts for early stopping: the monitored loss must fall below best − tolerance.</summary>
    /// <value>Default <see cref="Defaults.EarlyStoppingTolerance"/> (0).</value>
    public double EarlyStoppingTolerance = Defaults.EarlyStoppingTolerance;

    /// <summary>With validation data, return the parameters of the epoch with the lowest validation loss instead of the last ones.</summary>
    /// <value>Default <see cref="Defaults.KeepBestModel"/> (true).</value>
    public bool KeepBestModel = Defaults.KeepBestModel;

    /// <summary>Called after every epoch with its report (epoch, steps, training and validation loss, learning rate, elapsed time).</summary>
    /// <value>Default null.</value>
    public Action<EpochReport>? OnEpochEnd;

    /// <summary>Receives one progress line per epoch, e.g. <c>epoch 3/20: loss 0.123456, validation 0.134567, lr 0.001, 12 ms</c>
    /// (the ML.NET trainers also write it to <c>MLContext.Log</c>).</summary>
    /// <value>Default null.</value>
    public Action<string>? Log;

    /// <summary>Checked between steps; cancelling throws <see cref="OperationCanceledException"/>. In a data-parallel run, cancelling
    /// on one rank stops every rank at their next common step.</summary>
    /// <value>Default none.</value>
    public CancellationToken CancellationToken;

    /// <summary>The ranks of a data-parallel run: each rank (process) trains on its own shard of the rows, and the ranks sum every
    /// loss and gradient, so that every rank takes the same steps and ends with the model one process would train on all the
    /// rows. Only rank 0 writes <see cref="Log"/>; every rank gets <see cref="OnEpochEnd"/>. The MPI implementation is
    /// <c>MpiCommunicator</c> (package MLNet.Optimizers.Distributed); see docs/distributed.md.</summary>
    /// <value>Default <see cref="SingleProcessCommunicator.Instance"/>: one process, no communication.</value>
    public ICommunicator Communicator = SingleProcessCommunicator.Instance;

    /// <summary>When set, the run writes a checkpoint into this directory (created if missing) every
    /// <see cref="CheckpointEveryEpochs"/> epochs and at its end, and a run with the same data and options resumes from the
    /// newest valid checkpoint there, ending with the model an uninterrupted run gives, bit for bit. A checkpoint written for
    /// other data or options is refused (<see cref="InvalidOperationException"/> naming what differs); delete the directory to
    /// train afresh. Not available with a <see cref="Communicator"/> of more than one rank. See docs/reliability.md.</summary>
    /// <value>Default null (no checkpoints).</value>
    public string? CheckpointDirectory;

    /// <summary>Epochs between checkpoints (≥ 1; for <see cref="Lbfgs"/>: iterations) when <see cref="CheckpointDirectory"/> is
    /// set; the run's last epoch is always checkpointed.</summary>
    /// <value>Default <see cref="Defaults.CheckpointEveryEpochs"/> (1).</value>
    public int CheckpointEveryEpochs = Defaults.CheckpointEveryEpochs;

    /// <summary>True when <see cref="Seed"/> was drawn for the run (an ML.NET trainer's context seed) rather than chosen: a
    /// resumed run then takes the seed its checkpoint recorded.</summary>
    internal bool SeedDrawn;

    /// <summary>Checks every option; the exception names the first invalid one and what it must be.</summary>
    /// <exception cref="ArgumentException">An option is invalid (<see cref="ArgumentOutOfRangeException"/> when it is out of
    /// its range); <see cref="ArgumentException.ParamName"/> is the option's name.</exception>
    public virtual void Validate()
    {
        if (Optimizer is not (FirstOrderOptimizer or Lbfgs))
        {
            throw new ArgumentOutOfRangeException(nameof(Optimizer),
                $"Optimizer must be a first-order optimizer (Sgd, Adam, …) or Lbfgs; got {Optimizer?.ToString() ?? "null"}.");
        }

        Check.AtLeast(BatchSize, 0);
        Check.AtLeast(NumberOfEpochs, 1);
        Check.NonNegative(L2Regularization);
        Check.NonNegative(L1Regularization);
        if (GradientClipNorm is double clipNorm)
        {
            Check.Positive(clipNorm, nameof(GradientClipNorm));
        }

        if (ValidationFraction is double fraction)
        {
            Check.InOpenRange(fraction, 0, 1, nameof(ValidationFraction));
        }

        if (EarlyStoppingPatience is int patience)
        {
            Check.AtLeast(patience, 1, nameof(EarlyStoppingPatience));
        }

        Check.NonNegative(EarlyStoppingTolerance);
        if (Communicator is null)
        {
            throw new ArgumentNullException(nameof(Communicator),
                "Communicator must be an ICommunicator (SingleProcessCommunicator.Instance for one process); got null.");
        }

        Check.AtLeast(CheckpointEveryEpochs, 1);
        if (CheckpointDirectory is string directory)
        {
            if (string.IsNullOrWhiteSpace(directory))
            {
                throw new ArgumentException(
                    "CheckpointDirectory must be null (no checkpoints) or a directory path; got an empty or blank string.", nameof(CheckpointDirectory));
            }

            if (Communicator.Size > 1)
            {
                throw new ArgumentException(
                    $"CheckpointDirectory cannot be used with a Communicator of {Communicator.Size} ranks yet: checkpoints are written by one " +
                    "process. Train on one rank to checkpoint, or leave CheckpointDirectory null.", nameof(CheckpointDirectory));
            }
        }
    }

    /// <summary>The settings every rank of a data-parallel run must share (checked by <see cref="RankAgreement"/>); the
    /// callbacks, the log, the cancellation token and the communicator itself are each rank's own.</summary>
    /// <param name="seed">The seed in effect (<see cref="Seed"/> or the default).</param>
    internal RankAgreement.Fact[] SharedSettings(int seed) =>
    [
        RankAgreement.Fact.Of(nameof(Optimizer), Optimizer.ToString()),
        new(nameof(BatchSize), BatchSize),
        new(nameof(NumberOfEpochs), NumberOfEpochs),
        new(nameof(Shuffle), Shuffle ? 1 : 0),
        new(nameof(Seed), seed),
        new(nameof(L2Regularization), L2Regularization),
        new(nameof(L1Regularization), L1Regularization),
        RankAgreement.Fact.Of(nameof(LearningRateSchedule), LearningRateSchedule?.ToString()),
        new(nameof(GradientClipNorm), GradientClipNorm ?? double.NaN),
        new(nameof(ValidationFraction), ValidationFraction ?? double.NaN),
        new(nameof(EarlyStoppingPatience), EarlyStoppingPatience ?? 0),
        new(nameof(EarlyStoppingTolerance), EarlyStoppingTolerance),
        new(nameof(KeepBestModel), KeepBestModel ? 1 : 0),
    ];

    /// <summary>A shallow copy of the same type (the optimizer and schedule are immutable and may be shared), so that later
    /// edits to the caller's object cannot bypass <see cref="Validate"/>.</summary>
    internal TrainingOptions Clone() => (TrainingOptions)MemberwiseClone();

    /// <summary>The default values of the options, shared by <see cref="TrainingLoop"/>, the ML.NET trainers and their catalog
    /// methods.</summary>
    public static class Defaults
    {
        /// <summary>0: full batch.</summary>
        public const int BatchSize = 0;

        /// <summary>100 epochs (L-BFGS: iterations).</summary>
        public const int NumberOfEpochs = 100;

        /// <summary>Shuffle each epoch.</summary>
        public const bool Shuffle = true;

        /// <summary>A light ridge, 1e-4, so separable data still has a finite optimum.</summary>
        public const double L2Regularization = 1e-4;

        /// <summary>No L1 penalty.</summary>
        public const double L1Regularization = 0;

        /// <summary>Any decrease of the monitored loss counts as an improvement.</summary>
        public const double EarlyStoppingTolerance = 0;

        /// <summary>Return the best validation epoch.</summary>
        public const bool KeepBestModel = true;

        /// <summary>A checkpoint after every epoch.</summary>
        public const int CheckpointEveryEpochs = 1;
    }
}
