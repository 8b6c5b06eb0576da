using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// One element-wise update rule for one step, in two forms written side by side: over one float, and over a
/// <see cref="Vector{T}"/> of consecutive elements. Both forms do the same float operations in the same order, so the vector
/// loop is bit-identical to the scalar form. A rule has up to three state vectors; one with fewer ignores the other slots.
/// </summary>
/// <remarks>
/// Implemented by readonly structs that hold the step's scalars. <see cref="ElementwiseLoop.Run"/> is generic over the struct
/// (as <c>System.Numerics.Tensors</c> is over its operators), so the JIT compiles one loop per rule with both forms inlined:
/// no delegate, no interface call, no bounds check.
/// </remarks>
internal interface IElementwiseKernel
{
    /// <summary>Updates one element and its state in place.</summary>
    void Apply(ref float parameter, float gradient, ref float state0, ref float state1, ref float state2);

    /// <summary>Updates <see cref="Vector{T}.Count"/> consecutive elements and their state in place.</summary>
    void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> state0, ref Vector<float> state1,
        ref Vector<float> state2);
}

/// <summary>
/// A per-step constant of a kernel in both forms: the float the scalar form uses and the vector of it the vector form uses.
/// </summary>
/// <remarks>
/// Built once per step so the vector loop finds it in a register; a <c>new Vector&lt;float&gt;(value)</c> inside the loop body
/// is not hoisted by the JIT and costs a broadcast per vector.
/// </remarks>
internal readonly struct StepConstant
{
    /// <summary>The value, for the scalar form.</summary>
    public readonly float Scalar;

    /// <summary>The value in every lane, for the vector form.</summary>
    public readonly Vector<float> Vector;

    /// <summary>Rounds <paramref name="value"/> to float (the step's scalars are computed in double and applied in float).</summary>
    public StepConstant(double value)
    {
        Scalar = (float)value;
        Vector = new Vector<float>(Scalar);
    }
}

/// <summary>The loop every element-wise rule runs: the vector form over whole vectors, then the scalar form for the tail.</summary>
internal static class ElementwiseLoop
{
    [ThreadStatic]
    private static bool t_scalarOnly;

    /// <summary>
    /// Applies <paramref name="kernel"/> to every element. Each state span is as long as <paramref name="parameters"/> or
    /// empty (a slot the rule does not use); the caller has checked the gradient's length.
    /// </summary>
    /// <remarks>Refs instead of spans drop the bounds checks; a state slot the rule does not use is never dereferenced.</remarks>
    internal static void Run<TKernel>(in TKernel kernel, Span<float> parameters, ReadOnlySpan<float> gradient,
        Span<float> state0 = default, Span<float> state1 = default, Span<float> state2 = default)
        where TKernel : struct, IElementwiseKernel
    {
        Debug.Assert(gradient.Length == parameters.Length);
        Debug.Assert(state0.IsEmpty || state0.Length == parameters.Length);
        Debug.Assert(state1.IsEmpty || state1.Length == parameters.Length);
        Debug.Assert(state2.IsEmpty || state2.Length == parameters.Length);
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        ref float s0 = ref MemoryMarshal.GetReference(state0);
        ref float s1 = ref MemoryMarshal.GetReference(state1);
        ref float s2 = ref MemoryMarshal.GetReference(state2);
        nuint length = (nuint)parameters.Length;
        nuint i = 0;
        if (Vector.IsHardwareAccelerated && !t_scalarOnly && length >= (nuint)Vector<float>.Count)
        {
            i = length - length % (nuint)Vector<float>.Count;
            VectorLoop(kernel, ref p, ref g, ref s0, ref s1, ref s2, i);
        }

        for (; i < length; i++)
        {
            kernel.Apply(ref Unsafe.Add(ref p, i), Unsafe.Add(ref g, i), ref Unsafe.Add(ref s0, i), ref Unsafe.Add(ref s1, i),
                ref Unsafe.Add(ref s2, i));
        }
    }

    /// <summary>The vector form over the first <paramref name="end"/> elements (a multiple of <see cref="Vector{T}.Count"/>).</summary>
    /// <remarks>
    /// A method of its own that takes the kernel by value, so the JIT keeps the kernel's <see cref="StepConstant"/>s in
    /// registers (in one method with the tail loop they were spilled and reloaded every vector), compiled straight to
    /// optimized code (tiered PGO code of such loops kept the step's scalars on the stack and ran about 1.5× slower).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VectorLoop<TKernel>(TKernel kernel, ref float p, ref float g, ref float s0, ref float s1, ref float s2, nuint end)
        where TKernel : struct, IElementwiseKernel
    {
        for (nuint i = 0; i < end; i += (nuint)Vector<float>.Count)
        {
            kernel.Apply(ref VectorAt(ref p, i), Vector.LoadUnsafe(ref g, i), ref VectorAt(ref s0, i), ref VectorAt(ref s1, i),
                ref VectorAt(ref s2, i));
        }
    }

    /// <summary>
    /// Until the returned scope is disposed, every <see cref="Run"/> on this thread takes the scalar form for every element:
    /// the reference the vector loop is tested against, bit for bit (see <see cref="FirstOrderOptimizer.ReferenceStep"/>).
    /// </summary>
    internal static ScalarOnlyScope ScalarOnly()
    {
        t_scalarOnly = true;
        return default;
    }

    /// <summary>Ends <see cref="ScalarOnly"/> when disposed.</summary>
    internal readonly ref struct ScalarOnlyScope
    {
        /// <summary>Lets <see cref="Run"/> use the vector form again.</summary>
        public void Dispose() => t_scalarOnly = false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref Vector<float> VectorAt(ref float start, nuint index) =>
        ref Unsafe.As<float, Vector<float>>(ref Unsafe.Add(ref start, index));
}
