using Cis490.Tests.Shared;

namespace Cis490.Training.Neural.Tests;

/// <summary>The neural families know no actors either: nothing they can reach at run time is Akka's.</summary>
public sealed class ActorFreeTests
{
    [Fact]
    public void Training_neural_reaches_no_Akka_assembly_through_any_reference()
    {
        var closure = AssemblyClosure.Of(typeof(NeuralFamily).Assembly);

        // The walk goes through Training to Core.
        Assert.Contains(closure, a => a.Name == "Cis490.Training");
        Assert.Contains(closure, a => a.Name == "Cis490.Core");
        Assert.Empty(closure.Where(AssemblyClosure.IsActorAssembly).Select(a => a.FullName));
    }
}
