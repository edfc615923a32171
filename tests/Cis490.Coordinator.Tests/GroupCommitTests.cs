using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Xunit;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Tests;

/// <summary>The coordinator's group commit, without actors: one write in flight, everything decided meanwhile in the next
/// write, effects handed back only with (and after) the write that holds their events, in the order they were decided.</summary>
public sealed class GroupCommitTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    private static IReadOnlyList<ICoordinatorEvent> Events(string job, int n) =>
        Enumerable.Range(0, n).Select(i => (ICoordinatorEvent)new LeaseGranted(job, i + 1, "w", At)).ToList();

    [Fact]
    public void A_command_decided_while_the_journal_is_idle_is_written_at_once_on_its_own()
    {
        var commit = new GroupCommit<string>(1000);
        commit.Add(Events("a", 2), "a");

        var batch = commit.Next();

        Assert.NotNull(batch);
        Assert.Equal(2, batch.Events.Count);
        Assert.Equal(["a"], batch.Held);
        Assert.Equal(1, commit.WritesInFlight);
    }

    [Fact]
    public void Commands_decided_while_a_write_is_in_flight_wait_and_then_go_out_together_in_their_order()
    {
        var commit = new GroupCommit<string>(1000);
        commit.Add(Events("a", 2), "a");
        var first = commit.Next()!;
        commit.Add(Events("b", 2), "b");
        commit.Add([], "query"); // a reply that shows b's decision: it must wait for b's events
        commit.Add(Events("c", 1), "c");

        Assert.Null(commit.Next()); // the journal is busy: nothing else goes, nothing is handed back
        Assert.Equal(3, commit.WaitingCommands);
        Assert.Equal(3, commit.WaitingEvents);

        commit.Written();
        var second = commit.Next();

        Assert.Equal(["a"], first.Held);
        Assert.NotNull(second);
        Assert.Equal(["b", "query", "c"], second.Held);
        Assert.Equal(["b", "b", "c"], second.Events.Select(e => ((IJobEvent)e).JobId));
        Assert.Equal(0, commit.WaitingCommands);
        Assert.Equal(1, commit.WritesInFlight);
    }

    [Fact]
    public void A_command_with_nothing_to_write_waits_behind_a_write_in_flight_and_goes_at_once_when_none_is()
    {
        var commit = new GroupCommit<string>(1000);
        commit.Add([], "idle query");
        var now = commit.Next();
        Assert.NotNull(now);
        Assert.Empty(now.Events);
        Assert.Equal(["idle query"], now.Held);
        Assert.Equal(0, commit.WritesInFlight); // nothing to confirm: performed at once

        commit.Add(Events("a", 1), "a");
        commit.Next();
        commit.Add([], "query after a");
        Assert.Null(commit.Next());

        commit.Written();
        var after = commit.Next();
        Assert.NotNull(after);
        Assert.Empty(after.Events);
        Assert.Equal(["query after a"], after.Held);
    }

    [Fact]
    public void A_write_stops_at_the_event_limit_between_commands_but_never_splits_one_command()
    {
        var commit = new GroupCommit<string>(4);
        commit.Add(Events("big", 10), "big manifest");
        commit.Add(Events("a", 2), "a");
        commit.Add(Events("b", 2), "b");
        commit.Add(Events("c", 1), "c");

        var first = commit.Next()!;
        Assert.Equal(["big manifest"], first.Held);
        Assert.Equal(10, first.Events.Count); // one command's events are one atomic write, however many

        commit.Written();
        var second = commit.Next()!;
        Assert.Equal(["a", "b"], second.Held);
        Assert.Equal(4, second.Events.Count);

        commit.Written();
        var third = commit.Next()!;
        Assert.Equal(["c"], third.Held);
        Assert.Null(commit.Next());
    }

    [Fact]
    public void A_hand_over_takes_everything_that_waits_even_with_a_write_in_flight()
    {
        var commit = new GroupCommit<string>(1000);
        commit.Add(Events("a", 1), "a");
        commit.Next();
        commit.Add(Events("b", 1), "b");
        commit.Add([], "q");

        var all = commit.TakeAll();

        Assert.NotNull(all);
        Assert.Equal(["b", "q"], all.Held);
        Assert.Equal(2, commit.WritesInFlight);
        Assert.Null(commit.TakeAll());
    }

    [Fact]
    public void A_write_confirmed_that_was_never_handed_out_is_a_fault()
    {
        var commit = new GroupCommit<string>(1000);
        Assert.Throws<InvalidOperationException>(commit.Written);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommit<string>(0));
    }
}
