using System.Reflection;

namespace Cis490.Tests.Shared;

/// <summary>Every assembly an assembly can reach at run time: its references, followed through each one that is not the runtime's own.</summary>
internal static class AssemblyClosure
{
    /// <summary>The names reachable from <paramref name="root"/>; a reference that cannot be loaded is listed but not followed.</summary>
    public static IReadOnlyList<AssemblyName> Of(Assembly root)
    {
        var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var seen = new Dictionary<string, AssemblyName>(StringComparer.OrdinalIgnoreCase);
        var queue = new Queue<Assembly>([root]);
        while (queue.TryDequeue(out var assembly))
            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (!seen.TryAdd(name.Name!, name)) continue;
                Assembly loaded;
                try { loaded = Assembly.Load(name); }
                catch (FileNotFoundException) { continue; } // an optional dependency not shipped: its name is what we check
                if (!loaded.Location.StartsWith(runtimeDir, StringComparison.Ordinal)) queue.Enqueue(loaded);
            }
        return [.. seen.Values];
    }

    /// <summary>An Akka assembly, or one of our rooms that carries Akka (Shared, Protocols).</summary>
    public static bool IsActorAssembly(AssemblyName name) =>
        name.Name is "Akka" or "Cis490.Shared" or "Cis490.Protocols"
        || name.Name!.StartsWith("Akka.", StringComparison.Ordinal);
}
