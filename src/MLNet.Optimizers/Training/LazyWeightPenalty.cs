using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// The L2 and L1 penalties of <see cref="WeightPenalty"/> for lazy sparse steps: a weight a batch does not touch is brought
/// up to date in closed form when a later batch reads it, so a step costs O(touched coordinates). Exact for plain SGD; a
/// documented approximation for every other rule (see the remarks).
/// </summary>
/// <remarks>
/// <para>At dense step t (rate γₜ) an untouched weight has gradient λ₂·w, so SGD and the L1 proximal step give
/// w ← sign(w)·max(aₜ·|w| − bₜ, 0) with aₜ = 1 − γₜλ₂ and bₜ = γₜλ₁. Once clipped to 0 a weight stays 0, and the
/// unclipped recursion uₜ₊₁ = aₜ·uₜ − bₜ stays negative once negative, so k skipped steps are exactly one clip:</para>
/// <code>
/// Pₜ = Π_{i&lt;t} aᵢ ,  Cₜ = Σ_{i&lt;t} bᵢ / Pᵢ₊₁         (running products, one entry per step)
/// w at step t, last up to date at step s:  u = (Pₜ/Pₛ)·(|w| − Pₛ·(Cₜ − Cₛ)) ;  w ← u &gt; 0 ? sign(w)·u : 0
/// </code>
/// <para>With λ₂ = 0 this is the cumulative L1 penalty of Tsuruoka, Tsujii &amp; Ananiadou (2009); with λ₁ = 0 it is
/// w·Π(1 − γᵢλ₂), exact for any schedule. It is evaluated in double, so it equals the dense float steps up to float
/// rounding. Touched weights take the dense step's float arithmetic (gradient + λ₂·w, the rule's step, then the threshold).
/// The products restart at every <see cref="Flush"/> (each epoch end) and, to stay far from underflow, whenever Pₜ falls
/// below 1e-100.</para>
/// <para><b>Other rules (approximate).</b> With momentum, Adagrad, Adam or AdamW the same catch-up is applied to the weights
/// a batch skipped: each skipped step shrinks them as a plain SGD step on the penalty would (w·(1 − γₜλ₂), then the
/// soft-threshold γₜλ₁), at the step's scheduled rate γₜ. The dense rule would instead feed the penalty's gradient λ₂·w of
/// every untouched weight through its momentum or moments (Adam's normalised step moves such a weight by up to γ per step,
/// Adagrad's by γλ₂w/√G), which no closed form follows. Touched weights take the rule's step on gradient + λ₂·w and then
/// the threshold, as on the dense path. So the penalty of a skipped step is applied as proximal (decoupled) shrinkage, the
/// way lazy text learners apply it; the result depends on how often each feature occurs, and it equals the dense rule's
/// when every batch touches every weight.</para>
/// </remarks>
internal sealed class LazyWeightPenalty
{
    private const double SmallestProduct = 1e-100;

    private readonly LinearModelLayout _layout;
    private readonly double _l2;
    private readonly double _l1;
    private readonly int[] _lastStep;
    private double[] _products = new double[256];
    private double[] _thresholds = new double[256];
    private float[] _gradient = new float[256];
    private int _step;

    /// <summary>Starts with every weight up to date.</summary>
    /// <param name="layout">Where the weights are.</param>
    /// <param name="l2">λ₂ ≥ 0.</param>
    /// <param name="l1">λ₁ ≥ 0.</param>
    public LazyWeightPenalty(LinearModelLayout layout, double l2, double l1)
    {
        _layout = layout;
        _l2 = l2;
        _l1 = l1;
        _lastStep = new int[layout.WeightCount];
        _products[0] = 1;
    }

    /// <summary>Brings the weights among <paramref name="indices"/> (strictly increasing) up to the current step.</summary>
    public void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices)
    {
        foreach (int i in indices)
        {
            if (i >= _lastStep.Length)
            {
                break; // biases come last and are never penalised
            }

            CatchUp(ref parameters[i], _lastStep[i]);
            _lastStep[i] = _step;
        }
    }

    /// <summary>The step's gradient: <paramref name="values"/> + λ₂·w at the touched weights (as the dense path adds it).</summary>
    public ReadOnlySpan<float> WithL2(ReadOnlySpan<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
    {
        if (_l2 == 0)
        {
            return values;
        }

        if (_gradient.Length < values.Length)
        {
            _gradient = new float[Math.Max(values.Length, 2 * _gradient.Length)];
        }

        float l2 = (float)_l2;
        var gradient = _gradient.AsSpan(0, values.Length);
        for (int j = 0; j < indices.Length; j++)
        {
            gradient[j] = indices[j] < _lastStep.Length ? parameters[indices[j]] * l2 + values[j] : values[j];
        }

        return gradient;
    }

    /// <summary>After the rule's step at rate <paramref name="learningRate"/>: the L1 threshold on the touched weights, and
    /// the step's factors for the weights it skipped.</summary>
    public void AfterStep(Span<float> parameters, ReadOnlySpan<int> indices, double learningRate)
    {
        float threshold = (float)(learningRate * _l1);
        int next = _step + 1;
        foreach (int i in indices)
        {
            if (i >= _lastStep.Length)
            {
                break;
            }

            if (_l1 != 0)
            {
                float shrunk = MathF.Abs(parameters[i]) - threshold;
                parameters[i] = shrunk > 0 ? MathF.CopySign(shrunk, parameters[i]) : 0f;
            }

            _lastStep[i] = next;
        }

        if (next == _products.Length)
        {
            Array.Resize(ref _products, 2 * next);
            Array.Resize(ref _thresholds, 2 * next);
        }

        double product = _products[_step] * (1 - learningRate * (float)_l2);
        _products[next] = product;
        _thresholds[next] = _thresholds[_step] + threshold / product;
        _step = next;
        if (product < SmallestProduct)
        {
            Flush(parameters);
        }
    }

    /// <summary>Brings every weight up to date and restarts the running products.</summary>
    public void Flush(Span<float> parameters)
    {
        var weights = _layout.Weights(parameters);
        for (int i = 0; i < weights.Length; i++)
        {
            CatchUp(ref weights[i], _lastStep[i]);
        }

        Array.Clear(_lastStep);
        _step = 0;
    }

    private void CatchUp(ref float weight, int lastStep)
    {
        if (lastStep == _step || weight == 0)
        {
            return;
        }

        double from = _products[lastStep];
        double caughtUp = _products[_step] / from * (Math.Abs((double)weight) - from * (_thresholds[_step] - _thresholds[lastStep]));
        weight = caughtUp > 0 ? (float)Math.CopySign(caughtUp, weight) : 0f;
    }
}
