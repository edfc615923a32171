namespace Cis490.Training.Tests.Formats;

/// <summary>The npm package hyparquet, installed once per machine into a cache folder, for reading our Parquet files
/// with code that shares nothing with Parquet.Net.</summary>
internal static class Hyparquet
{
    public const string Package = "hyparquet@1";

    private const string NodeHint = "Install Node.js 18 or newer with npm (Debian 12: apt-get install -y nodejs npm).";

    // Set-up scripts may install it ahead of time: npm install --no-save --prefix "$CIS490_HYPARQUET_DIR" hyparquet@1
    private static readonly string? Preinstalled = Environment.GetEnvironmentVariable("CIS490_HYPARQUET_DIR");

    private static readonly Lazy<string> Folder = new(Install);

    /// <summary>Runs read_parquet.mjs on <paramref name="parquetPath"/> and returns its JSON line.</summary>
    public static string Describe(string parquetPath, TempDir tmp)
    {
        // Node resolves 'hyparquet' from the script's own folder, so the script sits beside a link to the cached modules.
        var scriptDir = Directory.CreateDirectory(tmp.Combine("hyparquet-run")).FullName;
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Formats", "read_parquet.mjs"), Path.Combine(scriptDir, "read_parquet.mjs"));
        Directory.CreateSymbolicLink(Path.Combine(scriptDir, "node_modules"), Path.Combine(Folder.Value, "node_modules"));
        return ExternalTool.Run("node", ["read_parquet.mjs", parquetPath], _ => NodeHint, scriptDir);
    }

    private static string Install()
    {
        var folder = Preinstalled ?? Path.Combine(Path.GetTempPath(), "cis490-hyparquet-1");
        var marker = Path.Combine(folder, "node_modules", "hyparquet", "package.json");
        if (File.Exists(marker)) return folder;
        Assert.True(Preinstalled is null,
            $"CIS490_HYPARQUET_DIR={Preinstalled} has no node_modules/hyparquet; run: npm install --no-save --prefix {Preinstalled} {Package}");

        // Installed into a fresh folder and renamed into place, so a concurrent test run never sees half a package.
        var staging = Directory.CreateTempSubdirectory("cis490-hyparquet-staging-").FullName;
        try
        {
            ExternalTool.Run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", staging, Package],
                stderr => stderr.Length == 0 ? NodeHint : $"npm could not install {Package}: it needs the npm registry, " +
                    $"or install it beforehand with npm install --no-save --prefix DIR {Package} and set CIS490_HYPARQUET_DIR=DIR.",
                timeoutSeconds: 300);
            try
            {
                Directory.Move(staging, folder);
            }
            catch (IOException) when (File.Exists(marker))
            {
                // Another test run installed it first; theirs is as good as ours.
            }
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        Assert.True(File.Exists(marker), $"npm reported success but {marker} is missing");
        return folder;
    }
}
