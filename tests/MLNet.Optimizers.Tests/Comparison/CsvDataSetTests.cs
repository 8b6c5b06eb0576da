using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Comparison;

namespace MLNet.Optimizers.Tests.Comparison;

/// <summary>Real-world CSV shapes: each case the main job must read, featurize and compare, or reject with a clear message.</summary>
public sealed class CsvDataSetTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("csv-dataset-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void MissingCells_EmptyNaNaNQuestionMark_KeepTheColumn_LoadAsNaN_AndGetAnIndicator()
    {
        // breast_cancer with one missing cell in every 10th row, cycling through the four spellings and the columns.
        string[] tokens = ["", "NA", "NaN", "?"];
        string path = Write("missing.csv", BreastCancer().Select((line, row) =>
        {
            if (row == 0 || row % 10 != 0)
            {
                return line;
            }

            string[] cells = line.Split(',');
            cells[row / 10 % 30] = tokens[row / 10 % tokens.Length];
            return string.Join(",", cells);
        }));

        CsvDataSet dataset = CsvDataSet.Inspect(path);
        Assert.Equal(30, dataset.Features.Count);
        Assert.Equal(ComparisonTask.BinaryClassification, dataset.Task);
        CsvColumn[] withMissing = [.. dataset.Features.Where(c => c.HasMissingValues)];
        Assert.Equal(56, withMissing.Sum(c => c.MissingCount));
        Assert.Contains(dataset.Describe(), line => line.StartsWith("missing values (mean + indicator): mean_radius (", StringComparison.Ordinal));

        // ML.NET's loader reads every spelling as NaN, and the featurizer leaves no NaN: 30 values + one indicator per column with gaps.
        var mlContext = new MLContext(seed: 1);
        IDataView loaded = dataset.CreateLoader(mlContext).Load(path);
        Assert.Equal(56, dataset.Features.Sum(c => loaded.GetColumn<float>(c.Name).Count(float.IsNaN)));
        IDataView features = dataset.CreateFeaturizer(mlContext).Fit(loaded).Transform(loaded);
        VBuffer<float>[] vectors = [.. features.GetColumn<VBuffer<float>>(dataset.FeatureColumnName)];
        Assert.All(vectors, v => Assert.Equal(30 + withMissing.Length, v.Length));
        Assert.DoesNotContain(vectors, v => v.DenseValues().Any(float.IsNaN));
    }

    [Fact]
    public void TextColumns_FewValuesAreOneHot_ManyAreIgnoredWithTheReason()
    {
        string path = Write("text.csv", ["x,colour,name,y", .. Enumerable.Range(0, 60).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"{i * 0.1},{(i % 3) switch { 0 => "red", 1 => "green", _ => "blue" }},person {i},{i % 2}"))]);
        CsvDataSet dataset = CsvDataSet.Inspect(path);
        Assert.Equal(CsvColumnRole.Categorical, dataset.Columns.Single(c => c.Name == "colour").Role);
        CsvColumn name = dataset.Columns.Single(c => c.Name == "name");
        Assert.Equal(CsvColumnRole.Ignored, name.Role);
        Assert.Equal("text with more than 20 distinct values", name.Reason);
        Assert.Contains("columns ignored: name (text with more than 20 distinct values)", dataset.Describe());

        var mlContext = new MLContext(seed: 1);
        IDataView loaded = dataset.CreateLoader(mlContext).Load(path);
        IDataView features = dataset.CreateFeaturizer(mlContext).Fit(loaded).Transform(loaded);
        Assert.Equal(1 + 3, ((VectorDataViewType)features.Schema[dataset.FeatureColumnName].Type).Size);
    }

    [Fact]
    public void LabelNamedTarget_InTheFirstColumn_IsTheLabel_AndTheFirstLinesSaySo()
    {
        string[] lines = BreastCancer();
        string path = Write("target-first.csv", lines.Select((line, row) =>
        {
            int cut = line.LastIndexOf(',');
            return (row == 0 ? "target" : line[(cut + 1)..]) + "," + line[..cut];
        }));
        CsvDataSet dataset = CsvDataSet.Inspect(path);
        Assert.Equal("target", dataset.Label.Name);
        Assert.Equal(0, dataset.Label.Index);
        Assert.Equal(ComparisonTask.BinaryClassification, dataset.Task);
        Assert.Equal("label: 'target' (named 'target'); task: binary classification (the label has two values)", dataset.Describe()[1]);
    }

    [Theory]
    [InlineData("yes", "no", "yes")]
    [InlineData("M", "B", "M")]
    [InlineData("true", "false", "true")]
    [InlineData("2", "1", "2")]
    public void TwoValuedLabels_AreBinary_TheLargerValueIsPositive_AndTheComparisonReportsAuc(string first, string second, string positive)
    {
        string path = Write("two-valued.csv", IrisAsBinary(first, second));
        CsvDataSet dataset = CsvDataSet.Inspect(path);
        Assert.Equal(ComparisonTask.BinaryClassification, dataset.Task);

        ComparisonResult result = QuickComparison(dataset, out _);
        Assert.Equal(positive, result.PositiveClass);
        Assert.True(result.Best.Metrics[ComparisonMetric.AreaUnderRocCurve].Mean > 0.9);
    }

    [Fact]
    public void BlankLabels_AreDroppedAndCounted()
    {
        // Every 7th row has an empty label, every 11th (not 7th) the text NA.
        string path = Write("blank-labels.csv", IrisAsBinary("yes", "no").Select((line, row) =>
            row == 0 ? line : row % 7 == 0 ? line[..(line.LastIndexOf(',') + 1)] : row % 11 == 0 ? line[..(line.LastIndexOf(',') + 1)] + "NA" : line));
        int blank = Enumerable.Range(1, 150).Count(row => row % 7 == 0 || row % 11 == 0);
        CsvDataSet dataset = CsvDataSet.Inspect(path);
        Assert.Equal(blank, dataset.BlankLabelRows);
        Assert.Contains(dataset.Describe(), line => line == $"{blank} rows with a blank label dropped");

        ComparisonResult result = QuickComparison(dataset, out _);
        Assert.Equal(blank, result.BlankLabelRows);
        Assert.Equal(150 - blank, result.RowCount);
    }

    [Fact]
    public void SemicolonCsv_WithDecimalCommas_IsDetected()
    {
        string path = Write("semicolon.csv", BreastCancer().Select(line => string.Join(";", line.Split(',').Select(cell => cell.Replace('.', ',')))));
        CsvDataSet dataset = CsvDataSet.Inspect(path);
        Assert.Equal(';', dataset.Separator);
        Assert.Equal(',', dataset.DecimalMarker);
        Assert.Equal(30, dataset.Features.Count);

        var mlContext = new MLContext(seed: 1);
        float[] radius = [.. dataset.CreateLoader(mlContext).Load(path).GetColumn<float>("mean_radius")];
        Assert.Equal(17.99f, radius[0]);
    }

    [Fact]
    public void TabSeparatedFile_WithAGivenSeparator_IsRead()
    {
        string path = Write("tab.tsv", BreastCancer().Select(line => line.Replace(',', '\t')));
        Assert.Equal('\t', CsvDataSet.Inspect(path, new CsvDataSetOptions { Separator = '\t' }).Separator);
        Assert.Equal('\t', CsvDataSet.Inspect(path).Separator);
    }

    [Fact]
    public void QuotedFieldsWithTheSeparatorInside_AreOneField()
    {
        string path = Write("quoted.csv", ["size,city,y", .. Enumerable.Range(0, 40).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"{i},\"{(i % 2 == 0 ? "Paris, France" : "Rome, Italy")}\",{i % 2}"))]);
        CsvDataSet dataset = CsvDataSet.Inspect(path);
        Assert.Equal(3, dataset.Columns.Count);
        Assert.Equal(CsvColumnRole.Categorical, dataset.Columns[1].Role);
        var mlContext = new MLContext(seed: 1);
        string[] cities = [.. dataset.CreateLoader(mlContext).Load(path).GetColumn<ReadOnlyMemory<char>>("city").Select(c => c.ToString())];
        Assert.Equal("Paris, France", cities[0]);
    }

    [Fact]
    public void BadInput_IsRejectedNamingTheSettingAndTheValueOnce()
    {
        string iris = Write("iris.csv", File.ReadLines(SampleData("iris.csv")));
        var missingLabel = Assert.Throws<CsvDataException>(() => CsvDataSet.Inspect(iris, new CsvDataSetOptions { LabelColumnName = "species" }));
        Assert.Equal(nameof(CsvDataSetOptions.LabelColumnName), missingLabel.Setting);
        Assert.Contains("label column 'species' is not in", missingLabel.Message, StringComparison.Ordinal);

        var notBinary = Assert.Throws<CsvDataException>(() =>
            CsvDataSet.Inspect(iris, new CsvDataSetOptions { Task = ComparisonTask.BinaryClassification }));
        Assert.Equal(nameof(CsvDataSetOptions.Task), notBinary.Setting);
        Assert.Equal("binary classification needs a label with two values; 'Label' has 3 values (0, 1, 2).", notBinary.Message);

        string ragged = Write("ragged.csv", ["a,b,y", "1,2,0", "3,1", "4,5,1"]);
        Assert.Equal($"'{ragged}' data row 2 has 2 fields; the header has 3 (separator ',').",
            Assert.Throws<CsvDataException>(() => CsvDataSet.Inspect(ragged)).Message);

        string textOnly = Write("text-only.csv", ["name,y", .. Enumerable.Range(0, 30).Select(i => $"n{i},{i % 2}")]);
        Assert.Contains("has no usable feature besides the label 'y': name: text with more than 20 distinct values",
            Assert.Throws<CsvDataException>(() => CsvDataSet.Inspect(textOnly)).Message, StringComparison.Ordinal);

        Assert.Contains("does not exist", Assert.Throws<CsvDataException>(() => CsvDataSet.Inspect(Path.Combine(_directory, "none.csv"))).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void BestModel_SavedWithTheLoader_ScoresTheRawCsvWithMicrosoftMlAlone()
    {
        // Missing cells and a text column: the saved model reads the raw file through its own loader.
        string path = Write("raw.csv", ["x,colour,z,y", .. Enumerable.Range(0, 90).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{(i % 9 == 0 ? "NA" : (i * 0.1).ToString(CultureInfo.InvariantCulture))},{(i % 3 == 0 ? "red" : "blue")},{i % 5},{(i % 3 == 0 ? "yes" : "no")}"))]);
        CsvDataSet dataset = CsvDataSet.Inspect(path);
        ComparisonResult result = QuickComparison(dataset, out MLContext mlContext);
        string model = Path.Combine(_directory, "model.zip");
        result.SaveBestModel(mlContext, dataset.CreateLoader(mlContext), model);

        var scoring = new MLContext(seed: 2);
        ITransformer loaded = scoring.Model.LoadWithDataLoader(model, out IDataLoader<IMultiStreamSource> loader);
        IDataView scored = loaded.Transform(loader.Load(new MultiFileSource(path)));
        bool[] predicted = [.. scored.GetColumn<bool>("PredictedLabel")];
        Assert.Equal(90, predicted.Length);
        // "yes" (every third row, all red) is the positive class and the colour gives it away.
        Assert.Equal(Enumerable.Range(0, 90).Select(i => i % 3 == 0), predicted);
    }

    private static ComparisonResult QuickComparison(CsvDataSet dataset, out MLContext mlContext)
    {
        mlContext = new MLContext(seed: 1);
        OptimizerComparisonOptions options = dataset.CreateComparisonOptions(mlContext);
        options.Candidates = [new ComparisonCandidate(new Adam(learningRate: 0.05)), new ComparisonCandidate(new Lbfgs())];
        options.NumberOfFolds = 3;
        options.MaximumNumberOfEpochs = 10;
        options.TimeBudget = TimeSpan.FromHours(1);
        return new OptimizerComparison(mlContext).Run(options);
    }

    /// <summary>iris with class 0 as <paramref name="positive"/> and the others as <paramref name="negative"/>.</summary>
    private static IEnumerable<string> IrisAsBinary(string positive, string negative) =>
        File.ReadLines(SampleData("iris.csv")).Select((line, row) =>
            row == 0 ? line : line[..(line.LastIndexOf(',') + 1)] + (line.EndsWith(",0", StringComparison.Ordinal) ? positive : negative));

    private static string[] BreastCancer() => [.. File.ReadLines(SampleData("breast_cancer.csv"))];

    private static string SampleData(string file) => Path.Combine(AppContext.BaseDirectory, "data", file);

    private string Write(string name, IEnumerable<string> lines)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }
}
