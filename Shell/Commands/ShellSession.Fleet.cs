using System.Security.Cryptography;
using Akka.Streams.Dsl;
using Cis490.Protocols.Operator;
using Cis490.Shared.Cli;
using Cis490.Shell.Render;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Shell.Commands;

/// <summary>Status, workers, cluster, artifacts and manifests.</summary>
public sealed partial class ShellSession
{
    private async Task<int> Status(CliArgs o)
    {
        var json = o.Flag("json");
        o.RejectUnknown();
        var status = await Ask<StatusView>(GetStatus.Instance);
        Out.Write(json ? TextTable.Json(status) + "\n" : Views.Status(status));
        return Ok;
    }

    private async Task<int> Health(CliArgs o)
    {
        var json = o.Flag("json");
        o.RejectUnknown();
        var health = await Ask<CoordinatorHealth>(GetHealth.Instance);
        Out.Write(json ? TextTable.Json(health) + "\n" : Views.Health(health));
        return health.Restarting ? Failed : Ok;
    }

    private async Task<int> Workers(CliArgs o)
    {
        var json = o.Flag("json");
        o.RejectUnknown();
        var workers = await Ask<WorkerList>(ListWorkers.Instance);
        Out.Write(json ? TextTable.Json(workers) + "\n" : Views.Workers(workers));
        return Ok;
    }

    private async Task<int> ShowCluster(CliArgs o)
    {
        var json = o.Flag("json");
        o.RejectUnknown();
        var cluster = await Ask<ClusterView>(OperatorQueries.ShowCluster.Instance);
        Out.Write(json ? TextTable.Json(cluster) + "\n" : Views.Cluster(cluster));
        return Ok;
    }

    private async Task<int> Artifacts(CliArgs o)
    {
        var json = o.Flag("json");
        o.RejectUnknown();
        var list = await Ask<ArtifactList>(ListArtifacts.Instance);
        Out.Write(json ? TextTable.Json(list) + "\n" : Views.Artifacts(list));
        return Ok;
    }

    /// <summary>Streams a bundle into <c>DIR/&lt;sha256&gt;.tar.zst</c> (through a .part file), hashing as it goes; a wrong size or
    /// hash leaves nothing behind.</summary>
    private async Task<int> GetArtifact(string sha, string dir, CliArgs o, CancellationToken cancel)
    {
        o.RejectUnknown();
        if (File.Exists(dir)) throw new CliException($"{dir} is a file; give a directory to write the bundle into");
        var download = await Ask<ArtifactDownload>(new GetArtifact(sha));
        Directory.CreateDirectory(dir);
        var final = Path.Combine(dir, $"{download.Sha256}.tar.zst");
        var part = final + ".part";
        long received = 0;
        string actual;
        try
        {
            using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = new FileStream(part, FileMode.Create, FileAccess.Write))
            {
                // The stream's stages run one at a time: the file, hasher and counter are touched by one thread at a time.
                await download.Source.Source
                    .IdleTimeout(Client.Settings.DownloadIdleTimeout)
                    .RunForeach(chunk =>
                    {
                        file.Write(chunk);
                        hasher.AppendData(chunk);
                        received += chunk.Length;
                    }, Client.Materializer)
                    .WaitAsync(cancel);
            }
            actual = Convert.ToHexStringLower(hasher.GetHashAndReset());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            File.Delete(part);
            throw new ShellFailure($"download of {download.Sha256} failed after {received} of {download.Bytes} bytes: {e.GetBaseException().Message}");
        }
        catch (OperationCanceledException)
        {
            File.Delete(part);
            throw;
        }
        if (received != download.Bytes || actual != download.Sha256)
        {
            File.Delete(part);
            throw new ShellFailure($"download of {download.Sha256} is corrupt: {received} bytes with sha256 {actual} " +
                                   $"(expected {download.Bytes} bytes); nothing was written");
        }
        File.Move(part, final, overwrite: true);
        Out.WriteLine($"{final}: {download.Model} {download.Mode}, {TextTable.Bytes(received)}, sha256 verified");
        return Ok;
    }

    /// <summary><c>manifest reload PATH</c> (or <c>submit</c>) sends the file's text; <c>manifest reload</c> asks the coordinator to read
    /// its own <c>--manifest</c> file again.</summary>
    private async Task<int> Manifest(string? path, CliArgs o)
    {
        var tokenValue = TokenOf(o);
        var allErrors = o.Flag("all-errors");
        o.RejectUnknown();
        object reply;
        if (path is null) reply = await Ask<object>(new OperatorProtocol.ReloadManifest(tokenValue));
        else if (!File.Exists(path)) throw new ShellFailure($"manifest {path}: no such file");
        else
        {
            try
            {
                reply = await Client.SubmitManifest(path, tokenValue); // a stream of chunks: any size
            }
            catch (CliException e)
            {
                throw new ShellFailure(e.Message);
            }
            if (reply is OperatorProtocol.OperatorError error) throw new ShellFailure(error.Message);
        }
        switch (reply)
        {
            case OperatorProtocol.ManifestAccepted ok:
                Out.WriteLine($"{ok.FileName}: {ok.AddedCount} new job(s) pending, {ok.KnownCount} already known (unchanged)");
                return Ok;
            case OperatorProtocol.ManifestRejected bad:
                Err.WriteLine($"{bad.FileName}: rejected, nothing changed ({bad.TotalCount} error(s)):");
                foreach (var e in bad.Errors) Err.WriteLine("  " + e);
                if (bad.TotalCount > bad.Errors.Count && allErrors && path is not null)
                {
                    // The coordinator's answer holds the first errors; the same validation (Shared's ManifestLoader) run here lists all.
                    foreach (var e in Cis490.Shared.Manifest.ManifestLoader.Parse(path, await File.ReadAllTextAsync(path)).Errors.Skip(bad.Errors.Count))
                        Err.WriteLine("  " + e);
                }
                else if (bad.TotalCount > bad.Errors.Count)
                {
                    Err.WriteLine($"  … and {bad.TotalCount - bad.Errors.Count} more (all of them: --all-errors); by kind:");
                    foreach (var k in bad.Kinds ?? []) Err.WriteLine($"  {k.Count,7} × {k.Kind}  (first: {k.Example})");
                }
                return Failed;
            default:
                throw new ShellFailure($"unexpected reply {reply.GetType().Name}");
        }
    }
}
