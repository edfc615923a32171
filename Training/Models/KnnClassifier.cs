using System.Numerics;

namespace Cis490.Training.Models;

/// <summary>Brute-force k-nearest-neighbour classifier on z-scored features (squared Euclidean distance).</summary>
/// <remarks>
/// Tie rules, documented so that an independent computation can reproduce every prediction:
/// a neighbour at the same distance as one already kept loses to the lower training-row index;
/// a vote tie goes to the lower class index. Missing values (NaN) are imputed with the training mean (0 after z-scoring).
/// </remarks>
public sealed partial class KnnClassifier
{
    private const uint Magic = 0x4E4B3439; // "94KN"

    public int K { get; }
    public bool DistanceWeighted { get; }
    public int Dims { get; }
    public int Classes { get; }
    public int TrainRows => _y.Length;

    private readonly float[] _mean;
    private readonly float[] _scale;
    private readonly float[] _x; // z-scored training rows, row-major
    private readonly int[] _y;

    private KnnClassifier(int k, bool distanceWeighted, int dims, int classes, float[] mean, float[] scale, float[] x, int[] y)
    {
        K = k; DistanceWeighted = distanceWeighted; Dims = dims; Classes = classes;
        _mean = mean; _scale = scale; _x = x; _y = y;
        Pack();
    }

    /// <summary>"Fits" by storing the z-scored training rows.</summary>
    public static KnnClassifier Fit(float[] x, int[] y, int dims, int classes, int k, bool distanceWeighted = false)
    {
        if (y.Length == 0) throw new ArgumentException("no training rows");
        if (x.Length != y.Length * dims) throw new ArgumentException($"x has {x.Length} values, expected {y.Length} × {dims}");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        var mean = new float[dims];
        var scale = new float[dims];
        for (var j = 0; j < dims; j++)
        {
            double sum = 0; var n = 0;
            for (var i = 0; i < y.Length; i++)
            {
                var v = x[i * dims + j];
                if (float.IsNaN(v)) continue;
                sum += v; n++;
            }
            mean[j] = (float)(n > 0 ? sum / n : 0);
            // Second pass, about the stored mean: a constant column then has exactly zero spread. (The one-pass
            // E[x²] − m² left rounding noise of 1e-9..1e-5 there, whose inverse blew the column up and swamped every distance.)
            double sq = 0;
            for (var i = 0; i < y.Length; i++)
            {
                var v = x[i * dims + j];
                if (float.IsNaN(v)) continue;
                var d = (double)v - mean[j];
                sq += d * d;
            }
            var sd = n > 1 ? Math.Sqrt(sq / n) : 0;
            scale[j] = sd > 1e-12 ? (float)(1.0 / sd) : 1f;
        }
        var z = new float[x.Length];
        for (var i = 0; i < y.Length; i++) Standardize(x.AsSpan(i * dims, dims), z.AsSpan(i * dims, dims), mean, scale);
        return new KnnClassifier(Math.Min(k, y.Length), distanceWeighted, dims, classes, mean, scale, z, (int[])y.Clone());
    }

    /// <summary>Class probabilities (vote shares) for each query row: rows × <see cref="Classes"/>.</summary>
    /// <remarks>Blocks of queries run in parallel through the blocked kernel (<c>KnnBlocked.cs</c>), whose answers are those of
    /// <see cref="PredictProbaDirect"/> bit for bit.</remarks>
    /// <param name="progress">Called with the number of rows done, from worker threads, at most every 1 000 rows.</param>
    public float[] PredictProba(float[] queries, Action<int>? progress = null) => Score(queries, progress, _blocked);

    /// <summary>The direct path: every query against every training row, one float distance each (<see cref="SquaredDistance"/>),
    /// kept in a sorted list of k by the tie rules. What the blocked path must reproduce; kept for checks and benchmarks.</summary>
    public float[] PredictProbaDirect(float[] queries) => Score(queries, null, blocked: false);

    private float[] Score(float[] queries, Action<int>? progress, bool blocked)
    {
        if (queries.Length % Dims != 0) throw new ArgumentException($"queries have {queries.Length} values, not a multiple of {Dims} features");
        var rows = queries.Length / Dims;
        var proba = new float[rows * Classes];
        var done = 0;
        const int block = QueryBlock;
        Parallel.For(0, (rows + block - 1) / block, b =>
        {
            var end = Math.Min(rows, (b + 1) * block);
            if (blocked) ScoreBlock(queries, b * block, end, proba);
            else
            {
                var q = new float[Dims];
                var bestD = new float[K];
                var bestI = new int[K];
                for (var r = b * block; r < end; r++)
                {
                    Standardize(queries.AsSpan(r * Dims, Dims), q, _mean, _scale);
                    var n = Nearest(q, bestD, bestI);
                    Vote(bestD, bestI, n, proba.AsSpan(r * Classes, Classes));
                }
            }
            var total = Interlocked.Add(ref done, end - b * block);
            if (progress is not null && total / 1000 != (total - (end - b * block)) / 1000) progress(total);
        });
        return proba;
    }

    /// <summary>Arg-max of each probability row; ties go to the lower class index.</summary>
    public static int[] ArgMax(float[] proba, int classes)
    {
        var rows = proba.Length / classes;
        var pred = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            var best = 0;
            for (var c = 1; c < classes; c++)
                if (proba[r * classes + c] > proba[r * classes + best]) best = c;
            pred[r] = best;
        }
        return pred;
    }

    private int Nearest(ReadOnlySpan<float> q, float[] bestD, int[] bestI)
    {
        var n = 0;
        for (var i = 0; i < _y.Length; i++) Insert(SquaredDistance(q, _x.AsSpan(i * Dims, Dims)), i, bestD, bestI, ref n);
        return n;
    }

    /// <summary>Offers training row <paramref name="i"/> at distance <paramref name="d"/> to the sorted k best; rows must come
    /// in increasing index order, so that a tie keeps the earlier (lower-index) row.</summary>
    private void Insert(float d, int i, float[] bestD, int[] bestI, ref int n)
    {
        if (n == K && d >= bestD[n - 1]) return;
        var pos = n < K ? n++ : n - 1;
        while (pos > 0 && bestD[pos - 1] > d) { bestD[pos] = bestD[pos - 1]; bestI[pos] = bestI[pos - 1]; pos--; }
        bestD[pos] = d; bestI[pos] = i;
    }

    private void Vote(float[] bestD, int[] bestI, int n, Span<float> outRow)
    {
        outRow.Clear();
        double total = 0;
        for (var i = 0; i < n; i++)
        {
            var w = DistanceWeighted ? 1.0 / (Math.Sqrt(bestD[i]) + 1e-6) : 1.0;
            outRow[_y[bestI[i]]] += (float)w;
            total += w;
        }
        for (var c = 0; c < Classes; c++) outRow[c] = (float)(outRow[c] / total);
    }

    /// <summary>Squared Euclidean distance with SIMD.</summary>
    public static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector<float>.Zero;
        var i = 0;
        var w = Vector<float>.Count;
        for (; i <= a.Length - w; i += w)
        {
            var d = new Vector<float>(a[i..]) - new Vector<float>(b[i..]);
            acc += d * d;
        }
        var sum = Vector.Sum(acc);
        for (; i < a.Length; i++) { var d = a[i] - b[i]; sum += d * d; }
        return sum;
    }

    private static void Standardize(ReadOnlySpan<float> src, Span<float> dst, float[] mean, float[] scale)
    {
        for (var j = 0; j < src.Length; j++)
            dst[j] = float.IsNaN(src[j]) ? 0f : (src[j] - mean[j]) * scale[j];
    }

    /// <summary>Writes the sidecar: header, z-scoring statistics, training rows and labels (little-endian).</summary>
    public void Save(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(Magic); w.Write(1); // format version
        w.Write(K); w.Write(DistanceWeighted); w.Write(Dims); w.Write(Classes); w.Write(_y.Length);
        foreach (var part in new[] { _mean, _scale, _x }) w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(part.AsSpan()));
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_y.AsSpan()));
    }

    public static KnnClassifier Load(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (r.ReadUInt32() != Magic) throw new InvalidDataException($"{path} is not a KNN sidecar");
        var version = r.ReadInt32();
        if (version != 1) throw new InvalidDataException($"{path}: KNN sidecar format {version} is not supported (expected 1)");
        var k = r.ReadInt32(); var weighted = r.ReadBoolean(); var dims = r.ReadInt32(); var classes = r.ReadInt32(); var rows = r.ReadInt32();
        // Bulk reads (the sidecar is little-endian, as is every machine .NET runs on here): a 500 MB sidecar in one pass.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("KNN sidecars are little-endian");
        T[] Read<T>(int n) where T : unmanaged
        {
            var a = new T[n];
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());
            if (r.BaseStream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
                throw new InvalidDataException($"{path}: KNN sidecar ends early ({rows} rows × {dims} features announced)");
            return a;
        }
        var mean = Read<float>(dims); var scale = Read<float>(dims); var x = Read<float>(rows * dims);
        var y = Read<int>(rows);
        return new KnnClassifier(k, weighted, dims, classes, mean, scale, x, y);
    }
}
