using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cis490.Shared.DataSets;

/// <summary>A built feature set (Parquet + schema + tensors + summary) named by its content: sha256 over the sorted relative paths,
/// sizes and sha256 of its files. Modification times, owners and the order the file system lists them in play no part, so the same
/// bytes built on two machines give the same hash, and a byte changed anywhere gives another.</summary>
/// <remarks>Left out of the hash: <see cref="MarkerFile"/> (which records the hash itself) and anything whose name starts with a dot
/// (temporary files, editor droppings), at any depth. The coordinator and the workers compute it the same way, so a bundle's
/// unpacked folder can be checked against the hash it was asked for.</remarks>
public static class DataSetContent
{
    /// <summary>The file in a data-set folder that records its hash (and name): written by <c>data publish</c> and by a worker's
    /// cache, never part of the hash.</summary>
    public const string MarkerFile = "data_set.json";

    /// <summary>The format of <see cref="Listing"/>; part of every hash, so a change of the scheme can never collide with the old one.</summary>
    public const string Scheme = "cis490.data-set/v1";

    /// <summary>The files that make up the data set: relative paths with '/' separators, ordinally sorted.</summary>
    public static IReadOnlyList<string> Files(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"data set folder {dir} does not exist");
        return Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Where(Included)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Whether a relative path (with '/' separators) is part of the data set.</summary>
    public static bool Included(string relativePath) =>
        relativePath != MarkerFile && !relativePath.Split('/').Any(part => part.StartsWith('.'));

    /// <summary>The text that is hashed: the scheme, then one line per file, <c>path \t size \t sha256</c>.</summary>
    public static string Listing(string dir)
    {
        var sb = new StringBuilder(Scheme).Append('\n');
        foreach (var rel in Files(dir))
        {
            var path = Path.Combine(dir, rel);
            using var stream = File.OpenRead(path);
            var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
            sb.Append(rel).Append('\t').Append(stream.Length).Append('\t').Append(sha).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The content hash of the data set in <paramref name="dir"/>, with how many files and bytes it holds.</summary>
    public static DataSetSummary Describe(string dir)
    {
        var files = Files(dir);
        if (files.Count == 0) throw new InvalidDataException($"{dir} holds no files: it is not a data set (build one with './cis490 data build')");
        var listing = Listing(dir);
        var bytes = files.Sum(f => new FileInfo(Path.Combine(dir, f)).Length);
        return new DataSetSummary(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing))), files.Count, bytes);
    }

    /// <summary>The content hash alone.</summary>
    public static string Hash(string dir) => Describe(dir).Sha256;

    /// <summary>Whether <paramref name="s"/> has the form of a content hash (64 lowercase hex digits): only such a value names a folder.</summary>
    public static bool IsHash(string? s) => s is { Length: 64 } && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static readonly JsonSerializerOptions MarkerJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Records the data set's hash in its folder (<see cref="MarkerFile"/>), so a person or a tool sees which data set a
    /// folder holds without hashing it again.</summary>
    public static void WriteMarker(string dir, DataSetMarker marker) =>
        File.WriteAllText(Path.Combine(dir, MarkerFile), JsonSerializer.Serialize(marker, MarkerJson) + "\n");

    /// <summary>The folder's marker, or null when it has none or it cannot be read.</summary>
    public static DataSetMarker? ReadMarker(string dir)
    {
        var path = Path.Combine(dir, MarkerFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<DataSetMarker>(File.ReadAllText(path), MarkerJson);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A data set's content hash, file count and total bytes.</summary>
public sealed record DataSetSummary(string Sha256, int Files, long Bytes);

/// <summary><c>data_set.json</c>: the hash of the folder's data set, its name (when one was given), and how big it is.</summary>
public sealed record DataSetMarker(string Scheme, string Sha256, string? Name, int Files, long Bytes);
