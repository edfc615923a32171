using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cis490.Training.Models;

/// <summary>The blocked scoring path: distances of a block of queries to a block of training rows as one small matrix
/// product (‖q‖² + ‖t‖² − 2 q·t, fused multiply-adds in SIMD registers, 6 queries × 2 panels of training rows at a time),
/// used only to pick candidates; every candidate's distance is then computed exactly as the direct path computes it, so the
/// neighbours, their order and the tie rules are those of <see cref="KnnClassifier.PredictProbaDirect"/>, bit for bit.</summary>
/// <remarks>
/// Why the candidates are complete: with ε = 2⁻²⁴ and n dimensions, both the norms-trick value a and the direct float
/// distance e are within γ·(‖q‖² + ‖t‖²) of the real distance, γ = 2(n + 3)ε/(1 − (n + 3)ε) (standard dot-product and
/// sum-of-squares error bounds), so |a − e| ≤ δ = c·(‖q‖² + ‖t‖²) with c = 2γ, doubled here for the rounding of the bounds
/// themselves. Let T be the k-th smallest upper bound a + δ seen so far for a query: k rows have e ≤ T, so the k nearest by
/// e all have e ≤ T and hence a − δ ≤ T. Rows whose lower bound a − δ exceeds T (which only falls) are never neighbours.
/// </remarks>
public sealed partial class KnnClassifier
{
    private const int QueryTile = 6;    // queries per register tile (6 × 2 accumulators: enough to hide the multiply-add latency)
    private const int PanelTile = 2;    // training panels per register tile
    private const int QueryBlock = 60;  // queries per parallel task, a multiple of the tile: their rows stay in L1 while a panel pair passes

    /// <summary>SIMD lanes per training panel on this machine: 16 with AVX-512, 8 with AVX2, 4 otherwise.</summary>
    public static int Lanes { get; } = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;

    /// <summary>Training rows transposed into panels of <see cref="Lanes"/> rows: panel p, dimension j, lane l at (p·Dims + j)·Lanes + l.</summary>
    private float[] _panels = [];
    private float[] _normLow = [], _normHigh = []; // ‖t‖²·(1 ∓ c) per panel lane; NaN for padding lanes (never a candidate)
    private float _boundFactor;                     // c
    private bool _blocked;                          // false when a training value or norm is not finite: the direct path then

    private void Pack()
    {
        var rows = _y.Length;
        var width = Lanes;
        var panels = (rows + width - 1) / width;
        panels = (panels + PanelTile - 1) / PanelTile * PanelTile;
        var eps = Math.ScaleB(1.0, -24);
        var n = Dims + 3;
        _boundFactor = (float)(2 * 2 * (2 * n * eps / (1 - n * eps)));
        _panels = new float[(long)panels * Dims * width > int.MaxValue ? throw new InvalidOperationException(
            $"KNN training set of {rows} rows × {Dims} features is too large for one array") : panels * Dims * width];
        _normLow = new float[panels * width];
        _normHigh = new float[panels * width];
        Array.Fill(_normLow, float.NaN);
        Array.Fill(_normHigh, float.NaN);
        _blocked = true;
        for (var i = 0; i < rows; i++)
        {
            var row = _x.AsSpan(i * Dims, Dims);
            var (p, lane) = (i / width, i % width);
            double norm = 0;
            for (var j = 0; j < Dims; j++)
            {
                _panels[(p * Dims + j) * width + lane] = row[j];
                norm += (double)row[j] * row[j];
            }
            if (!double.IsFinite(norm) || norm > float.MaxValue / 4) _blocked = false;
            _normLow[i] = (float)(norm * (1 - _boundFactor));
            _normHigh[i] = (float)(norm * (1 + _boundFactor));
        }
    }

    /// <summary>Per-query state of a block: the k smallest upper bounds (sorted) and the candidates in training-row order.</summary>
    private sealed class BlockState(int queries, int k, int dims)
    {
        public readonly float[] Z = new float[(queries + QueryTile - 1) / QueryTile * QueryTile * dims];
        public readonly float[] NormLow = new float[(queries + QueryTile - 1) / QueryTile * QueryTile];
        public readonly float[] NormHigh = new float[(queries + QueryTile - 1) / QueryTile * QueryTile];
        public readonly float[] Threshold = new float[(queries + QueryTile - 1) / QueryTile * QueryTile];
        public readonly float[] Upper = new float[queries * k];
        public readonly int[] Filled = new int[queries];
        public readonly List<int>[] Candidates = Enumerable.Range(0, queries).Select(_ => new List<int>()).ToArray();
        public readonly List<float>[] CandidateLow = Enumerable.Range(0, queries).Select(_ => new List<float>()).ToArray();
    }

    /// <summary>Scores queries [first, end) into <paramref name="proba"/> with the blocked kernel.</summary>
    /// <remarks>The kernel's methods are compiled fully optimised at once (AggressiveOptimization): a short scoring run (or one on
    /// a loaded machine, where the background re-compilation waits) would otherwise spend seconds in unoptimised SIMD code.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScoreBlock(float[] queries, int first, int end, float[] proba)
    {
        var count = end - first;
        var s = new BlockState(count, K, Dims);
        var direct = new List<int>(); // queries with a non-finite value or norm: the direct path scores them
        for (var r = 0; r < s.NormLow.Length; r++)
        {
            if (r >= count) { s.Threshold[r] = float.NegativeInfinity; continue; } // padding: never a candidate
            var z = s.Z.AsSpan(r * Dims, Dims);
            Standardize(queries.AsSpan((first + r) * Dims, Dims), z, _mean, _scale);
            double norm = 0;
            foreach (var v in z) norm += (double)v * v;
            if (!double.IsFinite(norm) || norm > float.MaxValue / 4) { direct.Add(r); s.Threshold[r] = float.NegativeInfinity; continue; }
            s.NormLow[r] = (float)(norm * (1 - _boundFactor));
            s.NormHigh[r] = (float)(norm * (1 + _boundFactor));
            s.Threshold[r] = float.PositiveInfinity;
        }

        var panels = _normLow.Length / Lanes;
        if (Lanes == 16) Tiles<Lanes16, Vector512<float>>(s, panels);
        else if (Lanes == 8) Tiles<Lanes8, Vector256<float>>(s, panels);
        else Tiles<Lanes4, Vector128<float>>(s, panels);

        var bestD = new float[K];
        var bestI = new int[K];
        for (var r = 0; r < count; r++)
        {
            var z = s.Z.AsSpan(r * Dims, Dims);
            int n;
            if (direct.Contains(r)) n = Nearest(z, bestD, bestI);
            else
            {
                // The exact pass: the direct path's distance and insertion rule over the candidates, in training-row order. The
                // survivors' rows are scattered over the training set: their cache lines are all requested first, then read.
                n = 0;
                var (cand, low, t) = (s.Candidates[r], s.CandidateLow[r], s.Threshold[r]);
                var kept = 0;
                for (var c = 0; c < cand.Count; c++)
                    if (low[c] <= t) { cand[kept++] = cand[c]; Prefetch(cand[c]); }
                for (var c = 0; c < kept; c++) Insert(SquaredDistance(z, _x.AsSpan(cand[c] * Dims, Dims)), cand[c], bestD, bestI, ref n);
            }
            Vote(bestD, bestI, n, proba.AsSpan((first + r) * Classes, Classes));
        }
    }

    /// <summary>Every tile of the block: for each pair of training panels (in row order, so that each query meets its training rows
    /// in increasing index), every group of 6 queries; the pair stays in L1 while the block's queries pass over it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tiles<TL, TV>(BlockState s, int panels) where TL : ILanes<TV> where TV : struct
    {
        var d = Dims;
        var w = TL.Count;
        var minus2 = TL.Splat(-2f);
        Span<float> dots = stackalloc float[QueryTile * PanelTile * 16];
        Span<float> pair = stackalloc float[PanelTile * 16]; // one query's dots, for the rare candidate path
        ref var dot = ref dots[0];
        for (var p = 0; p < panels; p += PanelTile)
        {
            ref var b0 = ref _panels[p * d * w];
            var n0 = TL.Load(ref _normLow[p * w]);
            var n1 = TL.Load(ref _normLow[(p + 1) * w]);
            for (var r0 = 0; r0 < s.NormLow.Length; r0 += QueryTile)
            {
                Dots<TL, TV>(ref s.Z[r0 * d], ref b0, d, ref dot);
                for (var i = 0; i < QueryTile; i++)
                    Filter<TL, TV>(s, r0 + i, p, n0, n1, TL.Load(ref Unsafe.Add(ref dot, 2 * i * w)), TL.Load(ref Unsafe.Add(ref dot, (2 * i + 1) * w)),
                        minus2, pair);
            }
        }
    }

    /// <summary>The register tile: dot products of 6 queries (rows of <paramref name="q"/>, <paramref name="d"/> apart) with the
    /// 2 × lanes training rows of the panels at <paramref name="panel"/>, into <paramref name="dots"/> (query-major). A leaf with
    /// no calls, so that the JIT keeps its 12 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Dots<TL, TV>(ref float q, ref float panel, int d, ref float dots) where TL : ILanes<TV> where TV : struct
    {
        var w = TL.Count;
        ref var q1 = ref Unsafe.Add(ref q, d);
        ref var q2 = ref Unsafe.Add(ref q, 2 * d);
        ref var q3 = ref Unsafe.Add(ref q, 3 * d);
        ref var q4 = ref Unsafe.Add(ref q, 4 * d);
        ref var q5 = ref Unsafe.Add(ref q, 5 * d);
        ref var b1 = ref Unsafe.Add(ref panel, d * w);
        TV c00 = TL.Zero, c01 = TL.Zero, c10 = TL.Zero, c11 = TL.Zero, c20 = TL.Zero, c21 = TL.Zero,
            c30 = TL.Zero, c31 = TL.Zero, c40 = TL.Zero, c41 = TL.Zero, c50 = TL.Zero, c51 = TL.Zero;
        for (nint j = 0, o = 0; j < d; j++, o += w)
        {
            var t0 = TL.Load(ref Unsafe.Add(ref panel, o));
            var t1 = TL.Load(ref Unsafe.Add(ref b1, o));
            var a = TL.Splat(Unsafe.Add(ref q, j));
            c00 = TL.Fma(a, t0, c00); c01 = TL.Fma(a, t1, c01);
            a = TL.Splat(Unsafe.Add(ref q1, j));
            c10 = TL.Fma(a, t0, c10); c11 = TL.Fma(a, t1, c11);
            a = TL.Splat(Unsafe.Add(ref q2, j));
            c20 = TL.Fma(a, t0, c20); c21 = TL.Fma(a, t1, c21);
            a = TL.Splat(Unsafe.Add(ref q3, j));
            c30 = TL.Fma(a, t0, c30); c31 = TL.Fma(a, t1, c31);
            a = TL.Splat(Unsafe.Add(ref q4, j));
            c40 = TL.Fma(a, t0, c40); c41 = TL.Fma(a, t1, c41);
            a = TL.Splat(Unsafe.Add(ref q5, j));
            c50 = TL.Fma(a, t0, c50); c51 = TL.Fma(a, t1, c51);
        }
        TL.Store(c00, ref dots); TL.Store(c01, ref Unsafe.Add(ref dots, w));
        TL.Store(c10, ref Unsafe.Add(ref dots, 2 * w)); TL.Store(c11, ref Unsafe.Add(ref dots, 3 * w));
        TL.Store(c20, ref Unsafe.Add(ref dots, 4 * w)); TL.Store(c21, ref Unsafe.Add(ref dots, 5 * w));
        TL.Store(c30, ref Unsafe.Add(ref dots, 6 * w)); TL.Store(c31, ref Unsafe.Add(ref dots, 7 * w));
        TL.Store(c40, ref Unsafe.Add(ref dots, 8 * w)); TL.Store(c41, ref Unsafe.Add(ref dots, 9 * w));
        TL.Store(c50, ref Unsafe.Add(ref dots, 10 * w)); TL.Store(c51, ref Unsafe.Add(ref dots, 11 * w));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Filter<TL, TV>(BlockState s, int r, int p, TV norm0, TV norm1, TV dot0, TV dot1, TV minus2, Span<float> pair)
        where TL : ILanes<TV> where TV : struct
    {
        var threshold = TL.Splat(s.Threshold[r]);
        var q = TL.Splat(s.NormLow[r]);
        var low0 = TL.Fma(minus2, dot0, TL.Add(q, norm0));
        var low1 = TL.Fma(minus2, dot1, TL.Add(q, norm1));
        var m0 = TL.LessOrEqualMask(low0, threshold);
        var m1 = TL.LessOrEqualMask(low1, threshold);
        if ((m0 | m1) == 0) return;
        TL.Store(dot0, ref pair[0]);
        TL.Store(dot1, ref pair[TL.Count]);
        Candidates(s, r, p, m0 | m1 << TL.Count, pair);
    }

    /// <summary>The rare path: some lanes may be neighbours; in training-row order, update the upper bounds and keep candidates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Candidates(BlockState s, int r, int p, ulong mask, Span<float> dots)
    {
        var w = Lanes;
        var upper = s.Upper.AsSpan(r * K, K);
        while (mask != 0)
        {
            var lane = System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            var i = p * w + lane;
            // The same expressions as the vector filter (fused multiply-add of −2·dot onto the summed norms).
            var low = MathF.FusedMultiplyAdd(-2f, dots[lane], s.NormLow[r] + _normLow[i]);
            var high = MathF.FusedMultiplyAdd(-2f, dots[lane], s.NormHigh[r] + _normHigh[i]);
            if (!(low <= s.Threshold[r])) continue;
            ref var filled = ref s.Filled[r];
            if (filled < K || high < upper[K - 1])
            {
                var pos = filled < K ? filled++ : K - 1;
                while (pos > 0 && upper[pos - 1] > high) { upper[pos] = upper[pos - 1]; pos--; }
                upper[pos] = high;
                if (filled == K) s.Threshold[r] = upper[K - 1];
            }
            if (low > s.Threshold[r]) continue;
            var (cand, lows) = (s.Candidates[r], s.CandidateLow[r]);
            cand.Add(i); lows.Add(low);
            if (cand.Count >= 64 + 8 * K) Prune(cand, lows, s.Threshold[r]);
        }
    }

    /// <summary>Asks for every cache line of training row <paramref name="row"/> (a hint; nothing waits for it).</summary>
    private unsafe void Prefetch(int row)
    {
        if (!Sse.IsSupported) return;
        fixed (float* at = &_x[row * Dims])
            for (var j = 0; j < Dims; j += 16) Sse.Prefetch0(at + j);
    }

    private static void Prune(List<int> cand, List<float> lows, float threshold)
    {
        var kept = 0;
        for (var c = 0; c < cand.Count; c++)
            if (lows[c] <= threshold) { cand[kept] = cand[c]; lows[kept] = lows[c]; kept++; }
        cand.RemoveRange(kept, cand.Count - kept);
        lows.RemoveRange(kept, lows.Count - kept);
    }

    /// <summary>SIMD operations the kernel needs, at one width (the JIT specialises the kernel for each struct below).</summary>
    private interface ILanes<TV> where TV : struct
    {
        static abstract int Count { get; }
        static abstract TV Zero { get; }
        static abstract TV Load(ref float at);
        static abstract void Store(TV v, ref float to);
        static abstract TV Splat(float v);
        static abstract TV Add(TV a, TV b);
        static abstract TV Fma(TV a, TV b, TV c);
        static abstract ulong LessOrEqualMask(TV a, TV b);
    }

    private readonly struct Lanes16 : ILanes<Vector512<float>>
    {
        public static int Count => 16;
        public static Vector512<float> Zero => Vector512<float>.Zero;
        public static Vector512<float> Load(ref float at) => Vector512.LoadUnsafe(ref at);
        public static void Store(Vector512<float> v, ref float to) => v.StoreUnsafe(ref to);
        public static Vector512<float> Splat(float v) => Vector512.Create(v);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static ulong LessOrEqualMask(Vector512<float> a, Vector512<float> b) => Vector512.LessThanOrEqual(a, b).ExtractMostSignificantBits();
    }

    private readonly struct Lanes8 : ILanes<Vector256<float>>
    {
        public static int Count => 8;
        public static Vector256<float> Zero => Vector256<float>.Zero;
        public static Vector256<float> Load(ref float at) => Vector256.LoadUnsafe(ref at);
        public static void Store(Vector256<float> v, ref float to) => v.StoreUnsafe(ref to);
        public static Vector256<float> Splat(float v) => Vector256.Create(v);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static ulong LessOrEqualMask(Vector256<float> a, Vector256<float> b) => Vector256.LessThanOrEqual(a, b).ExtractMostSignificantBits();
    }

    private readonly struct Lanes4 : ILanes<Vector128<float>>
    {
        public static int Count => 4;
        public static Vector128<float> Zero => Vector128<float>.Zero;
        public static Vector128<float> Load(ref float at) => Vector128.LoadUnsafe(ref at);
        public static void Store(Vector128<float> v, ref float to) => v.StoreUnsafe(ref to);
        public static Vector128<float> Splat(float v) => Vector128.Create(v);
        public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
        public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
        public static ulong LessOrEqualMask(Vector128<float> a, Vector128<float> b) => Vector128.LessThanOrEqual(a, b).ExtractMostSignificantBits();
    }
}
