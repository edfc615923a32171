using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Cis490.Training.Models.Xgb;

/// <summary>A dense row-major float matrix copied into XGBoost (a DMatrix); NaN marks a missing value.</summary>
internal sealed class XgbMatrix : IDisposable
{
    internal XgbMatrixHandle Handle { get; }
    public int Rows { get; }
    public int Cols { get; }

    private XgbMatrix(XgbMatrixHandle handle, int rows, int cols) => (Handle, Rows, Cols) = (handle, rows, cols);

    /// <summary>Copies <paramref name="x"/> (rows × cols) and, when given, one label per row.</summary>
    public static XgbMatrix FromDense(float[] x, int rows, int cols, int[]? labels = null)
    {
        XgbLibrary.EnsureLoaded();
        if (x.LongLength != (long)rows * cols) throw new ArgumentException($"x has {x.LongLength} values, expected {rows} × {cols}");
        if (labels is not null && labels.Length != rows) throw new ArgumentException($"{labels.Length} labels for {rows} rows");
        var rc = XgbNative.XGDMatrixCreateFromMat(x, (ulong)rows, (ulong)cols, float.NaN, out var handle);
        var matrix = new XgbMatrix(handle, rows, cols);
        try
        {
            XgbLibrary.Check(rc, "XGDMatrixCreateFromMat");
            if (labels is not null)
            {
                var y = Array.ConvertAll(labels, l => (float)l);
                XgbLibrary.Check(XgbNative.XGDMatrixSetFloatInfo(handle, "label", y, (ulong)y.Length), "XGDMatrixSetFloatInfo(label)");
            }
            return matrix;
        }
        catch
        {
            matrix.Dispose();
            throw;
        }
    }

    public void Dispose() => Handle.Dispose();
}

/// <summary>An XGBoost booster: parameters, one boosting round at a time, evaluation, prediction, slicing, JSON save and load.</summary>
/// <remarks>Calls on one booster are serialised: XGBoost hands back buffers it owns until the next call on the same handle.</remarks>
internal sealed class XgbBooster : IDisposable
{
    private readonly XgbBoosterHandle _handle;
    private readonly Lock _gate = new();

    private XgbBooster(XgbBoosterHandle handle) => _handle = handle;

    /// <summary>A new booster; <paramref name="cache"/> are the matrices it will train and evaluate on (their predictions are
    /// kept between rounds, so evaluating each round costs one tree layer, not the whole model).</summary>
    public static XgbBooster Create(params XgbMatrix[] cache)
    {
        XgbLibrary.EnsureLoaded();
        var (rc, handle) = WithHandles(cache.Select(m => (SafeHandle)m.Handle).ToArray(), ptrs =>
        {
            var r = XgbNative.XGBoosterCreate(ptrs, (ulong)ptrs.Length, out var h);
            return (r, h);
        });
        return Own(rc, handle, "XGBoosterCreate");
    }

    /// <summary>Loads a model file written by <see cref="Save"/> (or by any XGBoost: JSON or binary, by content).</summary>
    public static XgbBooster Load(string path)
    {
        var booster = Create();
        try
        {
            XgbLibrary.Check(XgbNative.XGBoosterLoadModel(booster._handle, path), $"XGBoosterLoadModel({path})");
            return booster;
        }
        catch
        {
            booster.Dispose();
            throw;
        }
    }

    /// <summary>Sets a parameter. XGBoost only stores the text here: a bad value is reported by the next round or prediction.</summary>
    public void SetParam(string name, string value)
    {
        lock (_gate) XgbLibrary.Check(XgbNative.XGBoosterSetParam(_handle, name, value), $"XGBoosterSetParam({name}={value})");
    }

    public void SetParam(string name, double value) => SetParam(name, value.ToString("R", CultureInfo.InvariantCulture));

    public void SetParam(string name, long value) => SetParam(name, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Boosts one round (adds one tree per class) on <paramref name="train"/>, which must carry labels.</summary>
    public void UpdateOneIter(int iteration, XgbMatrix train)
    {
        lock (_gate) XgbLibrary.Check(XgbNative.XGBoosterUpdateOneIter(_handle, iteration, train.Handle), "XGBoosterUpdateOneIter");
    }

    /// <summary>XGBoost's evaluation line for one labelled matrix, e.g. "[3]\tval-mlogloss:0.1234".</summary>
    public string EvalOneIter(int iteration, XgbMatrix matrix, string name)
    {
        var cName = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            lock (_gate)
            {
                var (rc, text) = WithHandles([matrix.Handle], ptrs =>
                {
                    var r = XgbNative.XGBoosterEvalOneIter(_handle, iteration, ptrs, [cName], 1, out var result);
                    return (r, result);
                });
                XgbLibrary.Check(rc, "XGBoosterEvalOneIter");
                return Marshal.PtrToStringUTF8(text) ?? "";
            }
        }
        finally
        {
            Marshal.FreeCoTaskMem(cName);
        }
    }

    /// <summary>Normal (transformed) prediction of the trees of rounds [0, <paramref name="iterationEnd"/>) (0: all), with
    /// XGBoost's strict shape: rows × <paramref name="columns"/> values, row-major (for multi:softprob, columns = classes).</summary>
    public float[] Predict(XgbMatrix matrix, int iterationEnd, out int columns)
    {
        var config = $"{{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":{iterationEnd.ToString(CultureInfo.InvariantCulture)},\"strict_shape\":true}}";
        lock (_gate)
        {
            XgbLibrary.Check(XgbNative.XGBoosterPredictFromDMatrix(_handle, matrix.Handle, config, out var shapePtr, out var dims, out var result),
                "XGBoosterPredictFromDMatrix");
            if (dims != 2) throw new XgbException($"XGBoosterPredictFromDMatrix gave a {dims}-dimensional result; expected rows × classes");
            var shape = new long[2];
            Marshal.Copy(shapePtr, shape, 0, 2);
            if (shape[0] != matrix.Rows) throw new XgbException($"XGBoosterPredictFromDMatrix gave {shape[0]} rows for {matrix.Rows}");
            columns = checked((int)shape[1]);
            var values = new float[checked(matrix.Rows * columns)];
            if (values.Length > 0) Marshal.Copy(result, values, 0, values.Length);
            return values;
        }
    }

    /// <summary>A new booster with the trees of rounds [<paramref name="begin"/>, <paramref name="end"/>).</summary>
    public XgbBooster Slice(int begin, int end)
    {
        lock (_gate)
        {
            var rc = XgbNative.XGBoosterSlice(_handle, begin, end, 1, out var sliced);
            // -2 means "out of range" and leaves the last error as whatever the previous failure was: say it ourselves.
            if (rc == -2)
            {
                sliced.Dispose();
                throw new XgbException($"XGBoosterSlice: rounds [{begin}, {end}) are outside the model's {BoostedRoundsLocked()} rounds");
            }
            return Own(rc, sliced, "XGBoosterSlice");
        }
    }

    public int BoostedRounds
    {
        get { lock (_gate) return BoostedRoundsLocked(); }
    }

    /// <summary>Number of feature columns the model was trained on.</summary>
    public int Features
    {
        get
        {
            lock (_gate)
            {
                XgbLibrary.Check(XgbNative.XGBoosterGetNumFeature(_handle, out var n), "XGBoosterGetNumFeature");
                return checked((int)n);
            }
        }
    }

    /// <summary>Writes the model; a path ending in ".json" gives XGBoost's JSON model format.</summary>
    public void Save(string path)
    {
        lock (_gate) XgbLibrary.Check(XgbNative.XGBoosterSaveModel(_handle, path), $"XGBoosterSaveModel({path})");
    }

    /// <summary>Sets a string attribute; attributes are saved with the model.</summary>
    public void SetAttr(string key, string value)
    {
        lock (_gate) XgbLibrary.Check(XgbNative.XGBoosterSetAttr(_handle, key, value), $"XGBoosterSetAttr({key})");
    }

    /// <summary>A string attribute, or null when the model has none of that name.</summary>
    public string? GetAttr(string key)
    {
        lock (_gate)
        {
            XgbLibrary.Check(XgbNative.XGBoosterGetAttr(_handle, key, out var value, out var found), $"XGBoosterGetAttr({key})");
            return found == 1 ? Marshal.PtrToStringUTF8(value) : null;
        }
    }

    /// <summary>XGBoost's own importance of each feature index (summed over classes where it reports them per class); features no
    /// tree splits on are absent. <paramref name="type"/>: weight, gain, total_gain, cover, total_cover.</summary>
    public IReadOnlyDictionary<int, double> FeatureScore(string type)
    {
        lock (_gate)
        {
            XgbLibrary.Check(XgbNative.XGBoosterFeatureScore(_handle, $"{{\"importance_type\": \"{type}\", \"feature_map\": \"\"}}",
                out var n, out var namesPtr, out var dims, out var shapePtr, out var scoresPtr), $"XGBoosterFeatureScore({type})");
            var count = checked((int)n);
            var shape = new long[dims];
            for (var d = 0; d < (int)dims; d++) shape[d] = Marshal.ReadInt64(shapePtr, d * sizeof(long));
            var perFeature = dims == 2 ? checked((int)shape[1]) : 1;
            var scores = new float[count * perFeature];
            if (scores.Length > 0) Marshal.Copy(scoresPtr, scores, 0, scores.Length);
            var result = new Dictionary<int, double>();
            for (var i = 0; i < count; i++)
            {
                var name = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(namesPtr, i * IntPtr.Size))!;
                if (name.Length < 2 || name[0] != 'f' || !int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    throw new XgbException($"XGBoosterFeatureScore named a feature '{name}'; expected f<index> (the model has no feature names)");
                double sum = 0;
                for (var g = 0; g < perFeature; g++) sum += scores[i * perFeature + g];
                result[index] = result.GetValueOrDefault(index) + sum;
            }
            return result;
        }
    }

    public void Dispose() => _handle.Dispose();

    private int BoostedRoundsLocked()
    {
        XgbLibrary.Check(XgbNative.XGBoosterBoostedRounds(_handle, out var rounds), "XGBoosterBoostedRounds");
        return rounds;
    }

    private static XgbBooster Own(int rc, XgbBoosterHandle handle, string call)
    {
        if (rc == 0) return new XgbBooster(handle);
        handle.Dispose();
        XgbLibrary.Check(rc, call);
        throw new UnreachableException();
    }

    /// <summary>Calls <paramref name="call"/> with the raw pointers of <paramref name="handles"/>, kept alive for the call.</summary>
    private static T WithHandles<T>(SafeHandle[] handles, Func<IntPtr[], T> call)
    {
        var added = 0;
        try
        {
            var ptrs = new IntPtr[handles.Length];
            foreach (var h in handles)
            {
                var ok = false;
                h.DangerousAddRef(ref ok);
                ptrs[added++] = h.DangerousGetHandle();
            }
            return call(ptrs);
        }
        finally
        {
            for (var i = 0; i < added; i++) handles[i].DangerousRelease();
        }
    }
}
