namespace MLNet.Optimizers.Comparison;

/// <summary>What <see cref="CsvDataSet"/> does with a CSV column.</summary>
public enum CsvColumnRole
{
    /// <summary>The label.</summary>
    Label,

    /// <summary>A numeric feature; missing cells are replaced by the mean and flagged by an indicator feature.</summary>
    Numeric,

    /// <summary>A text feature with few values, one-hot encoded.</summary>
    Categorical,

    /// <summary>Not used; <see cref="CsvColumn.Reason"/> says why.</summary>
    Ignored,
}

/// <summary>One column of a CSV file as <see cref="CsvDataSet.Inspect"/> found it.</summary>
/// <param name="Name">The column's name (from the header; made unique when the header repeats a name).</param>
/// <param name="Index">The 0-based field position.</param>
/// <param name="Role">What the comparison does with it.</param>
/// <param name="MissingCount">The cells that are empty or <c>NA</c>, <c>NaN</c>, <c>?</c> (any case).</param>
/// <param name="DistinctCount">The distinct non-missing values, counted up to a cap (so a large count is a lower bound).</param>
/// <param name="Reason">Why the column is ignored; null otherwise.</param>
public sealed record CsvColumn(string Name, int Index, CsvColumnRole Role, int MissingCount, int DistinctCount, string? Reason)
{
    /// <summary>True for a numeric feature with at least one missing cell (it gets an indicator feature).</summary>
    public bool HasMissingValues => Role == CsvColumnRole.Numeric && MissingCount > 0;
}

/// <summary>A CSV file that cannot be compared as asked; <see cref="Setting"/> names the setting at fault, if one is.</summary>
public sealed class CsvDataException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file, column or row and what was expected.</param>
    /// <param name="setting">The <see cref="CsvDataSetOptions"/> property at fault, or null when the file itself is.</param>
    public CsvDataException(string message, string? setting = null) : base(message) => Setting = setting;

    /// <summary>The <see cref="CsvDataSetOptions"/> property at fault (e.g. <c>LabelColumnName</c>), or null when the file itself is.</summary>
    public string? Setting { get; }
}

/// <summary>How <see cref="CsvDataSet.Inspect"/> reads a CSV file; every setting null means inferred.</summary>
public sealed class CsvDataSetOptions
{
    /// <summary>The label column; null means a column named label, target, class, y or outcome (any case), else the last.</summary>
    public string? LabelColumnName { get; set; }

    /// <summary>The task; null means inferred from the label (two values: binary; few integers or text: multiclass; else regression).</summary>
    public ComparisonTask? Task { get; set; }

    /// <summary>The field separator; null means detected (comma, semicolon, tab or bar).</summary>
    public char? Separator { get; set; }

    /// <summary>Text columns with at most this many distinct values are one-hot encoded; others are ignored. Default 20.</summary>
    public int MaximumCategories { get; set; } = 20;
}
