using Cis490.Protocols.Operator;

namespace Cis490.Protocols.Diagnostics;

/// <summary>The Petabridge.Cmd-style palettes (<c>cluster tail</c>, <c>log peek/tail</c>, <c>actor hierarchy</c>): the shell asks the
/// operator endpoint, which asks the named member's <c>/user/diagnostics</c> actor (its own node's for <see cref="TailCluster"/>).</summary>
public static class DiagnosticsProtocol
{
    /// <summary>The log levels, lowest first: a filter keeps its level and those after it.</summary>
    public static readonly IReadOnlyList<string> Levels = ["debug", "info", "warning", "error"];

    /// <summary>A member's log lines after <paramref name="After"/> (a sequence number; negative: the last <paramref name="Max"/>
    /// lines), at <paramref name="MinLevel"/> or above, at most <paramref name="Max"/>.</summary>
    /// <param name="Node">The member, as <c>cluster show</c> lists it (<c>akka.tcp://cis490@HOST:PORT</c> or <c>HOST:PORT</c>).</param>
    public sealed record PeekLog(string Node, long After, string MinLevel, int Max) : IOperatorRead;

    /// <summary>Reply to <see cref="PeekLog"/>: the lines, oldest first, and the sequence number to ask after next.</summary>
    /// <param name="Dropped">Lines after <c>After</c> that the member's ring no longer holds (it keeps the latest only).</param>
    public sealed record LogLines(string Node, IReadOnlyList<NodeLogLine> Lines, long Next, long Dropped) : ICis490Message;

    /// <summary>One line of a member's log.</summary>
    public sealed record NodeLogLine(long Seq, DateTimeOffset At, string Level, string Source, string Message) : ICis490Message;

    /// <summary>The actor tree of a member (<c>/user</c> and <c>/system</c>).</summary>
    public sealed record GetHierarchy(string Node) : IOperatorRead;

    /// <summary>Reply to <see cref="GetHierarchy"/>: every actor, depth-first, parents before children.</summary>
    /// <param name="Truncated">The tree had more actors than one reply carries (cis490.diagnostics.hierarchy-max-actors).</param>
    public sealed record ActorTree(string Node, IReadOnlyList<ActorEntry> Actors, bool Truncated) : ICis490Message;

    /// <summary>One actor: its path below the root (<c>/user/worker</c>), its depth (1 for /user and /system) and its class.</summary>
    public sealed record ActorEntry(string Path, int Depth, string Type) : ICis490Message;

    /// <summary>The membership and reachability events the answering coordinator node has seen after <paramref name="After"/>
    /// (negative: the last <paramref name="Max"/>).</summary>
    public sealed record TailCluster(long After, int Max) : IOperatorRead;

    /// <summary>Reply to <see cref="TailCluster"/>.</summary>
    /// <param name="Node">The node that saw them (the one the shell's request reached).</param>
    public sealed record ClusterEvents(string Node, IReadOnlyList<ClusterEventView> Events, long Next) : ICis490Message;

    /// <summary>One membership or reachability event: <c>member-up</c>, <c>member-left</c>, <c>member-exited</c>,
    /// <c>member-removed</c>, <c>member-joined</c>, <c>member-weakly-up</c>, <c>member-downed</c>, <c>unreachable</c>, <c>reachable</c>.</summary>
    public sealed record ClusterEventView(long Seq, DateTimeOffset At, string Event, string Address, string Status, IReadOnlyList<string> Roles) : ICis490Message;
}
