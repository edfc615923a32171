using System.Runtime.InteropServices;

namespace Cis490.Training.Models.Xgb;

/// <summary>The few entry points of XGBoost's C API (c_api.h, 1.7) that gbt uses; every int return is 0 on success.</summary>
/// <remarks>Thin on purpose: no logic here. <see cref="XgbBooster"/> and <see cref="XgbMatrix"/> own the handles and turn
/// non-zero returns into <see cref="XgbException"/>; <see cref="XgbLibrary"/> checks that the library loads before the first call.
/// Buffers XGBoost returns (strings, predictions, shapes) belong to it and are valid until the next call on that handle: copy at once.</remarks>
internal static partial class XgbNative
{
    /// <summary>Debian's libxgboost0 (the file is libxgboost.so.1.6.0 even in 1.7.4; the soname is what we bind).</summary>
    public const string Library = "libxgboost.so.0";

    /// <summary>Every export this binding calls: <see cref="XgbLibrary"/> checks them all up front.</summary>
    public static readonly IReadOnlyList<string> Exports =
    [
        nameof(XGBoostVersion), nameof(XGBGetLastError), nameof(XGDMatrixCreateFromMat), nameof(XGDMatrixSetFloatInfo),
        nameof(XGDMatrixFree), nameof(XGBoosterCreate), nameof(XGBoosterFree), nameof(XGBoosterSetParam),
        nameof(XGBoosterUpdateOneIter), nameof(XGBoosterEvalOneIter), nameof(XGBoosterPredictFromDMatrix),
        nameof(XGBoosterSlice), nameof(XGBoosterBoostedRounds), nameof(XGBoosterGetNumFeature), nameof(XGBoosterSaveModel),
        nameof(XGBoosterLoadModel), nameof(XGBoosterSetAttr), nameof(XGBoosterGetAttr), nameof(XGBoosterFeatureScore),
    ];

    [LibraryImport(Library)]
    public static partial void XGBoostVersion(out int major, out int minor, out int patch);

    /// <summary>The last error of this thread (XGBoost keeps it thread-local), as a C string.</summary>
    [LibraryImport(Library)]
    public static partial IntPtr XGBGetLastError();

    [LibraryImport(Library)]
    public static partial int XGDMatrixCreateFromMat(ReadOnlySpan<float> data, ulong rows, ulong cols, float missing, out XgbMatrixHandle handle);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGDMatrixSetFloatInfo(XgbMatrixHandle handle, string field, ReadOnlySpan<float> values, ulong length);

    [LibraryImport(Library)]
    public static partial int XGDMatrixFree(IntPtr handle);

    /// <param name="cache">DMatrix handles whose predictions the booster caches between rounds (may be empty).</param>
    [LibraryImport(Library)]
    public static partial int XGBoosterCreate(IntPtr[]? cache, ulong length, out XgbBoosterHandle handle);

    [LibraryImport(Library)]
    public static partial int XGBoosterFree(IntPtr handle);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterSetParam(XgbBoosterHandle handle, string name, string value);

    [LibraryImport(Library)]
    public static partial int XGBoosterUpdateOneIter(XgbBoosterHandle handle, int iteration, XgbMatrixHandle train);

    /// <param name="names">C strings, one per matrix.</param>
    /// <param name="result">"[iter]\tname-metric:value…", owned by the booster.</param>
    [LibraryImport(Library)]
    public static partial int XGBoosterEvalOneIter(XgbBoosterHandle handle, int iteration, IntPtr[] matrices, IntPtr[] names, ulong length, out IntPtr result);

    /// <param name="config">JSON: type, training, iteration_begin, iteration_end (0 = all), strict_shape.</param>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterPredictFromDMatrix(XgbBoosterHandle handle, XgbMatrixHandle matrix, string config,
        out IntPtr shape, out ulong dims, out IntPtr result);

    /// <summary>Trees of rounds [begin, end) as a new booster. Returns -2 (without setting the last error) when out of range.</summary>
    [LibraryImport(Library)]
    public static partial int XGBoosterSlice(XgbBoosterHandle handle, int begin, int end, int step, out XgbBoosterHandle sliced);

    [LibraryImport(Library)]
    public static partial int XGBoosterBoostedRounds(XgbBoosterHandle handle, out int rounds);

    [LibraryImport(Library)]
    public static partial int XGBoosterGetNumFeature(XgbBoosterHandle handle, out ulong features);

    /// <summary>The format follows the file name: ".json" gives XGBoost's JSON model, anything else its binary one.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterSaveModel(XgbBoosterHandle handle, string path);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterLoadModel(XgbBoosterHandle handle, string path);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterSetAttr(XgbBoosterHandle handle, string key, string value);

    /// <param name="success">1 when the attribute exists (then <paramref name="value"/> is a C string owned by the booster).</param>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterGetAttr(XgbBoosterHandle handle, string key, out IntPtr value, out int success);

    /// <summary>Feature importance (<c>{"importance_type": ..., "feature_map": ""}</c>): the names of the features that were used
    /// (<c>f0</c>, <c>f1</c>, … without names), and a scores array of the given shape (features, or features × groups).</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterFeatureScore(XgbBoosterHandle handle, string config, out ulong features, out IntPtr names,
        out ulong dims, out IntPtr shape, out IntPtr scores);
}

/// <summary>A DMatrixHandle, freed with XGDMatrixFree.</summary>
internal sealed class XgbMatrixHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => XgbNative.XGDMatrixFree(handle) == 0;
}

/// <summary>A BoosterHandle, freed with XGBoosterFree.</summary>
internal sealed class XgbBoosterHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => XgbNative.XGBoosterFree(handle) == 0;
}
