using Cis490.Tests.Shared;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests;

/// <summary>Training knows no actors: nothing it can reach at run time is Akka's (the build checks the references too: Directory.Build.targets).</summary>
public sealed class ActorFreeTests
{
    [Fact]
    public void Training_reaches_no_Akka_assembly_through_any_reference()
    {
        var closure = AssemblyClosure.Of(typeof(TrainerRunner).Assembly);

        // The walk goes through our own projects: Core, and ZstdSharp behind it.
        Assert.Contains(closure, a => a.Name == "Cis490.Core");
        Assert.Contains(closure, a => a.Name == "ZstdSharp");
        Assert.Empty(closure.Where(AssemblyClosure.IsActorAssembly).Select(a => a.FullName));
    }
}
