using System.Globalization;

namespace MLNet.Optimizers.Comparison;

/// <summary>What one pass over a CSV column learns: missing cells, whether the rest are numbers, and its distinct values (capped).</summary>
internal sealed class CsvColumnProfile(string name, int index, int distinctCap)
{
    /// <summary>The cells read as missing, compared ignoring case: empty, NA, NaN and ?, which ML.NET's text loader also reads as NaN.</summary>
    public static readonly IReadOnlySet<string> MissingTokens = new HashSet<string>(["", "NA", "NaN", "?"], StringComparer.OrdinalIgnoreCase);

    private readonly HashSet<string> _distinct = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    public int Index { get; } = index;

    public int MissingCount { get; private set; }

    public int ValueCount { get; private set; }

    /// <summary>True while every non-missing cell is a finite number with '.' as decimal marker.</summary>
    public bool AllNumbers { get; private set; } = true;

    /// <summary>True while every non-missing cell is a finite number with ',' as decimal marker.</summary>
    public bool AllCommaDecimalNumbers { get; private set; } = true;

    /// <summary>True while every non-missing cell is a whole number.</summary>
    public bool AllIntegers { get; private set; } = true;

    /// <summary>The distinct non-missing values seen, up to the cap.</summary>
    public IReadOnlyCollection<string> Distinct => _distinct;

    /// <summary>True when there were more distinct values than the cap.</summary>
    public bool DistinctCapped { get; private set; }

    public void Add(string cell)
    {
        string value = cell.Trim();
        if (MissingTokens.Contains(value))
        {
            MissingCount++;
            return;
        }

        ValueCount++;
        if (AllNumbers || AllIntegers)
        {
            bool number = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) && double.IsFinite(parsed);
            AllNumbers &= number;
            AllIntegers &= number && parsed == Math.Floor(parsed);
        }

        if (AllCommaDecimalNumbers)
        {
            AllCommaDecimalNumbers = double.TryParse(value.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)
                && double.IsFinite(parsed) && !value.Contains('.', StringComparison.Ordinal);
        }

        if (_distinct.Count <= distinctCap)
        {
            _distinct.Add(value);
        }
        else
        {
            DistinctCapped |= !_distinct.Contains(value);
        }
    }
}
