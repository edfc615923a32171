using Akka.Actor;
using Akka.Streams;
using Cis490.Coordinator.Persistence;
using Cis490.Shared.Config;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The recovery warm-up (issue 17) runs the recovery path through the node's real serializer on a made-up table, and a
/// serializer that cannot read the snapshot back makes it fail loudly rather than pass (its caller logs that).</summary>
public sealed class RecoveryWarmupTests
{
    [Fact]
    public async Task The_warm_up_round_trips_a_table_and_events_of_every_kind_through_the_coordinators_serializer()
    {
        using var system = ActorSystem.Create("recovery-warmup-test",
            HoconLoader.Load(["coordinator.conf"], "akka.actor.provider = local\nakka.loglevel = WARNING").WithFallback(ActorMaterializer.DefaultConfig()));
        try
        {
            var took = RecoveryWarmup.Run(system);

            Assert.InRange(took, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        }
        finally { await system.Terminate(); }
    }

    [Fact]
    public async Task The_warm_up_fails_where_the_snapshot_does_not_survive_its_serializer()
    {
        // Snapshots bound to Akka's byte-array serializer: it cannot write a snapshot at all, so the warm-up must throw.
        using var system = ActorSystem.Create("recovery-warmup-broken", HoconLoader.Load(["coordinator.conf"], """
            akka.actor.provider = local
            akka.loglevel = WARNING
            akka.actor.serialization-bindings { "Cis490.Protocols.Jobs.JobTableSnapshot, Cis490.Protocols" = bytes }
            """).WithFallback(ActorMaterializer.DefaultConfig()));
        try
        {
            Assert.ThrowsAny<Exception>(() => RecoveryWarmup.Run(system));
        }
        finally { await system.Terminate(); }
    }
}
