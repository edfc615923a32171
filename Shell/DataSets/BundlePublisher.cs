using Akka.Actor;
using Akka.Streams;
using Cis490.Protocols.DataSets;
using Cis490.Shared.Artifacts;

namespace Cis490.Shell.DataSets;

/// <summary>The operator's end of a publication (<c>data publish</c>): streams the bundle into the sink the coordinator opens, and
/// completes <c>done</c> with the coordinator's verdict (published, or why not). Public so that <c>bench scale-data</c> times this
/// very actor against the real data-set store.</summary>
public sealed class BundlePublisher : ReceiveActor
{
    public BundlePublisher(TaskCompletionSource<object> done, string bundle, IMaterializer materializer)
    {
        Receive<DataSetProtocol.PublishReady>(m => BundleStreams.FromFile(bundle, Context.System.Settings.Config).RunWith(m.Sink.Sink, materializer));
        ReceiveAny(m =>
        {
            done.TrySetResult(m);
            Context.Stop(Self);
        });
    }

    public static Props Props(TaskCompletionSource<object> done, string bundle, IMaterializer materializer) =>
        Akka.Actor.Props.Create(() => new BundlePublisher(done, bundle, materializer));
}
