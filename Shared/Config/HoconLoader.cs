using Akka.Configuration;

namespace Cis490.Shared.Config;

/// <summary>Loads the HOCON files under hocon/ (copied beside every node's binaries) with overrides on top.</summary>
public static class HoconLoader
{
    /// <summary>The folder holding base.conf and friends: $CIS490_HOCON_DIR, else hocon/ beside the binaries.</summary>
    public static string HoconDirectory =>
        Environment.GetEnvironmentVariable("CIS490_HOCON_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(AppContext.BaseDirectory, "hocon");

    /// <summary>Builds a config: <paramref name="overrides"/> (highest precedence, e.g. from the command line) over the named files, left to right, over base.conf.</summary>
    public static Akka.Configuration.Config Load(IEnumerable<string> files, string overrides = "")
    {
        var config = ConfigurationFactory.ParseString(overrides);
        foreach (var file in files)
            config = config.WithFallback(ParseFile(file));
        return config.WithFallback(ParseFile("base.conf"));
    }

    private static Akka.Configuration.Config ParseFile(string name)
    {
        var path = Path.Combine(HoconDirectory, name);
        if (!File.Exists(path))
            throw new FileNotFoundException($"HOCON file {path} is missing; set CIS490_HOCON_DIR to the repository's hocon/ folder or rebuild.", path);
        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Quotes a string for a HOCON override line.</summary>
    public static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
