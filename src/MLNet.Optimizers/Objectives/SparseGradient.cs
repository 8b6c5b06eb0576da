namespace MLNet.Optimizers.Objectives;

/// <summary>
/// A gradient that is non-zero only at a few coordinates: the batch gradient of a linear model on sparse rows. Holds the
/// touched coordinates in increasing order with their values, ready for
/// <see cref="ISparseStepOptimizer.StepSparse"/>. Reused from batch to batch without allocating once its buffers have grown
/// to the largest batch.
/// </summary>
internal sealed class SparseGradient
{
    private const int RadixBits = 11;

    private readonly int[] _slots; // per coordinate: 1 + its position in _touched during accumulation, 0 when untouched
    private int[] _touched = new int[256];
    private double[] _sums = new double[256];
    private float[] _values = new float[256];
    private int[] _sortScratch = new int[256];
    private readonly int[] _digitCounts = new int[1 << RadixBits];
    private int _count;

    /// <summary>Creates an empty gradient over <paramref name="parameterCount"/> coordinates.</summary>
    public SparseGradient(int parameterCount) => _slots = new int[parameterCount];

    /// <summary>The number of coordinates of the full gradient.</summary>
    public int ParameterCount => _slots.Length;

    /// <summary>The touched coordinates, strictly increasing (after <see cref="Finish"/>).</summary>
    public ReadOnlySpan<int> Indices => _touched.AsSpan(0, _count);

    /// <summary>The gradient at <see cref="Indices"/> (after <see cref="Finish"/>).</summary>
    public ReadOnlySpan<float> Values => _values.AsSpan(0, _count);

    /// <summary>Starts a new accumulation.</summary>
    public void Clear()
    {
        foreach (int index in _touched.AsSpan(0, _count))
        {
            _slots[index] = 0;
        }

        _count = 0;
    }

    /// <summary>Sorts the touched coordinates so far (for <see cref="Indices"/>); accumulation can go on afterwards.</summary>
    public void SortIndices()
    {
        if (_sortScratch.Length < _touched.Length)
        {
            _sortScratch = new int[_touched.Length];
        }

        SortTouched();
    }

    /// <summary>Adds <paramref name="value"/> to coordinate <paramref name="index"/>, in double.</summary>
    public void Add(int index, double value)
    {
        int slot = _slots[index] - 1;
        if (slot < 0)
        {
            if (_count == _touched.Length)
            {
                Array.Resize(ref _touched, _count * 2);
                Array.Resize(ref _sums, _count * 2);
                Array.Resize(ref _values, _count * 2);
            }

            slot = _count++;
            _slots[index] = slot + 1;
            _touched[slot] = index;
            _sums[slot] = 0;
        }

        _sums[slot] += value;
    }

    /// <summary>Sorts the touched coordinates and writes each sum ÷ <paramref name="divisor"/> as float (0 when the divisor is 0).</summary>
    public void Finish(double divisor)
    {
        SortIndices();
        var touched = _touched.AsSpan(0, _count);
        for (int t = 0; t < touched.Length; t++)
        {
            double sum = _sums[_slots[touched[t]] - 1];
            _values[t] = divisor > 0 ? (float)(sum / divisor) : 0f;
        }
    }

    /// <summary>
    /// Sorts the touched coordinates in O(count): when they cover a good part of the vector, by reading the slot array in
    /// order; otherwise by an LSD radix sort on 11-bit digits (two passes up to 2^22 coordinates). A comparison sort of the
    /// ~10k coordinates of a text batch cost more than the rest of the batch.
    /// </summary>
    private void SortTouched()
    {
        var touched = _touched.AsSpan(0, _count);
        if ((long)_count * 8 >= _slots.Length)
        {
            int t = 0;
            for (int index = 0; index < _slots.Length; index++)
            {
                if (_slots[index] != 0)
                {
                    touched[t++] = index;
                }
            }

            return;
        }

        var source = touched;
        var target = _sortScratch.AsSpan(0, _count);
        for (int shift = 0; (_slots.Length - 1) >> shift != 0; shift += RadixBits)
        {
            Array.Clear(_digitCounts);
            foreach (int index in source)
            {
                _digitCounts[(index >> shift) & ((1 << RadixBits) - 1)]++;
            }

            int position = 0;
            for (int digit = 0; digit < _digitCounts.Length; digit++)
            {
                (_digitCounts[digit], position) = (position, position + _digitCounts[digit]);
            }

            foreach (int index in source)
            {
                target[_digitCounts[(index >> shift) & ((1 << RadixBits) - 1)]++] = index;
            }

            var swap = source;
            source = target;
            target = swap;
        }

        if (source != touched)
        {
            source.CopyTo(touched);
        }
    }
}
