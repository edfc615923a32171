using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Cis490.Coordinator.Artifacts;
using Cis490.Coordinator.Operator;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Manifest;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>Operator requests: manifests, listing, cancel and requeue.</summary>
public sealed partial class JobCoordinator
{
    /// <summary>Whether a mutating request carries the operator token; a refusal is logged with where the request came from.</summary>
    private bool Authorized(string? token, string what)
    {
        if (_token.Matches(token)) return true;
        _log.Warning("Refused {0} from {1}: {2} operator token", what, Sender.Path.Address, string.IsNullOrEmpty(token) ? "no" : "a wrong");
        return false;
    }

    private static string TokenRefusal(string? token) =>
        $"refused: {(string.IsNullOrEmpty(token) ? "this request needs the operator token" : "wrong operator token")} " +
        $"(--token or {Operator.OperatorToken.EnvironmentVariable})";

    private void SubmitManifest(OperatorProtocol.SubmitManifest m)
    {
        if (!Authorized(m.Token, $"manifest {m.FileName}"))
        {
            Sender.Tell(new OperatorProtocol.OperatorError(TokenRefusal(m.Token)));
            return;
        }
        LoadManifest(m.FileName, m.Text, Sender);
    }

    /// <summary><c>manifest reload</c> without a path: read again the file this node was started with (<c>--manifest</c>).</summary>
    private void ReloadManifest(OperatorProtocol.ReloadManifest m)
    {
        if (!Authorized(m.Token, "manifest reload"))
        {
            Sender.Tell(new OperatorProtocol.OperatorError(TokenRefusal(m.Token)));
            return;
        }
        if (ReadStartupManifest() is not { } text)
        {
            Sender.Tell(new OperatorProtocol.OperatorError(_settings.ManifestPath is null
                ? "this coordinator was started without --manifest, so there is no file to reload; give one: manifest reload PATH"
                : $"cannot read {_settings.ManifestPath} on the coordinator node (see its log); fix it, or give a file: manifest reload PATH"));
            return;
        }
        LoadManifest(_settings.ManifestPath!, text, Sender);
    }

    /// <summary>At start-up, once recovered: load the <c>--manifest</c> file, if any (idempotent: known jobs keep their status).</summary>
    private void LoadStartupManifest()
    {
        if (ReadStartupManifest() is { } text) LoadManifest(_settings.ManifestPath!, text, ActorRefs.Nobody);
    }

    private string? ReadStartupManifest()
    {
        if (_settings.ManifestPath is not { } path) return null;
        try
        {
            return File.ReadAllText(path); // a manifest is a few KB: reading it here does not hold the mailbox up
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("Cannot read the manifest {0}: {1}", path, e.Message);
            return null;
        }
    }

    /// <summary>Validates a whole manifest, persists its new jobs, then answers <paramref name="replyTo"/>.</summary>
    private void LoadManifest(string fileName, string text, IActorRef replyTo)
    {
        var result = ManifestLoader.Parse(fileName, text);
        if (!result.IsValid)
        {
            _log.Warning("Rejected manifest {0}: {1} error(s), first: {2}", fileName, result.Errors.Count, result.Errors[0]);
            replyTo.Tell(new OperatorProtocol.ManifestRejected(fileName, result.Errors));
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var added = _table.AddJobs(result.Jobs, fileName, now);
        var known = result.Jobs.Select(j => j.JobId).Except(added.Select(a => a.JobId)).ToList();
        var reply = new OperatorProtocol.ManifestAccepted(fileName, added.Select(a => a.JobId).ToList(), known);
        // A manifest that declares [[hosts]] replaces the fleet's declaration; one without (extra jobs, say) leaves it alone.
        var events = new List<ICoordinatorEvent>();
        if (result.HostPolicies.Count > 0 && _table.HostsDiffer(result.HostPolicies))
            events.Add(new HostsDeclared(result.HostPolicies, fileName, now));
        events.AddRange(added);
        if (events.Count == 0)
        {
            replyTo.Tell(reply);
            return;
        }
        CommitAll(events, _ => { });
        DeferAsync(reply, r =>
        {
            _log.Info("Manifest {0}: {1} new job(s), {2} already known{3}", fileName, added.Count, known.Count,
                events.Count > added.Count ? $"; {result.HostPolicies.Count} host declaration(s)" : "");
            replyTo.Tell(r);
            Self.Tell(Dispatch.Instance);
        });
    }

    private void ListJobs(OperatorProtocol.ListJobs m)
    {
        var rows = _table.Jobs.Values
            .Where(j => m.Status is null || j.Status == m.Status)
            .Where(j => m.Model is null || j.Spec.Model == m.Model)
            .OrderBy(j => j.Seq)
            .Select(j => OperatorViews.JobView(j, _progress.GetValueOrDefault(j.JobId), Unschedulable(j)))
            .ToList();
        Sender.Tell(new OperatorProtocol.JobList(rows, DateTimeOffset.UtcNow));
    }

    /// <summary>Cancel or requeue: resolve the id, decide, persist, then stop a live trainer and answer.</summary>
    private void Operate(string idOrPrefix, string? token, string what, Func<string, Decision> decide)
    {
        var sender = Sender;
        if (!Authorized(token, $"{what} {idOrPrefix}"))
        {
            sender.Tell(new OperatorProtocol.OperatorResult(false, idOrPrefix, "", TokenRefusal(token)));
            return;
        }
        var id = _table.Resolve(idOrPrefix, out var problem);
        var decision = id is null ? Decision.Refuse(problem!) : decide(id);
        if (decision.Refusal is not null)
        {
            sender.Tell(new OperatorProtocol.OperatorResult(false, id ?? idOrPrefix, id is null ? "" : _table.Jobs[id].Status, decision.Refusal));
            return;
        }
        var worker = _table.Jobs[id!].WorkerId;
        var status = _table.Apply(decision.Event!).Jobs[id!].Status;
        Commit(decision.Event!, e =>
        {
            Forget(e.JobId);
            var message = e switch
            {
                JobCancelled { LeaseId: > 0 } c when worker is not null && _workers.TryGetValue(worker, out var w) =>
                    Revoke(w, c) ,
                JobCancelled => "cancelled",
                _ => "requeued: pending",
            };
            _log.Info("Job {0}: {1}", e.JobId, message);
            sender.Tell(new OperatorProtocol.OperatorResult(true, e.JobId, status, message));
            Self.Tell(Dispatch.Instance);
        });
    }

    private static string Revoke(WorkerEntry worker, JobCancelled c)
    {
        worker.Ref.Tell(new WorkerProtocol.RevokeLease(c.JobId, c.LeaseId, $"cancelled: {c.Reason}"));
        return $"cancelled; worker {worker.WorkerId} was told to stop lease {c.LeaseId}";
    }
}
