using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Tests.Objectives;

public class TrainingDataTests
{
    [Fact]
    public void Dense_data_reports_shape_labels_weights_and_total_weight()
    {
        var data = TrainingData.Dense(2, [1f, 2f, 3f, 4f, 5f, 6f], [0f, 1f, 1f], [0.5f, 2f, 0f]);

        Assert.Equal(3, data.RowCount);
        Assert.Equal(2, data.FeatureCount);
        Assert.False(data.IsSparse);
        Assert.Equal([0f, 1f, 1f], data.Labels.ToArray());
        Assert.Equal(2.5, data.TotalWeight);
        Assert.Equal(3, TrainingData.Dense(2, new float[6], new float[3], null).TotalWeight);
        Assert.True(TrainingData.Dense(2, new float[6], new float[3], null).Weights.IsEmpty);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Subset_copies_rows_in_the_given_order_and_keeps_the_storage_form(bool sparse)
    {
        var synthetic = SyntheticData.Create(LabelKind.Regression, rowCount: 10, featureCount: 4, seed: 1, weighted: true);
        var data = sparse ? synthetic.Sparse() : synthetic.Dense();
        int[] rows = [7, 2, 7, 0];
        var objective = new SquaredObjective();
        var parameters = SyntheticData.RandomVector(5, seed: 2, scale: 1);

        var subset = data.Subset(rows);

        Assert.Equal(sparse, subset.IsSparse);
        Assert.Equal(rows.Select(r => synthetic.Labels[r]), subset.Labels.ToArray());
        Assert.Equal(rows.Select(r => synthetic.Weights![r]), subset.Weights.ToArray());
        // Same rows, same order, same arithmetic: the loss over the subset equals the loss over those rows of the original.
        Assert.Equal(objective.Loss(data, rows, parameters), objective.Loss(subset, parameters));
    }

    [Fact]
    public void Dense_shape_mismatch_names_the_argument_and_the_counts()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingData.Dense(3, new float[7], new float[2], null));

        Assert.Equal("features", error.ParamName);
        Assert.Contains("2 rows × 3 features need 6", error.Message);
    }

    [Fact]
    public void Non_finite_feature_names_its_row_and_column()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingData.Dense(2, [1f, 2f, 3f, float.NaN], [0f, 1f], null));

        Assert.Contains("Row 1, feature 1", error.Message);
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Bad_weight_names_its_row(float weight)
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingData.Dense(1, [1f, 2f], [0f, 1f], [1f, weight]));

        Assert.Equal("weights", error.ParamName);
        Assert.Contains("Row 1", error.Message);
    }

    [Theory]
    [InlineData(new[] { 0, 2, 3 }, new[] { 1, 0, 2 }, "indices")]    // row 0 indices not increasing
    [InlineData(new[] { 0, 2, 3 }, new[] { 0, 1, 5 }, "indices")]    // index out of range
    [InlineData(new[] { 0, 3, 2 }, new[] { 0, 1, 2 }, "rowOffsets")] // decreasing offsets
    [InlineData(new[] { 1, 2, 3 }, new[] { 0, 1, 2 }, "rowOffsets")] // does not start at 0
    public void Inconsistent_sparse_structure_is_rejected(int[] offsets, int[] indices, string argument)
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingData.Sparse(3, offsets, indices, new float[3], [0f, 1f], null));

        Assert.Equal(argument, error.ParamName);
    }
}
