using System.Diagnostics;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Operator;
using Cis490.Shared.Artifacts;
using Cis490.Shared.Cli;
using Cis490.Shared.DataSets;
using Cis490.Shared.Manifest;
using Cis490.Shell.Client;
using Cis490.Shell.Render;

namespace Cis490.Shell.DataSets;

/// <summary><c>data publish DIR --coordinator HOST:PORT [--name NAME]</c>: names a built feature folder by its content hash, records
/// the hash in the folder (<c>data_set.json</c>), packs it (tar + zstd, as artifacts are) and uploads it to the coordinator over a
/// sink ref, through the same ClusterClient door (operator token, TLS) as every other operator command, so publishing needs no
/// HTTP port and no second transport. <c>data list --coordinator HOST:PORT</c>: the published data sets.</summary>
public static class DataCommands
{
    public const string Usage = """
          data publish DIR --coordinator HOST:PORT [--name NAME] [--tls DIR]
                                                                 publish a built feature folder by its content hash (needs the operator token)
          data list --coordinator HOST:PORT [--tls DIR]          the published data sets (the last is bound to jobs that name none)
        """;

    public static async Task<int> Run(string[] argv, string? token, TextWriter output)
    {
        if (argv.Length == 0) throw new CliException("data: publish or list?");
        var args = new CliArgs(argv[1..]);
        var coordinator = args.Require("coordinator");
        var tls = args.Get("tls");
        switch (argv[0])
        {
            case "publish":
                var name = args.Get("name");
                args.RejectUnknown();
                if (args.Positionals.Count != 1) throw new CliException("data publish: give one folder (a built feature set: './cis490 data build --out DIR')");
                if (name is not null && !ManifestLoader.IsDataSetName(name))
                    throw new CliException($"--name '{name}': a data-set name is 1–{ManifestLoader.MaxDataSetName} letters, digits, '.', '_' or '-', starting with a letter or digit");
                return await Publish(Path.GetFullPath(args.Positionals[0]), name, coordinator, tls, token, output);
            case "list":
                args.RejectUnknown();
                await using (var client = CoordinatorClient.Connect(coordinator, tls))
                {
                    var reply = await client.Ask(DataSetProtocol.ListDataSets.Instance);
                    if (reply is not DataSetProtocol.DataSetList list) return Failed(reply);
                    output.Write(Views.DataSets(list));
                    return 0;
                }
            default:
                throw new CliException($"data {argv[0]}: unknown (the operator program knows 'data publish' and 'data list'; 'data generate' and 'data build' are the worker program's)");
        }
    }

    private static async Task<int> Publish(string dir, string? name, string coordinator, string? tls, string? token, TextWriter output)
    {
        if (!File.Exists(Path.Combine(dir, "features_window_v1.parquet")))
            throw new CliException($"{dir} has no features_window_v1.parquet: it is not a built feature set (make one with './cis490 data build --out {dir}')");
        var summary = DataSetContent.Describe(dir);
        try
        {
            DataSetContent.WriteMarker(dir, new DataSetMarker(DataSetContent.Scheme, summary.Sha256, name, summary.Files, summary.Bytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"cis490: warning: cannot record the hash in {Path.Combine(dir, DataSetContent.MarkerFile)} ({e.Message}); publishing anyway");
        }
        var bundle = Path.Combine(Path.GetTempPath(), $"cis490-data-set-{summary.Sha256[..12]}-{Guid.NewGuid():N}.tar.zst");
        try
        {
            var (bundleSha, bundleBytes) = ArtifactBundle.Create(dir, bundle, DataSetContent.Included);
            output.WriteLine($"data set {summary.Sha256}{(name is null ? "" : $" ('{name}')")}: {summary.Files} files, {summary.Bytes} bytes ({bundleBytes} bytes packed)");
            await using var client = CoordinatorClient.Connect(coordinator, tls);
            var done = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = Stopwatch.StartNew();
            var publisher = client.Spawn(BundlePublisher.Props(done, bundle, client.Materializer), "publish");
            client.Tell(new DataSetProtocol.Publish(summary.Sha256, name, bundleSha, bundleBytes, summary.Files, summary.Bytes, token), publisher);
            var timeout = client.Settings.PublishTimeout;
            if (await Task.WhenAny(done.Task, Task.Delay(timeout)) != done.Task)
                throw new CliException($"no outcome from the coordinator at {coordinator} within {timeout.TotalMinutes:F0} min (cis490.shell.publish-timeout)");
            switch (done.Task.Result)
            {
                case DataSetProtocol.Published { AlreadyStored: true } p:
                    output.WriteLine($"already stored on the coordinator: nothing sent; published as {p.DataSet.Name ?? "(no name)"}, the latest data set");
                    return 0;
                case DataSetProtocol.Published:
                    var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
                    output.WriteLine($"published: {bundleBytes} bytes uploaded and verified in {seconds:F2} s ({bundleBytes / 1e6 / seconds:F1} MB/s); " +
                                     "it is the latest data set: jobs submitted from now on that name none are bound to it");
                    return 0;
                case var other:
                    return Failed(other);
            }
        }
        finally
        {
            if (File.Exists(bundle)) File.Delete(bundle);
        }
    }

    private static int Failed(object reply)
    {
        Console.Error.WriteLine(reply switch
        {
            DataSetProtocol.PublishRefused r => $"cis490: the coordinator refused the data set: {r.Reason}",
            OperatorProtocol.OperatorError e => $"cis490: {e.Message}",
            _ => $"cis490: unexpected reply {reply.GetType().Name}",
        });
        return 1;
    }
}
