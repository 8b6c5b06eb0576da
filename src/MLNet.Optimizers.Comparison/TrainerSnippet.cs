using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Comparison;

/// <summary>Writes trainer options as the C# that creates the same trainer through ML.NET's catalog.</summary>
internal static partial class TrainerSnippet
{
    private const int Width = 80;

    /// <summary>
    /// <c>var trainer = mlContext.….Trainers.…(new ….Options { … });</c> with every setting the search changed from the
    /// trainer's defaults: columns (when not the defaults), optimizer, batch size, epochs, L2, L1 and seed. Lines fit 80 columns.
    /// </summary>
    public static string CSharp(LinearTrainerOptions options)
    {
        (string catalog, string method, string type) = options switch
        {
            LogisticRegressionTrainer.Options => ("BinaryClassification", "LogisticRegression", nameof(LogisticRegressionTrainer)),
            SoftmaxRegressionTrainer.Options => ("MulticlassClassification", "SoftmaxRegression", nameof(SoftmaxRegressionTrainer)),
            _ => ("Regression", "LinearRegression", nameof(LinearRegressionTrainer)),
        };
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"var trainer = mlContext.{catalog}.Trainers.{method}(")
            .AppendLine(CultureInfo.InvariantCulture, $"    new {type}.Options")
            .AppendLine("    {");
        void Set(string name, string value) => Wrap(text, $"        {name} = {value},", "            ");
        if (options.LabelColumnName != "Label")
        {
            Set(nameof(options.LabelColumnName), Quoted(options.LabelColumnName));
        }

        if (options.FeatureColumnName != "Features")
        {
            Set(nameof(options.FeatureColumnName), Quoted(options.FeatureColumnName));
        }

        Set(nameof(options.Optimizer), Optimizer(options.Optimizer));
        Set(nameof(options.BatchSize), Number(options.BatchSize));
        Set(nameof(options.NumberOfEpochs), Number(options.NumberOfEpochs));
        Set(nameof(options.L2Regularization), Number(options.L2Regularization));
        Set(nameof(options.L1Regularization), Number(options.L1Regularization));
        if (options.Seed is int seed)
        {
            Set(nameof(options.Seed), Number(seed));
        }

        return text.Append("    });").ToString();
    }

    /// <summary>Appends <paramref name="line"/>, broken after commas into lines of at most 80 columns.</summary>
    private static void Wrap(StringBuilder text, string line, string continuation)
    {
        while (line.Length > Width && line.LastIndexOf(", ", Width - 1, StringComparison.Ordinal) is int cut && cut > continuation.Length)
        {
            text.AppendLine(line[..(cut + 1)]);
            line = continuation + line[(cut + 2)..];
        }

        text.AppendLine(line);
    }

    /// <summary>
    /// <c>new Adam(learningRate: 0.01, …)</c>: the optimizer's <c>ToString</c>, which names every constructor argument, made
    /// into C# (invariant numbers, <c>true</c>/<c>false</c>, <c>LineSearch.</c> members).
    /// </summary>
    public static string Optimizer(IOptimizer optimizer)
    {
        CultureInfo current = CultureInfo.CurrentCulture;
        try
        {
            // The optimizers format their numbers in the current culture; C# needs invariant ones.
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            string text = optimizer.ToString() ?? optimizer.Name;
            text = BooleanValue().Replace(text, match => match.Value.ToLowerInvariant());
            return "new " + LineSearchValue().Replace(text, "lineSearch: LineSearch.$1");
        }
        finally
        {
            CultureInfo.CurrentCulture = current;
        }
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quoted(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex(@"\b(True|False)\b")]
    private static partial Regex BooleanValue();

    [GeneratedRegex(@"lineSearch: (\w+)")]
    private static partial Regex LineSearchValue();
}
