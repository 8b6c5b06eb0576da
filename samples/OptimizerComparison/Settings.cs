using System.Globalization;
using MLNet.Optimizers.Comparison;

namespace OptimizerComparisonSample;

/// <summary>The command line: <c>--data --label --task --folds --budget --seed --out</c>.</summary>
internal sealed record Settings(string? DataPath, string? Label, ComparisonTask? Task, int Folds, TimeSpan Budget, int Seed,
    string OutputDirectory, bool Help)
{
    public static Settings Parse(string[] args)
    {
        var settings = new Settings(null, null, null, 5, TimeSpan.FromSeconds(60), 0, "optimizer-comparison", false);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "-h" or "--help")
            {
                return settings with { Help = true };
            }

            if (i + 1 >= args.Length)
            {
                throw new UsageException($"{name} needs a value (or is not an option); run with --help.");
            }

            string value = args[++i];
            settings = name switch
            {
                "--data" => settings with { DataPath = value },
                "--label" => settings with { Label = value },
                "--task" => settings with
                {
                    Task = value.ToLowerInvariant() switch
                    {
                        "binary" => ComparisonTask.BinaryClassification,
                        "multiclass" => ComparisonTask.MulticlassClassification,
                        "regression" => ComparisonTask.Regression,
                        _ => throw new UsageException($"--task must be binary, multiclass or regression; got '{value}'."),
                    },
                },
                "--folds" => settings with { Folds = Integer(name, value, minimum: 2) },
                "--budget" => settings with { Budget = TimeSpan.FromSeconds(Integer(name, value, minimum: 1)) },
                "--seed" => settings with { Seed = Integer(name, value, minimum: int.MinValue) },
                "--out" => settings with { OutputDirectory = value },
                _ => throw new UsageException($"unknown option '{name}'; run with --help."),
            };
        }

        return settings;
    }

    private static int Integer(string name, string value, int minimum) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) && number >= minimum
            ? number
            : throw new UsageException($"{name} must be an integer >= {minimum}; got '{value}'.");
}
