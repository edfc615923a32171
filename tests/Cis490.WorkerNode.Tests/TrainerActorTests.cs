using System.Security.Cryptography;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.Shared.Artifacts;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.WorkerNode.Tests;

/// <summary>A lease's trainer: heartbeats from its process's output, and its outcome, which is offered to the coordinator's
/// artifact store until the store acknowledges it (or refuses it for good, or the attempts run out).</summary>
public sealed class TrainerActorTests(ITestOutputHelper output) : WorkerNodeTestBase(output)
{
    private static readonly Dictionary<string, double> Metrics = new() { ["val_macro_f1"] = 0.75, ["val_majority_macro_f1"] = 0.5 };

    /// <summary>A finished training, up to the first offer of its bundle.</summary>
    private async Task<(FakeTrainer Trainer, ArtifactProtocol.OfferUpload Offer)> TrainToOffer(Akka.Actor.IActorRef node)
    {
        var trainer = await Grant(node, 1, 11);
        trainer.FinishTraining(Metrics);
        await Coordinator.ExpectMsgAsync<TrainerProtocol.Heartbeat>(TestConfig.Wait); // the last progress, sent on every exit
        var offer = await Coordinator.ExpectMsgAsync<ArtifactProtocol.OfferUpload>(TestConfig.Wait);
        return (trainer, offer);
    }

    [Fact]
    public async Task A_finished_training_is_offered_as_its_bundle_and_the_slot_is_freed_once_the_store_confirms_it()
    {
        var node = await StartNode();
        var (trainer, offer) = await TrainToOffer(node);

        var bundle = Path.Combine(Path.GetDirectoryName(trainer.Request.OutDir)!, ArtifactBundle.FileName);
        Assert.Equal((TestConfig.JobId(1), 11L, "knn", "realistic"), (offer.JobId, offer.LeaseId, offer.Model, offer.Mode));
        Assert.Equal(Metrics, offer.Metrics);
        Assert.Equal(new FileInfo(bundle).Length, offer.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(bundle))), offer.Sha256);

        Coordinator.Reply(new ArtifactProtocol.UploadCompleted(offer.JobId, offer.LeaseId, offer.Sha256, Deduplicated: false));

        Assert.Empty(Held(await NextRegister())); // and no Failed before it
        await Grant(node, 2, 12);
        await Grant(node, 3, 13); // both slots are free again
    }

    [Fact]
    public async Task The_bundle_streams_into_the_sink_the_store_offers_in_chunks_that_fit_a_remote_frame()
    {
        var node = await StartNode();
        var (_, offer) = await TrainToOffer(node);
        var (sinkRef, received) = StreamRefs.SinkRef<byte[]>()
            .ToMaterialized(Sink.Seq<byte[]>(), Keep.Both)
            .Run(Sys.Materializer());

        Coordinator.Reply(new ArtifactProtocol.UploadReady(offer.JobId, offer.LeaseId, await sinkRef.WaitAsync(TestConfig.Wait)));

        var chunks = await received.WaitAsync(TestConfig.Wait);
        Assert.True(chunks.Count > 1, $"{offer.Bytes} bytes came in {chunks.Count} chunk(s)");
        Assert.All(chunks, c => Assert.InRange(c.Length, 1, ArtifactProtocol.MaxChunkBytes));
        var bytes = chunks.SelectMany(c => c).ToArray();
        Assert.Equal((offer.Bytes, offer.Sha256), (bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes))));
    }

    [Fact]
    public async Task An_unanswered_offer_is_made_again_and_the_attempt_fails_when_the_offers_run_out()
    {
        var node = await StartNode();
        var (_, first) = await TrainToOffer(node);

        var second = await Coordinator.ExpectMsgAsync<ArtifactProtocol.OfferUpload>(Settings.UploadAckTimeout + TestConfig.Wait);
        var failed = await Coordinator.ExpectMsgAsync<TrainerProtocol.Failed>(Settings.UploadAckTimeout + TestConfig.Wait);

        Assert.Equal((first.Sha256, first.Bytes), (second.Sha256, second.Bytes)); // the same bundle, offered again
        Assert.Equal((TestConfig.JobId(1), 11L), (failed.JobId, failed.LeaseId));
        Assert.Contains("no answer from the artifact store within 1 s (after 2 upload attempts)", failed.Error);
        Assert.Empty(Held(await NextRegister()));
    }

    [Fact]
    public async Task An_upload_refused_for_a_transfer_problem_is_offered_again_until_the_store_confirms_it()
    {
        var node = await StartNode();
        var (_, offer) = await TrainToOffer(node);

        Coordinator.Reply(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, "hash mismatch", LeaseLost: false));
        var again = await Coordinator.ExpectMsgAsync<ArtifactProtocol.OfferUpload>(TestConfig.Wait);
        Coordinator.Reply(new ArtifactProtocol.UploadCompleted(again.JobId, again.LeaseId, again.Sha256, Deduplicated: true));

        Assert.Equal(offer.Sha256, again.Sha256);
        Assert.Empty(Held(await NextRegister()));
    }

    [Fact]
    public async Task An_upload_the_coordinator_cannot_take_yet_is_offered_again_later_without_spending_an_attempt()
    {
        // A coordinator that just recovered answers "not yet" until this worker registers again; the offer is made again after a
        // heartbeat interval (short here), and such refusals do not use up the upload attempts (2 in these tests).
        var node = await StartNode(Settings with { HeartbeatInterval = TimeSpan.FromMilliseconds(300) });
        var trainer = await Grant(node, 1, 11);
        trainer.FinishTraining(Metrics);
        var offer = await Coordinator.FishForMessageAsync<ArtifactProtocol.OfferUpload>(_ => true, TestConfig.Wait);
        for (var i = 0; i < 3; i++)
        {
            Coordinator.Reply(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, "worker not registered yet", LeaseLost: false,
                Protocols.ErrorKind.Unavailable));
            offer = await Coordinator.FishForMessageAsync<ArtifactProtocol.OfferUpload>(_ => true, TestConfig.Wait);
        }
        Coordinator.Reply(new ArtifactProtocol.UploadCompleted(offer.JobId, offer.LeaseId, offer.Sha256, Deduplicated: false));

        var register = await Coordinator.FishForMessageAsync<WorkerProtocol.Register>(_ => true, TestConfig.Wait);
        Assert.Empty(Held(register)); // completed: no failure was reported on the way
    }

    [Fact]
    public async Task An_upload_refused_because_the_lease_was_lost_stops_the_trainer_without_a_failure_report()
    {
        var node = await StartNode();
        var (_, offer) = await TrainToOffer(node);

        Coordinator.Reply(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, "lease 11 is not the job's lease", LeaseLost: true));

        // The job is another lease's now: reporting a failure would count an attempt against it.
        Assert.Empty(Held(await NextRegister()));
    }

    [Fact]
    public async Task A_lease_the_coordinator_refuses_stops_its_trainer_process_without_a_failure_report()
    {
        var node = await StartNode();
        var trainer = await Grant(node, 1, 11);

        Coordinator.Reply(new TrainerProtocol.Refused(TestConfig.JobId(1), 11, "lease 11 is not the job's current lease"));

        await trainer.Killed.WaitAsync(TestConfig.Wait);
        Assert.Empty(Held(await NextRegister()));
    }

    [Fact]
    public async Task Heartbeats_carry_every_progress_line_the_trainer_printed_since_the_last_one()
    {
        // Heartbeats every 100 ms here (production: 2 s), so the test sees several within its wait.
        var node = await StartNode(Settings with { HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        var trainer = await Grant(node, 1, 11);

        trainer.PrintProgress(1, 10);
        trainer.PrintAlive();
        trainer.PrintProgress(2, 10, "second epoch");

        var lines = new List<TrainingProgress>();
        var last = await Coordinator.FishForMessageAsync<TrainerProtocol.Heartbeat>(h =>
        {
            lines.AddRange(h.Lines ?? []);
            return h.Progress.Epoch == 2;
        }, TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(1), 11L, 10, "second epoch"), (last.JobId, last.LeaseId, last.Progress.TotalEpochs, last.Progress.Message));
        Assert.Equal([1, 2], lines.Select(l => l.Epoch)); // each line once, in order; the alive line is not progress
    }

    [Fact]
    public async Task A_silent_trainer_gets_no_heartbeats_relayed_until_it_prints_again()
    {
        // Heartbeats every 100 ms and a silence limit of 600 ms (production: 2 s and 10 s): silence shows within a second.
        var node = await StartNode(Settings with { HeartbeatInterval = TimeSpan.FromMilliseconds(100), TrainerSilenceLimit = TimeSpan.FromMilliseconds(600) });
        var trainer = await Grant(node, 1, 11);
        trainer.PrintAlive();
        await Coordinator.ExpectMsgAsync<TrainerProtocol.Heartbeat>(TestConfig.Wait);

        // Heartbeats go on while the last line is recent, then stop: 400 ms (four intervals) without one ends the stream.
        var beats = 0;
        await foreach (var _ in Coordinator.ReceiveWhileAsync<TrainerProtocol.Heartbeat>(shouldContinue: _ => true,
                           max: TestConfig.Wait, idle: TimeSpan.FromMilliseconds(400)))
            beats++;
        Assert.InRange(beats, 0, 20); // 600 ms of silence allowance at 100 ms; a trainer that never went quiet would fill the 5 s
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));

        trainer.PrintAlive();
        var resumed = await Coordinator.ExpectMsgAsync<TrainerProtocol.Heartbeat>(TestConfig.Wait);
        Assert.Equal(11L, resumed.LeaseId);
    }
}
