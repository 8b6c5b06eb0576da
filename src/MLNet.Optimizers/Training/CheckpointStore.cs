using System.Globalization;

namespace MLNet.Optimizers.Training;

/// <summary>
/// The checkpoint files of a run in <see cref="TrainingOptions.CheckpointDirectory"/>: the newest (<see cref="NewestFileName"/>)
/// and the one before it (<see cref="PreviousFileName"/>). A checkpoint is written whole to <see cref="TemporaryFileName"/>,
/// flushed to disk, and only then renamed over the newest (which first becomes the previous), so a crash at any moment leaves
/// every checkpoint file either complete or absent; a leftover temporary file is never read.
/// </summary>
internal sealed class CheckpointStore
{
    /// <summary>The newest checkpoint.</summary>
    public const string NewestFileName = "checkpoint.bin";

    /// <summary>The checkpoint before the newest, the fallback when the newest is unreadable.</summary>
    public const string PreviousFileName = "checkpoint.previous.bin";

    /// <summary>Where a checkpoint is written before it is renamed into place.</summary>
    public const string TemporaryFileName = "checkpoint.bin.tmp";

    private readonly string _directory;
    private readonly int _everyEpochs;
    private readonly KeyValuePair<string, string>[] _identity;

    private CheckpointStore(string directory, int everyEpochs, KeyValuePair<string, string>[] identity, int seed)
    {
        _directory = directory;
        _everyEpochs = everyEpochs;
        _identity = identity;
        Seed = seed;
    }

    /// <summary>The seed of the run: the options' (or default) seed, or the checkpoint's when the options' seed was drawn.</summary>
    public int Seed { get; }

    /// <summary>The checkpoint the run resumes from, or null for a fresh start.</summary>
    public TrainingCheckpoint? Resumed { get; private init; }

    /// <summary>
    /// Opens the store in <see cref="TrainingOptions.CheckpointDirectory"/> (null when it is not set) and reads the newest
    /// valid checkpoint there: the newest file, or the previous one when the newest is unreadable.
    /// </summary>
    /// <param name="options">The run's options (directory, frequency, log, whether the seed was drawn).</param>
    /// <param name="identity">What this run is (see <see cref="TrainingCheckpoint.Identity"/>); a checkpoint must match it.</param>
    /// <param name="seed">The seed in effect.</param>
    /// <exception cref="InvalidDataException">Checkpoint files exist but none is readable (corrupted or truncated).</exception>
    /// <exception cref="InvalidOperationException">The newest readable checkpoint was written for other data or options.</exception>
    public static CheckpointStore? Open(TrainingOptions options, KeyValuePair<string, string>[] identity, int seed)
    {
        if (options.CheckpointDirectory is not string directory)
        {
            return null;
        }

        var faults = new List<string>();
        foreach (string name in (string[])[NewestFileName, PreviousFileName])
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                continue;
            }

            TrainingCheckpoint checkpoint;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
                checkpoint = TrainingCheckpoint.Read(stream);
            }
            catch (InvalidDataException e)
            {
                faults.Add($"{path}: {e.Message}");
                options.Log?.Invoke($"checkpoint {path} is unreadable ({e.Message}); trying an older one");
                continue;
            }

            EnsureSameRun(path, checkpoint, identity, options.SeedDrawn ? null : seed);
            options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"resuming from checkpoint {path} after epoch {checkpoint.CompletedEpochs}{(checkpoint.Finished ? " (the run had ended)" : "")}"));
            return new CheckpointStore(directory, options.CheckpointEveryEpochs, identity, checkpoint.Seed) { Resumed = checkpoint };
        }

        if (faults.Count > 0)
        {
            throw new InvalidDataException(
                $"No checkpoint in {directory} is readable: {string.Join("; ", faults)}. Delete these files to train from the start, or use another CheckpointDirectory.");
        }

        return new CheckpointStore(directory, options.CheckpointEveryEpochs, identity, seed);
    }

    /// <summary>Whether an epoch that does not end the run is checkpointed.</summary>
    public bool IsDue(int epoch) => epoch % _everyEpochs == 0;

    /// <summary>Writes a checkpoint atomically (temporary file, flush to disk, rename), keeping the previous one.</summary>
    public void Write(int completedEpochs, bool finished, LbfgsStopReason? stopReason, double startLoss, float[] parameters,
        Action<Stream> saveOptimizerState, EpochRecorder recorder)
    {
        using var optimizerState = new MemoryStream();
        saveOptimizerState(optimizerState);
        var checkpoint = new TrainingCheckpoint
        {
            Identity = _identity,
            Seed = Seed,
            CompletedEpochs = completedEpochs,
            Finished = finished,
            StopReason = stopReason,
            StoppedEarly = recorder.StoppedEarly,
            StartLoss = startLoss,
            Parameters = parameters,
            OptimizerState = optimizerState.ToArray(),
            EarlyStopping = recorder.EarlyStoppingState,
            History = [.. recorder.History],
        };

        Directory.CreateDirectory(_directory);
        string temporary = Path.Combine(_directory, TemporaryFileName), newest = Path.Combine(_directory, NewestFileName);
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            checkpoint.Write(stream);
            stream.Flush(flushToDisk: true);
        }

        if (File.Exists(newest))
        {
            File.Move(newest, Path.Combine(_directory, PreviousFileName), overwrite: true);
        }

        File.Move(temporary, newest, overwrite: true);
    }

    /// <summary>Throws unless the checkpoint was written by a run with this identity (and this seed, when it is given).</summary>
    private static void EnsureSameRun(string path, TrainingCheckpoint checkpoint, KeyValuePair<string, string>[] identity, int? seed)
    {
        var saved = checkpoint.Identity.ToDictionary(fact => fact.Key, fact => fact.Value, StringComparer.Ordinal);
        var differences = new List<string>();
        foreach (var (name, value) in identity)
        {
            string written = saved.GetValueOrDefault(name, "(not recorded)");
            if (!string.Equals(written, value, StringComparison.Ordinal))
            {
                differences.Add($"{name}: the checkpoint has {written}, this run has {value}");
            }
        }

        if (seed is int expected && checkpoint.Seed != expected)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"Seed: the checkpoint has {checkpoint.Seed}, this run has {expected}"));
        }

        if (differences.Count > 0)
        {
            throw new InvalidOperationException(
                $"The checkpoint {path} was written by another run ({string.Join("; ", differences)}). Resuming needs the same data and " +
                $"options; delete the checkpoint files in {Path.GetDirectoryName(path)} to train afresh, or use another CheckpointDirectory.");
        }
    }
}
