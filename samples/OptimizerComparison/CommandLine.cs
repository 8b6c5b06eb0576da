using System.CommandLine;
using System.Globalization;
using MLNet.Optimizers.Comparison;

namespace OptimizerComparisonSample;

/// <summary>The settings of one run, as the command line gave them.</summary>
internal sealed record Settings(string? DataPath, string? Label, ComparisonTask? Task, char? Separator, int Folds, TimeSpan Budget, int Seed,
    string OutputDirectory);

/// <summary>The command line (System.CommandLine): options, their help, and errors that name the flag.</summary>
internal static class CommandLine
{
    private static readonly Option<string?> Data = new("--data")
    {
        Description = "A CSV file with a header row (default: the embedded breast_cancer and digits)",
        HelpName = "FILE.csv",
    };

    private static readonly Option<string?> Label = new("--label")
    {
        Description = "The label column (default: one named label, target, class, y or outcome, else the last column)",
        HelpName = "COLUMN",
    };

    private static readonly Option<string?> Task = new("--task")
    {
        Description = "binary, multiclass or regression (default: inferred from the label)",
    };

    private static readonly Option<string?> Separator = new("--separator")
    {
        Description = "The field separator: ',', ';', 'tab' or '|' (default: detected)",
        HelpName = "CHAR",
    };

    private static readonly Option<int> Folds = Integer("--folds", "Cross-validation folds", "K", defaultValue: 5, minimum: 2);

    private static readonly Option<int> Budget = Integer("--budget", "Seconds for the whole run, all data sets together", "SECONDS",
        defaultValue: 60, minimum: 1);

    private static readonly Option<int> Seed = Integer("--seed", "Seed of the folds and training runs", "N", defaultValue: 0, minimum: null);

    private static readonly Option<string> Output = new("--out")
    {
        Description = "Output folder",
        DefaultValueFactory = _ => "optimizer-comparison",
        HelpName = "DIR",
    };

    /// <summary>The root command; <paramref name="run"/> receives the parsed settings.</summary>
    public static RootCommand Create(Func<Settings, int> run)
    {
        Task.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is string text && text is not ("binary" or "multiclass" or "regression"))
            {
                result.AddError($"--task must be binary, multiclass or regression; got '{text}'.");
            }
        });
        Separator.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is string text && ToSeparator(text) is null)
            {
                result.AddError($"--separator must be ',', ';', 'tab' or '|'; got '{text}'.");
            }
        });
        var root = new RootCommand(
            "Compares every optimizer (each over a learning-rate grid) by cross-validation with successive halving on a CSV file, " +
            "prints the leaderboard and the winner's trainer settings, and writes reports and the refitted model.")
        {
            Data, Label, Task, Separator, Folds, Budget, Seed, Output,
        };
        root.SetAction(parsed => run(new Settings(
            parsed.GetValue(Data),
            parsed.GetValue(Label),
            parsed.GetValue(Task) switch
            {
                "binary" => ComparisonTask.BinaryClassification,
                "multiclass" => ComparisonTask.MulticlassClassification,
                "regression" => ComparisonTask.Regression,
                _ => null,
            },
            parsed.GetValue(Separator) is string separator ? ToSeparator(separator) : null,
            parsed.GetValue(Folds),
            TimeSpan.FromSeconds(parsed.GetValue(Budget)),
            parsed.GetValue(Seed),
            parsed.GetValue(Output)!)));
        return root;
    }

    /// <summary>The flag that sets a <see cref="CsvDataSetOptions"/> property, for error messages.</summary>
    public static string? FlagOf(string? setting) => setting switch
    {
        nameof(CsvDataSetOptions.LabelColumnName) => "--label",
        nameof(CsvDataSetOptions.Task) => "--task",
        nameof(CsvDataSetOptions.Separator) => "--separator",
        _ => null,
    };

    /// <summary>A whole-number option whose errors name the flag and state the value once.</summary>
    private static Option<int> Integer(string name, string description, string helpName, int defaultValue, int? minimum) => new(name)
    {
        Description = minimum is int least ? string.Create(CultureInfo.InvariantCulture, $"{description}, at least {least}") : description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            {
                result.AddError($"{name} must be a whole number; got '{text}'.");
            }
            else if (value < minimum)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be at least {minimum}; got {value}."));
            }

            return value;
        },
    };

    private static char? ToSeparator(string text) => text.ToLowerInvariant() switch
    {
        "," or "comma" => ',',
        ";" or "semicolon" => ';',
        "tab" or "\\t" or "\t" => '\t',
        "|" or "bar" => '|',
        _ => null,
    };
}
