using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Trainers;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Trainers;

/// <summary>Every bad input fails with an exception that names the column (or option), the first offending row and what was expected.</summary>
public class BadInputTests
{
    private static readonly MLContext Context = new(seed: 1);

    private static ArgumentException FitBinary<TRow>(IEnumerable<TRow> rows, string? weightColumn = null, string featureColumn = "Features")
        where TRow : class =>
        Assert.ThrowsAny<ArgumentException>(() => Context.BinaryClassification.Trainers
            .LogisticRegression(featureColumnName: featureColumn, exampleWeightColumnName: weightColumn, optimizer: new Sgd(0.1), numberOfEpochs: 1)
            .Fit(Context.Data.LoadFromEnumerable(rows)));

    private static Row[] RowsWith(int row, Action<Row> change)
    {
        Row[] rows = SmallBinaryRows(10);
        change(rows[row]);
        return rows;
    }

    [Fact]
    public void Missing_feature_column()
    {
        var error = FitBinary(SmallBinaryRows(10), featureColumn: "Pixels");
        Assert.Contains("no feature column 'Pixels'", error.Message);
        Assert.Contains("Features", error.Message); // lists the columns that do exist
    }

    [Fact]
    public void Missing_weight_column() =>
        Assert.Contains("no example weight column 'Importance'", FitBinary(SmallBinaryRows(10), weightColumn: "Importance").Message);

    [Fact]
    public void Missing_label_column()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Context.Regression.Trainers.LinearRegression(labelColumnName: "Target", optimizer: new Sgd(0.1))
            .Fit(Context.Data.LoadFromEnumerable(SmallBinaryRows(10))));
        Assert.Contains("no label column 'Target'", error.Message);
    }

    private sealed class TextLabelRow
    {
        public string Label { get; set; } = "";

        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    [Fact]
    public void Text_label_for_binary_classification()
    {
        var error = FitBinary(SmallBinaryRows(4).Select(r => new TextLabelRow { Label = r.Label ? "yes" : "no", Features = r.Features }));
        Assert.Contains("Label column 'Label'", error.Message);
        Assert.Contains("expected Boolean", error.Message);
    }

    [Fact]
    public void Non_key_label_for_multiclass_classification()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Context.MulticlassClassification.Trainers.SoftmaxRegression(optimizer: new Sgd(0.1))
            .Fit(Context.Data.LoadFromEnumerable(SmallBinaryRows(10))));
        Assert.Contains("expected a key type", error.Message);
    }

    private sealed class VariableSizeRow
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = [];
    }

    [Fact]
    public void Variable_size_feature_vector()
    {
        var error = FitBinary(SmallBinaryRows(4).Select(r => new VariableSizeRow { Label = r.Label, Features = r.Features }));
        Assert.Contains("expected a known-size vector of Single", error.Message);
    }

    private sealed class DoubleFeatureRow
    {
        public bool Label { get; set; }

        [VectorType(3)]
        public double[] Features { get; set; } = [];
    }

    [Fact]
    public void Double_feature_vector()
    {
        var error = FitBinary(SmallBinaryRows(4).Select(r => new DoubleFeatureRow { Label = r.Label, Features = [.. r.Features.Select(f => (double)f)] }));
        Assert.Contains("Vector<Double, 3>", error.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_feature(float value)
    {
        var error = FitBinary(RowsWith(7, r => r.Features[2] = value));
        Assert.Contains("Feature column 'Features' of the training data, row 7, slot 2", error.Message);
        Assert.Contains("features must be finite", error.Message);
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Invalid_example_weight(float value)
    {
        var error = FitBinary(RowsWith(4, r => r.Weight = value), weightColumn: "Weight");
        Assert.Contains("Example weight column 'Weight' of the training data, row 4", error.Message);
        Assert.Contains("finite and >= 0", error.Message);
    }

    private sealed class RegressionRow
    {
        public float Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [1, 2, 3];
    }

    [Fact]
    public void NaN_regression_label()
    {
        var rows = new[] { new RegressionRow { Label = 1 }, new RegressionRow { Label = 2 }, new RegressionRow { Label = float.NaN } };
        var error = Assert.ThrowsAny<ArgumentException>(() => Context.Regression.Trainers.LinearRegression(optimizer: new Sgd(0.1))
            .Fit(Context.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Label column 'Label' of the training data, row 2", error.Message);
        Assert.Contains("labels must be finite", error.Message);
    }

    [Fact]
    public void Missing_key_label()
    {
        // The key dictionary is built from classes 1 and 2 only, so the class 5 in row 2 maps to the missing key value 0.
        var rows = new[] { new RegressionRow { Label = 1 }, new RegressionRow { Label = 2 }, new RegressionRow { Label = 5 } };
        var keyData = Context.Transforms.SelectColumns("Label").Fit(Context.Data.LoadFromEnumerable(rows.Take(2))).Transform(Context.Data.LoadFromEnumerable(rows.Take(2)));
        var data = Context.Transforms.Conversion.MapValueToKey("Label", keyData: keyData).Fit(keyData)
            .Transform(Context.Data.LoadFromEnumerable(rows));

        var error = Assert.ThrowsAny<ArgumentException>(() => Context.MulticlassClassification.Trainers.SoftmaxRegression(optimizer: new Sgd(0.1)).Fit(data));
        Assert.Contains("Label column 'Label' of the training data, row 2: key value is missing", error.Message);
    }

    [Fact]
    public void Empty_data() =>
        Assert.Contains("contains no rows", FitBinary(Array.Empty<Row>()).Message);

    [Fact]
    public void Binary_label_with_a_single_class()
    {
        var error = FitBinary(SmallBinaryRows(10).Select(r => new Row { Label = true, Features = r.Features }));
        Assert.Contains("only the class true", error.Message);
    }

    public static TheoryData<string, Action<LogisticRegressionTrainer.Options>> InvalidOptions => new()
    {
        { "NumberOfEpochs", o => o.NumberOfEpochs = 0 },
        { "BatchSize", o => o.BatchSize = -1 },
        { "L2Regularization", o => o.L2Regularization = -1 },
        { "L1Regularization", o => o.L1Regularization = double.NaN },
        { "GradientClipNorm", o => o.GradientClipNorm = 0 },
        { "ValidationFraction", o => o.ValidationFraction = 1.5 },
        { "EarlyStoppingPatience", o => o.EarlyStoppingPatience = 0 },
        { "Optimizer", o => o.Optimizer = null! },
        { "LabelColumnName", o => o.LabelColumnName = "" },
        { "FeatureColumnName", o => o.FeatureColumnName = null! },
        { "ExampleWeightColumnName", o => o.ExampleWeightColumnName = "" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_option_is_rejected_at_construction_naming_it(string option, Action<LogisticRegressionTrainer.Options> change)
    {
        var options = new LogisticRegressionTrainer.Options { Optimizer = new Sgd(0.1) };
        change(options);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LogisticRegressionTrainer(Context, options));
        Assert.Equal(option, error.ParamName);
    }

    private sealed class WideRow
    {
        public bool Label { get; set; }

        [VectorType(4)]
        public float[] Features { get; set; } = [1, 2, 3, 4];
    }

    [Fact]
    public void Validation_data_of_another_width()
    {
        var validation = Context.Data.LoadFromEnumerable(new[] { new WideRow { Label = true }, new WideRow { Label = false } });
        var error = Assert.ThrowsAny<ArgumentException>(() => Context.BinaryClassification.Trainers.LogisticRegression(optimizer: new Sgd(0.1))
            .Fit(Context.Data.LoadFromEnumerable(SmallBinaryRows(10)), validation));
        Assert.Contains("The validation data has 4 features", error.Message);
    }
}
