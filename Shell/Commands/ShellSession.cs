using Cis490.Protocols.Operator;
using Cis490.Shared.Cli;
using Cis490.Shell.Client;

namespace Cis490.Shell.Commands;

/// <summary>A command that ran and failed or was refused (exit status 1); the message is shown as it is.</summary>
public sealed class ShellFailure(string message) : Exception(message);

/// <summary>Runs parsed commands against one coordinator, for one-shot runs and the interactive prompt alike: results to
/// <see cref="Out"/>, errors and refusals to <see cref="Err"/>, and an exit status (0 ok, 1 refused or failed, 2 usage).</summary>
/// <param name="tlsDir">An operator enrolment folder (<c>--tls</c>): the connection speaks mutual TLS; null: CIS490_TLS_DIR or plain.</param>
public sealed partial class ShellSession(string? address, string? token, TextWriter output, TextWriter error, bool outputIsTerminal, string? tlsDir = null) : IAsyncDisposable
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private CoordinatorClient? _client;

    /// <summary>Results; every character passes <see cref="Render.SafeTextWriter"/> (control characters from the network are shown escaped).</summary>
    public TextWriter Out { get; } = Render.SafeTextWriter.Wrap(output);

    /// <summary>Errors and refusals, through the same filter as <see cref="Out"/>.</summary>
    public TextWriter Err { get; } = Render.SafeTextWriter.Wrap(error);
    public string? Address { get; } = address;

    /// <summary>Whether results go to a terminal (a live progress bar redraws one line there; elsewhere it prints lines).</summary>
    public bool OutputIsTerminal { get; } = outputIsTerminal;

    /// <summary>The connection, made on first use (help needs none).</summary>
    public CoordinatorClient Client => _client ??= CoordinatorClient.Connect(
        Address ?? throw new CliException("option --coordinator HOST:PORT is required (the coordinator node's address)"), tlsDir);

    /// <summary>Runs one command. Usage errors are reported here with the command's synopsis; nothing throws out.</summary>
    public async Task<int> Run(ParsedCommand command, CancellationToken cancel = default)
    {
        try
        {
            return await Dispatch(command, cancel);
        }
        catch (CliException e)
        {
            Err.WriteLine($"cis490: {e.Message}");
            if (command.Spec.Palette != "help" && !e.Message.Contains("usage:", StringComparison.Ordinal))
                Err.WriteLine($"usage: {command.Spec.Usage}");
            return Usage;
        }
        catch (ShellFailure e)
        {
            Err.WriteLine(e.Message);
            return Failed;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            if (OutputIsTerminal) Out.WriteLine();
            Err.WriteLine("stopped");
            return Failed;
        }
    }

    private Task<int> Dispatch(ParsedCommand c, CancellationToken cancel)
    {
        var a = c.Arguments;
        var o = c.Options;
        return c.Spec.Name switch
        {
            "help" => Help(a, o),
            "exit" => Done(o),
            "status" => Status(o),
            "health" => Health(o),
            "jobs list" => ListJobs(o),
            "jobs show" => ShowJob(a[0], o, cancel),
            "jobs logs" => Logs(a[0], o, cancel),
            "jobs cancel" => Mutate(new OperatorProtocol.CancelJob(a[0], o.Get("reason", "cancelled by an operator"), TokenOf(o)), o),
            "jobs requeue" => Mutate(new OperatorProtocol.RequeueJob(a[0], TokenOf(o)), o),
            "workers" => Workers(o),
            "artifacts list" => Artifacts(o),
            "artifacts get" => GetArtifact(a[0], a[1], o, cancel),
            "cluster show" => ShowCluster(o),
            "cluster leave" => Mutate(new OperatorQueries.ChangeMember(a[0], false, TokenOf(o)), o),
            "cluster down" => Mutate(new OperatorQueries.ChangeMember(a[0], true, TokenOf(o)), o),
            "cluster tail" => TailCluster(o, cancel),
            "log peek" => PeekLog(a[0], o),
            "log tail" => TailLog(a[0], o, cancel),
            "actor hierarchy" => Hierarchy(a[0], o),
            "manifest reload" or "manifest submit" => Manifest(a.Count > 0 ? a[0] : null, o),
            _ => throw new CliException($"'{c.Spec.Name}' is in the catalog but has no handler"),
        };
    }

    /// <summary>The operator token: the command's <c>--token</c>, else the session's (<c>--token</c> at start, or CIS490_OPERATOR_TOKEN).</summary>
    private string? TokenOf(CliArgs o) => o.Get("token") ?? token;

    private Task<int> Help(IReadOnlyList<string> words, CliArgs o)
    {
        o.RejectUnknown();
        Out.Write(HelpText.For(words));
        return Task.FromResult(Ok);
    }

    private static Task<int> Done(CliArgs o)
    {
        o.RejectUnknown();
        return Task.FromResult(Ok);
    }

    /// <summary>Sends a request and returns the reply of the expected type; an error reply or no answer is a <see cref="ShellFailure"/>.</summary>
    private async Task<T> Ask<T>(object request) where T : class
    {
        object reply;
        try
        {
            reply = await Client.Ask(request);
        }
        catch (CliException e) when (_client is not null)
        {
            throw new ShellFailure(e.Message); // no answer: a failure of the run, not a usage error
        }
        return reply switch
        {
            OperatorProtocol.OperatorError error => throw new ShellFailure(error.Message),
            T wanted => wanted,
            _ => throw new ShellFailure($"unexpected reply {reply.GetType().Name} to {request.GetType().Name}"),
        };
    }

    /// <summary>Cancel, requeue, cluster leave and down: the coordinator checks the token and answers done or refused.</summary>
    private async Task<int> Mutate(object request, CliArgs o)
    {
        o.RejectUnknown();
        var result = await Ask<OperatorProtocol.OperatorResult>(request);
        if (!result.Ok)
        {
            Err.WriteLine(result.Message.StartsWith("refused", StringComparison.Ordinal) ? result.Message : $"refused: {result.Message}");
            return Failed;
        }
        Out.WriteLine($"{result.JobId}: {result.Message}");
        return Ok;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
    }
}
