using Cis490.Shared.Hosting;
using Xunit;
using static Cis490.Shared.Hosting.FleetDowning;

namespace Cis490.Shared.Tests;

/// <summary>The fleet's downing rule as a plain function: who survives which failure.</summary>
public sealed class FleetDowningTests
{
    private static Node C(string name, bool unreachable = false) => new(name, true, unreachable);
    private static Node W(string name, bool unreachable = false) => new(name, false, unreachable);

    [Fact]
    public void A_coordinator_downs_lost_workers_however_many_and_never_itself_for_them()
    {
        Assert.Equal(Decision.DownUnreachable, Decide([C("c"), W("w1", true)], "c"));
        Assert.Equal(Decision.DownUnreachable, Decide([C("c"), W("w1", true), W("w2", true), W("w3", true)], "c")); // laptops asleep
        Assert.Equal(Decision.DownUnreachable, Decide([C("c"), W("w1"), W("w2", true), W("w3", true)], "c"));
    }

    [Fact]
    public void A_worker_never_downs_anyone_not_even_itself()
    {
        Assert.Equal(Decision.None, Decide([C("c", true), W("w1"), W("w2")], "w1")); // the coordinator crashed
        Assert.Equal(Decision.None, Decide([C("c"), W("w1"), W("w2", true)], "w1"));
    }

    [Fact]
    public void Of_two_coordinator_nodes_with_a_worker_the_crash_of_either_leaves_the_other_serving()
    {
        // The older crashed: the younger, with the worker as witness, is the bigger side.
        Assert.Equal(Decision.DownUnreachable, Decide([C("a", true), C("b"), W("w")], "b"));
        // The younger crashed: the older keeps going.
        Assert.Equal(Decision.DownUnreachable, Decide([C("a"), C("b", true), W("w")], "a"));
    }

    [Fact]
    public void Both_sides_of_a_cut_decide_the_same_way()
    {
        // {a, w1} | {b, w2}: a tie in coordinators and in all: the side with the oldest coordinator stays.
        Assert.Equal(Decision.DownUnreachable, Decide([C("a"), C("b", true), W("w1"), W("w2", true)], "a"));
        Assert.Equal(Decision.DownSelf, Decide([C("a", true), C("b"), W("w1", true), W("w2")], "b"));
        // {a} | {b, w}: the cut-off older one downs itself, the other side downs it.
        Assert.Equal(Decision.DownSelf, Decide([C("a"), C("b", true), W("w", true)], "a"));
        Assert.Equal(Decision.DownUnreachable, Decide([C("a", true), C("b"), W("w")], "b"));
        // Three coordinator nodes: the majority of them wins whatever the workers.
        Assert.Equal(Decision.DownSelf, Decide([C("a"), C("b", true), C("c", true), W("w1"), W("w2"), W("w3")], "a"));
        Assert.Equal(Decision.DownUnreachable, Decide([C("a", true), C("b"), C("c"), W("w1", true), W("w2", true), W("w3", true)], "b"));
    }

    [Fact]
    public void Nothing_happens_while_everyone_is_reachable()
    {
        Assert.Equal(Decision.None, Decide([C("a"), C("b"), W("w")], "a"));
    }
}
