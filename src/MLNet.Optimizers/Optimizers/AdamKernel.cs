using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// The Adam update shared by <see cref="Adam"/> (coupled L2) and <see cref="AdamW"/> (decoupled decay), just as
/// PyTorch's <c>AdamW</c> is <c>Adam</c> with <c>decoupled_weight_decay=True</c>. The owning rule validates the
/// hyperparameters; this type only computes.
/// </summary>
/// <remarks>
/// Element operations follow the order of PyTorch's single-tensor loop (<c>torch/optim/adam.py</c>), so float rounding
/// matches it as closely as a different compiler allows:
/// <code>
/// θ ← θ·(1 − γλ)  (decoupled)   or   g ← g + λ·θ  (coupled)      (when λ ≠ 0)
/// m ← lerp(m, g, 1 − β₁)
/// v ← v·β₂ + ((1 − β₂)·g)·g
/// vMax ← max(vMax, v), and vMax replaces v below                 (when amsGrad: max over the raw v)
/// θ ← θ − (γ/(1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// </remarks>
internal sealed partial class AdamKernel
{
    internal const string ExpAvgKey = "exp_avg";
    internal const string ExpAvgSqKey = "exp_avg_sq";
    internal const string MaxExpAvgSqKey = "max_exp_avg_sq";

    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private readonly double _weightDecay;
    private readonly bool _amsGrad;
    private readonly bool _decoupledWeightDecay;

    /// <summary>Stores already-validated hyperparameters.</summary>
    internal AdamKernel(double beta1, double beta2, double epsilon, double weightDecay, bool amsGrad, bool decoupledWeightDecay)
    {
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _weightDecay = weightDecay;
        _amsGrad = amsGrad;
        _decoupledWeightDecay = decoupledWeightDecay;
    }

    /// <summary>Creates the state: <c>exp_avg</c>, <c>exp_avg_sq</c> and, with AMSGrad, <c>max_exp_avg_sq</c>, all zero.</summary>
    internal OptimizerState CreateState(FirstOrderOptimizer rule, int parameterCount)
    {
        var state = new OptimizerState(rule, parameterCount);
        state.AddVector(ExpAvgKey);
        state.AddVector(ExpAvgSqKey);
        if (_amsGrad)
        {
            state.AddVector(MaxExpAvgSqKey);
        }

        return state;
    }

    /// <summary>The fused step: a <see cref="Vector{T}"/> loop, then the scalar element function for the tail.</summary>
    internal void Step(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, state, learningRate);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        Span<float> maxExpAvgSq = _amsGrad ? state.Vector(MaxExpAvgSqKey) : default;
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            i = FusedVectorLoop(parameters, gradient, expAvg, expAvgSq, maxExpAvgSq, s);
        }

        float unused = 0;
        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref expAvg[i], ref expAvgSq[i],
                ref s.AmsGrad ? ref maxExpAvgSq[i] : ref unused, s);
        }
    }

    /// <summary>
    /// The <see cref="Vector{T}"/> body over the whole vectors; returns how many elements it covered. Kept apart from
    /// <see cref="Step"/> and compiled straight to optimized code: in one large method, tiered PGO code kept the per-step
    /// flags and spans on the stack and ran about 1.5× slower. Refs instead of spans drop the bounds checks; the flags
    /// are locals, so each branch is one predictable test.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FusedVectorLoop(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> expAvg, Span<float> expAvgSq,
        Span<float> maxExpAvgSq, in Scalars s)
    {
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        ref float m = ref MemoryMarshal.GetReference(expAvg);
        ref float v = ref MemoryMarshal.GetReference(expAvgSq);
        ref float vMax = ref MemoryMarshal.GetReference(maxExpAvgSq);
        var expAvgWeight = s.ExpAvgWeight;
        bool decoupledDecay = s.DecoupledDecay, coupledDecay = s.CoupledDecay, amsGrad = s.AmsGrad;
        var decayFactor = new Vector<float>(s.DecayFactor);
        var weightDecay = new Vector<float>(s.WeightDecay);
        var beta2 = new Vector<float>(s.Beta2);
        var squareShare = new Vector<float>(s.SquareShare);
        var bias2Sqrt = new Vector<float>(s.BiasCorrection2Sqrt);
        var epsilon = new Vector<float>(s.Epsilon);
        var stepSize = new Vector<float>(s.StepSize);
        nuint end = (nuint)(parameters.Length - parameters.Length % Vector<float>.Count);
        for (nuint k = 0; k < end; k += (nuint)Vector<float>.Count)
        {
            var pk = Vector.LoadUnsafe(ref p, k);
            var gk = Vector.LoadUnsafe(ref g, k);
            if (decoupledDecay)
            {
                pk *= decayFactor;
            }
            else if (coupledDecay)
            {
                gk += weightDecay * pk;
            }

            var mk = expAvgWeight.Apply(Vector.LoadUnsafe(ref m, k), gk);
            var vk = Vector.LoadUnsafe(ref v, k) * beta2 + squareShare * gk * gk;
            mk.StoreUnsafe(ref m, k);
            vk.StoreUnsafe(ref v, k);
            if (amsGrad)
            {
                vk = Vector.Max(Vector.LoadUnsafe(ref vMax, k), vk);
                vk.StoreUnsafe(ref vMax, k);
            }

            var denominator = Vector.SquareRoot(vk) / bias2Sqrt + epsilon;
            (pk - stepSize * mk / denominator).StoreUnsafe(ref p, k);
        }

        return (int)end;
    }

    /// <summary>The scalar form of one step over every element; does not advance <c>state.Step</c>.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, state, learningRate);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        Span<float> maxExpAvgSq = _amsGrad ? state.Vector(MaxExpAvgSqKey) : default;
        float unused = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref expAvg[i], ref expAvgSq[i],
                ref s.AmsGrad ? ref maxExpAvgSq[i] : ref unused, s);
        }
    }

    private static void UpdateElement(ref float parameter, float gradient, ref float expAvg, ref float expAvgSq,
        ref float maxExpAvgSq, in Scalars s)
    {
        float g = gradient;
        if (s.DecoupledDecay)
        {
            parameter *= s.DecayFactor;
        }
        else if (s.CoupledDecay)
        {
            g += s.WeightDecay * parameter;
        }

        expAvg = s.ExpAvgWeight.Apply(expAvg, g);
        expAvgSq = expAvgSq * s.Beta2 + s.SquareShare * g * g;
        float secondMoment = expAvgSq;
        if (s.AmsGrad)
        {
            maxExpAvgSq = MathF.Max(maxExpAvgSq, secondMoment);
            secondMoment = maxExpAvgSq;
        }

        float denominator = MathF.Sqrt(secondMoment) / s.BiasCorrection2Sqrt + s.Epsilon;
        parameter -= s.StepSize * expAvg / denominator;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float.</summary>
    private readonly struct Scalars
    {
        public readonly LerpWeight ExpAvgWeight;
        public readonly float Beta2;
        public readonly float SquareShare;
        public readonly float BiasCorrection2Sqrt;
        public readonly float Epsilon;
        public readonly float StepSize;
        public readonly float WeightDecay;
        public readonly float DecayFactor;
        public readonly bool CoupledDecay;
        public readonly bool DecoupledDecay;
        public readonly bool AmsGrad;

        public Scalars(AdamKernel kernel, OptimizerState state, double learningRate)
        {
            long t = state.Step + 1;
            double biasCorrection1 = 1 - Math.Pow(kernel._beta1, t);
            double biasCorrection2 = 1 - Math.Pow(kernel._beta2, t);
            ExpAvgWeight = new LerpWeight(1 - kernel._beta1);
            Beta2 = (float)kernel._beta2;
            SquareShare = (float)(1 - kernel._beta2);
            BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2);
            Epsilon = (float)kernel._epsilon;
            StepSize = (float)(learningRate / biasCorrection1);
            WeightDecay = (float)kernel._weightDecay;
            DecayFactor = (float)(1 - learningRate * kernel._weightDecay);
            CoupledDecay = kernel._weightDecay != 0 && !kernel._decoupledWeightDecay;
            DecoupledDecay = kernel._weightDecay != 0 && kernel._decoupledWeightDecay;
            AmsGrad = kernel._amsGrad;
        }
    }
}
