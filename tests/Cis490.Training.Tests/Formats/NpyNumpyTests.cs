using System.Text.Json;
using Cis490.Training.Formats;

namespace Cis490.Training.Tests.Formats;

/// <summary>Our .npy and .npz files opened by NumPy itself, the reader every Python training script uses.</summary>
public class NpyNumpyTests
{
    // Debian's interpreter, by full path: another python3 earlier on PATH (pyenv, a venv) may lack NumPy.
    private const string Python = "/usr/bin/python3";
    private const string Hint = "NumPy for /usr/bin/python3 is needed: apt-get install -y python3-numpy";

    // Prints {name: {shape, dtype, values}} for every array in the .npy or .npz; values flattened in C order, NaN as "NaN"
    // (strict JSON has no NaN).
    private const string Script = """
        import json, sys
        import numpy as np
        loaded = np.load(sys.argv[1])
        arrays = {k: loaded[k] for k in loaded.files} if hasattr(loaded, "files") else {"npy": loaded}
        values = lambda a: ["NaN" if v != v else v for v in a.ravel().tolist()]
        print(json.dumps({k: {"shape": list(a.shape), "dtype": a.dtype.str, "values": values(a)} for k, a in arrays.items()}))
        """;

    private static JsonElement NumpyLoad(string path)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing. {Hint} (and python3)");
        var stdout = ExternalTool.Run(Python, ["-c", Script, path],
            stderr => stderr.Contains("No module named 'numpy'") ? Hint : "NumPy could not load the file.");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    [Fact]
    public void NumPy_loads_our_npy_with_its_shape_dtype_and_values()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("x.npy");
        var rows = Enumerable.Range(0, 3).Select(r => new[] { r, -0.5f, 1e-30f, float.MaxValue, r * 1000.125f, -7f }).ToArray();
        using (var writer = new NpyArrayWriter(path, NpyDType.Float32, 3, 2))
            foreach (var row in rows) writer.Append(row);

        var array = NumpyLoad(path).GetProperty("npy");

        Assert.Equal([3, 3, 2], array.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal("<f4", array.GetProperty("dtype").GetString());
        Assert.Equal(rows.SelectMany(r => r), array.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()));
    }

    [Fact]
    public void NumPy_loads_every_array_of_our_npz_by_name_including_an_empty_one()
    {
        using var tmp = new TempDir();
        NpyTests.WriteSamples(tmp, rows: 4);
        new NpyArrayWriter(tmp.Combine("empty.npy"), NpyDType.Float32, 2, 3).Dispose();
        var npz = tmp.Combine("shard.npz");
        Npz.Pack(npz, [("x", tmp.Combine("x.npy")), ("mask", tmp.Combine("mask.npy")), ("y", tmp.Combine("y.npy")), ("empty", tmp.Combine("empty.npy"))]);

        var arrays = NumpyLoad(npz);

        Assert.Equal(["x", "mask", "y", "empty"], arrays.EnumerateObject().Select(p => p.Name));
        (string Name, int[] Shape, string DType)[] expected =
            [("x", [4, 2, 3], "<f4"), ("mask", [4, 2, 3], "|u1"), ("y", [4], "<i8"), ("empty", [0, 2, 3], "<f4")];
        foreach (var (name, shape, dtype) in expected)
        {
            var array = arrays.GetProperty(name);
            Assert.Equal(shape, array.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
            Assert.Equal(dtype, array.GetProperty("dtype").GetString());
        }
        var xs = NpyReader.ToSingles(NpyReader.Read(tmp.Combine("x.npy")));
        Assert.Equal(xs.Select(v => float.IsNaN(v) ? "NaN" : v.ToString("R")),
            arrays.GetProperty("x").GetProperty("values").EnumerateArray()
                .Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : ((float)v.GetDouble()).ToString("R")));
        var mine = NpyReader.ToBytes(NpyReader.Read(tmp.Combine("mask.npy")));
        Assert.Equal(mine, arrays.GetProperty("mask").GetProperty("values").EnumerateArray().Select(v => (byte)v.GetInt32()));
        var ys = NpyReader.ToInt64s(NpyReader.Read(tmp.Combine("y.npy")));
        Assert.Equal(ys, arrays.GetProperty("y").GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Empty(arrays.GetProperty("empty").GetProperty("values").EnumerateArray());
    }
}
