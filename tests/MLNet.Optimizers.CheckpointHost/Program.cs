using MLNet.Optimizers.CheckpointHost;

// One attempt of a checkpointed fit: `fit NAME DIRECTORY`. Prints "epoch k" after every epoch (the test kills the process
// after some of them), "resumed" when the run continued from a checkpoint, and finally the result's exact bits.
if (args is not ["fit", var name, var directory] || !CheckpointedFits.Names.Contains(name))
{
    Console.Error.WriteLine($"Usage: fit NAME DIRECTORY, NAME one of {string.Join(", ", CheckpointedFits.Names)}; got '{string.Join(' ', args)}'.");
    return 2;
}

var result = CheckpointedFits.Train(name, directory,
    onEpochEnd: report => Console.WriteLine($"epoch {report.Epoch}"),
    log: line =>
    {
        if (line.StartsWith("resuming", StringComparison.Ordinal))
        {
            Console.WriteLine("resumed");
        }
    });
Console.WriteLine(CheckpointedFits.Describe(result));
return 0;
