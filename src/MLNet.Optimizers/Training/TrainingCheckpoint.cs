using MLNet.Optimizers.Internal;

namespace MLNet.Optimizers.Training;

/// <summary>
/// Everything a run needs to go on after epoch <see cref="CompletedEpochs"/> as if it had never stopped, in the self-checking
/// <see cref="SnapshotFrame"/> (marker <c>MLNETCKP</c>): what the run is (<see cref="Identity"/>), the seed, the parameters,
/// the optimizer's own snapshot (<see cref="Optimizers.OptimizerState"/> or <see cref="LbfgsState"/>, nested with its own
/// checksum), the early-stopping state and the epoch history. The shuffle position is the epoch count: a resumed run replays
/// the permutations of the epochs done (see <see cref="EpochData.SkipEpochs"/>).
/// </summary>
internal sealed class TrainingCheckpoint
{
    private const string Marker = "MLNETCKP";
    private const int FormatVersion = 1;

    /// <summary>What the run is: named facts (data fingerprint, model shape, every option that steers the trajectory).</summary>
    public required KeyValuePair<string, string>[] Identity { get; init; }

    /// <summary>The seed the run used (recorded, so a run whose seed was drawn resumes with the same one).</summary>
    public required int Seed { get; init; }

    /// <summary>Epochs (L-BFGS: iterations) completed.</summary>
    public required int CompletedEpochs { get; init; }

    /// <summary>True when the run had ended (all epochs, early stopping or convergence): a resumed run returns its result.</summary>
    public required bool Finished { get; init; }

    /// <summary>Why L-BFGS stopped, once <see cref="Finished"/>; null otherwise and for first-order rules.</summary>
    public required LbfgsStopReason? StopReason { get; init; }

    /// <summary>Whether early stopping ended the run.</summary>
    public required bool StoppedEarly { get; init; }

    /// <summary>The run's reference loss: the first batch's loss (first-order, for the divergence test) or the loss at the
    /// starting point (L-BFGS, for the progress test).</summary>
    public required double StartLoss { get; init; }

    /// <summary>The training point (first-order rules) or the iterate (L-BFGS).</summary>
    public required float[] Parameters { get; init; }

    /// <summary>The optimizer's snapshot, as its own Save wrote it.</summary>
    public required byte[] OptimizerState { get; init; }

    /// <summary>The early-stopping state.</summary>
    public required EarlyStopping.Snapshot EarlyStopping { get; init; }

    /// <summary>The reports of the completed epochs.</summary>
    public required EpochReport[] History { get; init; }

    /// <summary>Writes the checkpoint, framed and checksummed.</summary>
    public void Write(Stream stream) =>
        SnapshotFrame.Write(stream, Marker, FormatVersion, writer =>
        {
            writer.Write(Identity.Length);
            foreach (var (name, value) in Identity)
            {
                writer.Write(name);
                writer.Write(value);
            }

            writer.Write(Seed);
            writer.Write(CompletedEpochs);
            writer.Write(Finished);
            writer.Write(StopReason is { } reason ? (int)reason : -1);
            writer.Write(StoppedEarly);
            writer.Write(StartLoss);
            writer.Write(Parameters.Length);
            SnapshotFrame.WriteFloats(writer, Parameters);
            writer.Write(OptimizerState.Length);
            writer.Write(OptimizerState);
            writer.Write(EarlyStopping.Best);
            writer.Write(EarlyStopping.EpochsWithoutImprovement);
            writer.Write(EarlyStopping.BestEpoch);
            writer.Write(EarlyStopping.BestParameters is not null);
            SnapshotFrame.WriteFloats(writer, EarlyStopping.BestParameters);
            writer.Write(History.Length);
            foreach (var report in History)
            {
                writer.Write(report.Epoch);
                writer.Write(report.Steps);
                writer.Write(report.TrainingLoss);
                writer.Write(report.ValidationLoss.HasValue);
                writer.Write(report.ValidationLoss ?? 0);
                writer.Write(report.LearningRate);
                writer.Write(report.Elapsed.Ticks);
            }
        });

    /// <summary>Reads a checkpoint written by <see cref="Write"/>; any fault is an <see cref="InvalidDataException"/> saying what.</summary>
    public static TrainingCheckpoint Read(Stream stream) =>
        SnapshotFrame.Read(stream, Marker, FormatVersion, "a training checkpoint", reader =>
        {
            var identity = new KeyValuePair<string, string>[SnapshotFrame.ReadCount(reader, SnapshotFrame.MaxNamedEntries, "identity facts")];
            for (int i = 0; i < identity.Length; i++)
            {
                identity[i] = new(reader.ReadString(), reader.ReadString());
            }

            int seed = reader.ReadInt32();
            int completed = SnapshotFrame.ReadCount(reader, int.MaxValue, "completed epochs");
            bool finished = reader.ReadBoolean();
            int reason = reader.ReadInt32();
            LbfgsStopReason? stopReason = reason == -1 ? null
                : Enum.IsDefined((LbfgsStopReason)reason) ? (LbfgsStopReason)reason
                : throw new InvalidDataException($"The checkpoint's L-BFGS stop reason {reason} is not one this library writes.");
            bool stoppedEarly = reader.ReadBoolean();
            double startLoss = reader.ReadDouble();
            float[] parameters = SnapshotFrame.ReadFloats(reader, SnapshotFrame.ReadCount(reader, Array.MaxLength, "parameters"));
            int stateLength = SnapshotFrame.ReadCount(reader, Array.MaxLength, "bytes of optimizer state");
            byte[] optimizerState = reader.ReadBytes(stateLength);
            if (optimizerState.Length != stateLength)
            {
                throw new EndOfStreamException();
            }

            double best = reader.ReadDouble();
            int sinceBest = SnapshotFrame.ReadCount(reader, int.MaxValue, "epochs without improvement");
            int bestEpoch = SnapshotFrame.ReadCount(reader, completed, "as the best epoch number (epochs completed)");
            float[]? bestParameters = reader.ReadBoolean() ? SnapshotFrame.ReadFloats(reader, parameters.Length) : null;
            var history = new EpochReport[SnapshotFrame.ReadCount(reader, completed, "epoch reports")];
            for (int i = 0; i < history.Length; i++)
            {
                int epoch = reader.ReadInt32();
                long steps = reader.ReadInt64();
                double trainingLoss = reader.ReadDouble();
                bool hasValidation = reader.ReadBoolean();
                double validationLoss = reader.ReadDouble();
                history[i] = new EpochReport(epoch, steps, trainingLoss, hasValidation ? validationLoss : null, reader.ReadDouble(),
                    TimeSpan.FromTicks(reader.ReadInt64()));
            }

            if (history.Length != completed || Array.Exists(parameters, p => !float.IsFinite(p)))
            {
                throw new InvalidDataException(
                    $"The checkpoint holds {history.Length} epoch reports for {completed} completed epochs, or a non-finite parameter; it was not written by this library.");
            }

            return new TrainingCheckpoint
            {
                Identity = identity,
                Seed = seed,
                CompletedEpochs = completed,
                Finished = finished,
                StopReason = stopReason,
                StoppedEarly = stoppedEarly,
                StartLoss = startLoss,
                Parameters = parameters,
                OptimizerState = optimizerState,
                EarlyStopping = new EarlyStopping.Snapshot(best, sinceBest, bestEpoch, bestParameters),
                History = history,
            };
        });
}
