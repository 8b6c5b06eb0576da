using System.Numerics.Tensors;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// One epoch of a first-order rule: per batch, the loss and gradient at the current point (+ λ₂·W), one
/// <see cref="GradientStepper"/> step, then the L1 proximal step; or, on sparse data with lazy steps, the gradient at the
/// touched coordinates only and a lazy sparse step (L2 and L1 then through <see cref="LazyWeightPenalty"/>). Holds the
/// buffers and the stepper across epochs.
/// </summary>
internal sealed class FirstOrderEpoch
{
    private readonly LinearObjective _objective;
    private readonly WeightPenalty _penalty;
    private readonly GradientStepper _stepper;
    private readonly int _batchSize;
    private readonly CancellationToken _cancellationToken;
    private readonly float[] _gradient;
    private readonly SparseGradient? _sparseGradient;
    private readonly bool _catchUpBeforeReading;
    private readonly LazyWeightPenalty? _lazyPenalty;

    /// <summary>Prepares the stepper (at step 0, fresh optimizer state) and the gradient buffers.</summary>
    /// <param name="objective">The data term.</param>
    /// <param name="optimizer">The rule.</param>
    /// <param name="layout">The parameter layout.</param>
    /// <param name="options">The run's checked options: batch size, schedule, clipping, penalties, cancellation.</param>
    /// <param name="lazySparseSteps">Take lazy sparse steps (the caller has checked that they apply).</param>
    public FirstOrderEpoch(LinearObjective objective, FirstOrderOptimizer optimizer, LinearModelLayout layout, TrainingOptions options,
        bool lazySparseSteps)
    {
        _objective = objective;
        _penalty = new WeightPenalty(layout, options.L2Regularization, options.L1Regularization);
        _stepper = new GradientStepper(optimizer, layout.ParameterCount, options.LearningRateSchedule, Clipping(options),
            sparseSteps: lazySparseSteps);
        _batchSize = options.BatchSize;
        _cancellationToken = options.CancellationToken;
        _gradient = lazySparseSteps ? [] : new float[layout.ParameterCount];
        _sparseGradient = lazySparseSteps ? new SparseGradient(layout.ParameterCount) : null;
        _lazyPenalty = lazySparseSteps && (options.L2Regularization != 0 || options.L1Regularization != 0)
            ? new LazyWeightPenalty(layout, options.L2Regularization, options.L1Regularization)
            : null;
        _catchUpBeforeReading = lazySparseSteps
            && (_lazyPenalty is not null || SparseSteps.MovesSkippedCoordinates((ISparseStepOptimizer)optimizer));
        LearningRate = _stepper.CurrentLearningRate;
    }

    /// <summary>The learning rate of the last step (before any step: the first step's).</summary>
    public double LearningRate { get; private set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long Steps => _stepper.State.Step;

    /// <summary>The loss of the run's first batch, at the starting point (NaN before it): the reference for divergence.</summary>
    public double StartLoss { get; private set; } = double.NaN;

    /// <summary>
    /// Runs epoch <paramref name="epoch"/> over <paramref name="train"/>, stepping <paramref name="parameters"/>, then writes
    /// the optimizer's evaluation point (schedule-free rules: x) to <paramref name="evaluationPoint"/>.
    /// </summary>
    /// <returns>The weighted mean data loss over the epoch's batches, each taken where its gradient was computed.</returns>
    /// <exception cref="InvalidOperationException">A loss or parameter became NaN or infinite.</exception>
    public double Run(int epoch, EpochData train, float[] parameters, float[] evaluationPoint)
    {
        double lossSum = 0, weightSum = 0;
        if (_batchSize == 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            double loss = train.FullPass(_objective, parameters, _gradient, withGradient: true, epoch, _cancellationToken, out double weight);
            Step(epoch, loss, parameters);
            lossSum += loss * weight;
            weightSum += weight;
        }
        else if (train is ShardedData shard)
        {
            // Data-parallel: each step uses the gradient of the global batch, the ranks' k-th local batches together; the epoch
            // goes on while any rank has a batch left, and a rank that has run out contributes no rows.
            using var batches = shard.Batches(epoch, _batchSize).GetEnumerator();
            while (true)
            {
                bool hasRows = !shard.Reduction.LocallyCancelled && batches.MoveNext();
                double localLoss = 0, localWeight = 0;
                if (hasRows)
                {
                    var (data, rows) = batches.Current;
                    localLoss = _objective.Evaluate(data, rows, parameters, _gradient, withGradient: true, out localWeight);
                }

                double loss = shard.Reduction.Reduce(localLoss, localWeight, _gradient, hasRows, out double weight, out bool anyRows);
                if (!anyRows)
                {
                    break;
                }

                Step(epoch, loss, parameters);
                lossSum += loss * weight;
                weightSum += weight;
            }
        }
        else
        {
            foreach (var (data, rows) in train.Batches(epoch, _batchSize))
            {
                _cancellationToken.ThrowIfCancellationRequested();
                double loss = Evaluate(data, rows, parameters, out double weight);
                Step(epoch, loss, parameters);
                lossSum += loss * weight;
                weightSum += weight;
            }
        }

        _stepper.Flush(parameters);
        _lazyPenalty?.Flush(parameters);
        _stepper.WriteEvaluationPoint(parameters, evaluationPoint);
        if (!TensorPrimitives.IsFiniteAll(parameters) || !TensorPrimitives.IsFiniteAll(evaluationPoint))
        {
            throw Divergence.In(epoch, "a parameter", LearningRate);
        }

        EnsureFiniteState(epoch);

        return weightSum > 0 ? lossSum / weightSum : 0;
    }

    /// <summary>Writes the optimizer state (step count, moments, buffers) for a checkpoint.</summary>
    public void SaveState(Stream stream) => _stepper.Save(stream);

    /// <summary>Continues from a checkpoint taken at an epoch's end: the optimizer state and the run's start loss, and the
    /// evaluation point of <paramref name="parameters"/> in <paramref name="evaluationPoint"/>.</summary>
    /// <exception cref="InvalidDataException">The state is corrupted or of another rule or configuration.</exception>
    public void Restore(byte[] optimizerState, double startLoss, float[] parameters, float[] evaluationPoint)
    {
        using (var stream = new MemoryStream(optimizerState, writable: false))
        {
            _stepper.Restore(stream);
        }

        StartLoss = startLoss;
        _stepper.WriteEvaluationPoint(parameters, evaluationPoint);
    }

    /// <summary>
    /// An overflowing optimizer state does not show in the parameters: Adam's sum of squared gradients becomes ∞ once gradients
    /// reach ~1e19 (their squares pass float's 3.4e38), every step is then m/∞ = 0 and the parameters freeze where they are
    /// (labels of 1e25 gave the all-zero model). Checked once per epoch: O(parameters), next to an epoch's O(rows × parameters).
    /// </summary>
    private void EnsureFiniteState(int epoch)
    {
        var state = _stepper.State;
        foreach (string name in state.VectorNames)
        {
            if (!TensorPrimitives.IsFiniteAll(state.Vector(name)))
            {
                throw Divergence.InState(epoch, name, LearningRate);
            }
        }

        foreach (string name in state.ScalarNames)
        {
            if (!double.IsFinite(state.Scalar(name)))
            {
                throw Divergence.InState(epoch, name, LearningRate);
            }
        }
    }

    /// <summary>The batch's weighted mean loss, and its gradient in <see cref="_gradient"/> or <see cref="_sparseGradient"/>.</summary>
    private double Evaluate(TrainingData data, ReadOnlySpan<int> rows, float[] parameters, out double weight)
    {
        if (_sparseGradient is null)
        {
            return _objective.Evaluate(data, rows, parameters, _gradient, withGradient: true, out weight, _cancellationToken);
        }

        if (!_catchUpBeforeReading)
        {
            return _objective.EvaluateSparse(data, rows, parameters, _sparseGradient, out weight);
        }

        // The forward pass reads exactly the coordinates the step will touch: bring their momentum drift or decay up to date
        // first, as dense steps would have.
        _objective.CollectTouched(data, rows, _sparseGradient);
        _stepper.CatchUp(parameters, _sparseGradient.Indices);
        _lazyPenalty?.CatchUp(parameters, _sparseGradient.Indices);
        return _objective.EvaluateSparse(data, rows, parameters, _sparseGradient, out weight, touchedCollected: true);
    }

    /// <summary>The divergence check on the batch loss, then the step: dense (L2 gradient, rule, L1 proximal) or lazy sparse.</summary>
    private void Step(int epoch, double loss, float[] parameters)
    {
        if (!double.IsFinite(loss))
        {
            throw Divergence.In(epoch, "the training loss", LearningRate);
        }

        if (double.IsNaN(StartLoss))
        {
            StartLoss = loss;
        }

        if (_sparseGradient is null)
        {
            _penalty.AddL2Gradient(parameters, _gradient);
            LearningRate = _stepper.Step(parameters, _gradient);
            _penalty.ApplyL1Proximal(parameters, LearningRate);
        }
        else
        {
            var indices = _sparseGradient.Indices;
            if (_lazyPenalty is null)
            {
                LearningRate = _stepper.StepSparse(parameters, indices, _sparseGradient.Values);
            }
            else
            {
                LearningRate = _stepper.StepSparse(parameters, indices, _lazyPenalty.WithL2(parameters, indices, _sparseGradient.Values));
                _lazyPenalty.AfterStep(parameters, indices, LearningRate);
            }
        }
    }

    /// <summary>The clipping the options ask for, or null.</summary>
    private static GradientClipping? Clipping(TrainingOptions options) =>
        options.GradientClipNorm is double maxNorm ? GradientClipping.ByGlobalNorm(maxNorm) : null;
}
