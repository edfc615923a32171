using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Xunit;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Tests;

/// <summary>Placement by model family, as plain functions over <see cref="CoordinatorState.Decide"/>: a worker advertises the
/// families its self-test trained, is never offered a job of another family, and a job no connected worker can train says which
/// family is missing and why.</summary>
public sealed class FamilyPlacementTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-05T10:00:00Z");
    private static readonly CoordinatorPolicy Policy = new(TimeSpan.FromSeconds(30), new RetryPolicy(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)), TimeSpan.FromMinutes(2));
    private const string NoXgboost = "XGBoost's C library could not be loaded from /nonexistent/libxgboost.so.0 (CIS490_XGBOOST_LIBRARY): cannot open shared object file";
    private const string FakeGpu = "GPU present (Fake GPU, 24 GiB), not usable by this build: torch.cuda.is_available() is false: this build ships the CPU-only libtorch";

    /// <summary>A self-tested worker without libxgboost, on a machine whose GPU its CPU libtorch cannot use.</summary>
    private static readonly WorkerCapability Pi = new("pi", 4, 8, false, 0, null, "2.10.0", "abc", "Linux",
        ["cnn", "gru", "knn", "knn_semi", "lstm", "mlp", "transformer"], new Dictionary<string, string> { ["gbt"] = NoXgboost }, null, FakeGpu);

    /// <summary>An earlier-fleet or older worker: it did not say which families it runs, so it is assumed to run them all.</summary>
    private static readonly WorkerCapability Unsaid = new("old-box", 4, 8, false, 0, null, "none", "abc", "Linux");

    private static string Job(string model, string extra = "") => $"[[jobs]]\nmodel = \"{model}\"\nmode = \"oracle\"\n{extra}\n";

    private static CoordinatorState With(string manifest) =>
        CoordinatorState.Initial(Policy).Decide(new OperatorProtocol.SubmitManifest("fleet.toml", manifest), T0).State;

    private static Outcome Register(CoordinatorState s, string id, WorkerCapability cap, int slots) =>
        s.Decide(new Register(new WorkerProtocol.Register(id, cap, slots, []), $"akka.tcp://cis490@{id}:1/user/worker#1", $"akka.tcp://cis490@{id}:1"), T0);

    private static JobState JobOf(CoordinatorState s, string model) => s.Table.Jobs.Values.Single(j => j.Spec.Model == model);

    [Fact]
    public void A_worker_without_libxgboost_is_never_leased_a_gbt_job_and_the_job_says_which_family_is_missing_and_why()
    {
        var s = With(Job("gbt", "priority = 9") + Job("knn"));

        var o = Register(s, "pi-1", Pi, slots: 4);
        // Later decisions (ticks, a completion freeing the slot) never lease it either.
        var later = o.State.Decide(Tick.Instance, T0.AddMinutes(5));

        Assert.Equal(["knn"], o.Effects.OfType<Effect.Send>().Select(e => e.Message).OfType<WorkerProtocol.Lease>().Select(l => l.Job.Model));
        Assert.DoesNotContain(later.Events.OfType<LeaseGranted>(), g => g.JobId == JobOf(o.State, "gbt").JobId);
        Assert.Equal(JobStatus.Pending, JobOf(later.State, "gbt").Status);
        Assert.Equal($"no connected worker can train gbt (the family is missing on every worker); pi-1: cannot train gbt: {NoXgboost}",
            later.State.Unschedulable(JobOf(later.State, "gbt")));
        Assert.Equal(1, later.State.Status(T0).Unschedulable);
    }

    [Fact]
    public void A_require_cuda_job_on_a_gpu_the_build_cannot_use_stays_unschedulable_with_that_reason()
    {
        var o = Register(With(Job("gru", "require_cuda = true")), "pi-1", Pi, slots: 1);

        Assert.Empty(o.Events.OfType<LeaseGranted>());
        Assert.Equal($"no connected worker can run it: pi-1: needs CUDA (require_cuda); pi has none ({FakeGpu})", o.State.Unschedulable(JobOf(o.State, "gru")));
    }

    [Fact]
    public void A_worker_that_did_not_say_its_families_is_offered_every_family_and_takes_the_job_the_other_lacks()
    {
        var s = Register(With(Job("gbt")), "pi-1", Pi, slots: 1).State;

        var o = Register(s, "old-1", Unsaid, slots: 1);

        var lease = Assert.Single(o.Effects.OfType<Effect.Send>().Select(e => e.Message).OfType<WorkerProtocol.Lease>());
        Assert.Equal("gbt", lease.Job.Model);
        Assert.Equal("old-1", o.State.Table.Jobs[lease.Job.JobId].WorkerId);
        Assert.Null(o.State.Unschedulable(JobOf(o.State, "gbt")));
    }

    [Fact]
    public void The_workers_view_carries_the_families_and_the_reasons_to_operators()
    {
        var o = Register(With(Job("knn")), "pi-1", Pi, slots: 1);

        var view = Assert.IsType<OperatorQueries.WorkerList>(o.State.Decide(OperatorQueries.ListWorkers.Instance, T0).Replies.Single()).Workers.Single();

        Assert.Equal(Pi.Families, view.Capability.Families);
        Assert.Equal(NoXgboost, view.Capability.WhyNot("gbt"));
        Assert.Equal(FakeGpu, view.Capability.CudaNote);
    }
}
