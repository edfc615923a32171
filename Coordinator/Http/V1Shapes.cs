using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cis490.Protocols.Jobs;
using Microsoft.AspNetCore.Http;
using static Cis490.Coordinator.Http.V1Contracts;

namespace Cis490.Coordinator.Http;

/// <summary>The shapes of the earlier fleet's requests the <c>/v1</c> worker endpoints accept (docs/http-api.md, "What /v1 accepts",
/// lists every one). The field names of that fleet's bodies are not known, so this is lenient in what it takes — several spellings,
/// flat or nested capability, progress as a number, text or object — and strict in what it does: a value that is present but
/// unusable is a 400 naming it, and the answer lists the fields it ignored.</summary>
public static partial class V1Shapes
{
    // ---------- who and which lease ----------

    public static readonly string[] WorkerIdNames = ["worker_id", "worker", "worker_name", "workerid"];
    public static readonly string[] LeaseIdNames = ["lease_id", "lease", "claim_id"];

    /// <summary>The worker id a request names: in its body, its query (<c>?worker_id=</c>) or the <c>X-Worker-Id</c> header.</summary>
    public static string? WorkerId(V1Fields body, HttpRequest request, out FieldProblem? problem) =>
        body.Text(out problem, WorkerIdNames) is { } w && !string.IsNullOrWhiteSpace(w) ? w.Trim()
        : problem is null ? ApiEndpoints.NullIfEmpty(request.Query["worker_id"]) ?? ApiEndpoints.NullIfEmpty(request.Headers["X-Worker-Id"])
        : null;

    /// <summary>The lease id a request names, if it names one (body, <c>?lease_id=</c> or <c>X-Lease-Id</c>): positive.</summary>
    public static long? LeaseId(V1Fields body, HttpRequest request, out FieldProblem? problem)
    {
        var fromBody = body.Whole(out problem, LeaseIdNames);
        if (problem is not null) return null;
        if (fromBody is null)
        {
            var text = ApiEndpoints.NullIfEmpty(request.Query["lease_id"]) ?? ApiEndpoints.NullIfEmpty(request.Headers["X-Lease-Id"]);
            if (text is null) return null;
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                problem = new FieldProblem("lease_id", $"must be a whole number, got '{Shared.Text.SafeText.Escape(text)}'");
                return null;
            }
            fromBody = parsed;
        }
        if (fromBody <= 0) problem = new FieldProblem("lease_id", $"must be positive, got {fromBody}");
        return problem is null ? fromBody : null;
    }

    /// <summary>The worker id of a claim that names none: its host name when that is a valid id, else one made from the client's
    /// address (<c>http-10.0.0.7</c>), so an anonymous client keeps one identity while its address does.</summary>
    public static string DefaultWorkerId(string? hostname, string clientAddress) =>
        hostname is not null && V1Endpoints.CheckWorkerId(hostname) is null ? hostname
        : "http-" + string.Concat(clientAddress.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' ? ch : '-')).Trim('-');

    // ---------- capability ----------

    /// <summary>The capability of a claim: under <c>capability</c> (or <c>capabilities</c>, <c>caps</c>, <c>host_info</c>,
    /// <c>system_info</c>, <c>machine</c>) or flat in the body; a field missing from the nested object is looked for flat too.</summary>
    public static CapabilityBody Capability(V1Fields body, out FieldProblem? problem)
    {
        var nested = body.Object("capability", "capabilities", "caps", "host_info", "system_info", "machine", "worker_info");
        var sources = nested is null ? new[] { body } : [nested, body];
        FieldProblem? p = null;
        T? First<T>(Func<V1Fields, T?> read) where T : struct
        {
            foreach (var s in sources)
                if (p is null && read(s) is { } v) return v;
            return null;
        }
        string? FirstText(params string[] names)
        {
            foreach (var s in sources)
                if (p is null && s.Text(out p, names) is { } v) return v.Trim();
            return null;
        }

        var hostname = FirstText("hostname", "host", "host_name", "node", "nodename", "node_name", "machine_name", "fqdn");
        var cores = First(s => s.Whole(out p, "cores", "cpu_count", "cpus", "num_cpus", "n_cpus", "ncpu", "nproc", "cpu_cores", "n_cores", "num_cores", "threads"));
        var ram = First(s => s.Memory(out p,
            gib: ["ram_gib", "ram_gb", "memory_gib", "memory_gb", "mem_gib", "mem_gb", "total_ram_gb", "ram_total_gb", "total_memory_gb"],
            mib: ["ram_mib", "ram_mb", "memory_mib", "memory_mb", "mem_mib", "mem_mb", "total_ram_mb"],
            bytes: ["ram_bytes", "memory_bytes", "mem_bytes", "total_memory_bytes", "total_ram_bytes"],
            unitless: ["ram", "memory", "mem", "total_ram", "total_memory"]));
        var cudaObject = nested?.Object("cuda", "gpu_info") ?? body.Object("cuda", "gpu_info");
        var cuda = cudaObject is not null
            ? cudaObject.Flag(out p, "available", "is_available", "usable", "enabled") ?? true
            : First(s => s.Flag(out p, "cuda", "has_cuda", "cuda_available", "cuda_usable", "gpu_available", "has_gpu"));
        var vramSources = cudaObject is null ? sources : [cudaObject, .. sources];
        double? vram = null;
        foreach (var s in vramSources)
            if (p is null && vram is null)
                vram = s.Memory(out p,
                    gib: ["vram_gib", "vram_gb", "gpu_memory_gib", "gpu_memory_gb", "gpu_mem_gb", "cuda_memory_gb", "memory_gib", "memory_gb"],
                    mib: ["vram_mib", "vram_mb", "gpu_memory_mib", "gpu_memory_mb", "gpu_mem_mb", "memory_mib", "memory_mb"],
                    bytes: ["vram_bytes", "gpu_memory_bytes", "memory_bytes"],
                    unitless: ["vram", "gpu_memory", "gpu_mem", "cuda_memory"]);
        string? device = null;
        foreach (var s in vramSources)
            if (p is null && device is null)
                device = s.Text(out p, "cuda_device", "gpu_name", "gpu", "device_name", "cuda_device_name", "gpu_model", "device", "name")?.Trim();
        var torch = FirstText("torch_version", "torch", "pytorch", "pytorch_version");
        var git = FirstText("git_commit", "commit", "git_sha", "git_rev", "git_revision", "revision", "code_version");
        var os = FirstText("os", "platform", "system", "os_name", "os_version");
        IReadOnlyList<string>? families = null;
        foreach (var s in sources)
            if (p is null && families is null) families = Names(s, out p, "families", "models", "model_families", "allowed_models", "can_train");
        problem = p;
        if (p is not null) return Blank;
        if (cores is < int.MinValue or > int.MaxValue) cores = int.MaxValue; // the range check names it
        if (ram is { } r && (double.IsNaN(r) || double.IsInfinity(r))) ram = -1;
        return new CapabilityBody(hostname, (int?)cores, ram, cuda, vram, device, torch, git, os, families);
    }

    /// <summary>A list of names: a JSON list of strings, or one string separated by commas or spaces (<c>"knn, gbt"</c>).</summary>
    private static IReadOnlyList<string>? Names(V1Fields f, out FieldProblem? problem, params string[] aliases)
    {
        problem = null;
        if (f.Find(aliases) is not { } found) return null;
        if (found.Value.ValueKind == JsonValueKind.String)
            return found.Value.GetString()!.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.ToLowerInvariant()).ToList();
        if (found.Value.ValueKind == JsonValueKind.Array && found.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            return found.Value.EnumerateArray().Select(e => e.GetString()!.Trim().ToLowerInvariant()).ToList();
        problem = new FieldProblem(found.Name, $"must be a list of model families like [\"knn\", \"gbt\"], got {V1Fields.Shown(found.Value)}");
        return null;
    }

    public static readonly CapabilityBody Blank = new(null, null, null, null, null, null, null, null, null);

    // ---------- progress ----------

    /// <summary>A heartbeat's progress: under <c>progress</c> (or <c>status</c>, <c>state</c>) as a number (a fraction 0–1, or a
    /// percentage above 1 up to 100), text (<c>"epoch 3/20"</c>, <c>"3/20"</c>, <c>"45%"</c>, or any message) or an object; or
    /// its fields flat in the body. Null when the heartbeat carries none.</summary>
    public static ProgressBody? Progress(V1Fields body, out FieldProblem? problem)
    {
        problem = null;
        if (body.Find("progress", "training_progress", "state") is { } f)
            switch (f.Value.ValueKind)
            {
                case JsonValueKind.Object: return ProgressFields(V1Fields.Of(f.Value, f.Name + "."), out problem);
                case JsonValueKind.Number: return Fraction(f.Name, f.Value.GetDouble(), null, out problem);
                case JsonValueKind.String: return FromText(f.Name, f.Value.GetString()!, out problem);
                default:
                    problem = new FieldProblem(f.Name, $"must be a number, text or an object, got {V1Fields.Shown(f.Value)}");
                    return null;
            }
        var flat = ProgressFields(body, out problem);
        return flat == EmptyProgress ? null : flat;
    }

    private static readonly ProgressBody EmptyProgress = new(null, null, null, null, null, null);

    private static ProgressBody? ProgressFields(V1Fields f, out FieldProblem? problem)
    {
        FieldProblem? p = null;
        var epoch = f.Whole(out p, "epoch", "current_epoch", "step", "iteration");
        var total = p is null ? f.Whole(out p, "total_epochs", "epochs", "max_epochs", "n_epochs", "num_epochs", "total_steps", "total") : null;
        var loss = p is null ? f.Number(out p, "loss", "train_loss", "training_loss") : null;
        var f1 = p is null ? f.Number(out p, "val_macro_f1", "val_f1", "val_f1_macro", "macro_f1", "f1") : null;
        var elapsed = p is null ? f.Number(out p, "elapsed_seconds", "elapsed_s", "elapsed", "seconds", "runtime", "duration") : null;
        var message = p is null ? f.Text(out p, "message", "msg", "status", "stage", "phase", "detail", "note", "text") : null;
        var percent = p is null ? f.Number(out p, "percent", "pct", "percentage") : null;
        var fraction = p is null ? f.Number(out p, "fraction", "frac", "ratio", "done") : null;
        problem = p;
        if (p is not null) return null;
        var body = new ProgressBody(Int(epoch), Int(total), loss, f1, elapsed, message);
        if (epoch is null && total is null && (percent ?? fraction * 100) is { } pc)
            return Fraction(f.Named(percent is null ? "fraction" : "percent"), pc / 100, body, out problem);
        return body;
    }

    /// <summary>A share of the work done (0–1) as progress: shown as "epoch N/100", the only scale the progress columns have.</summary>
    private static ProgressBody? Fraction(string field, double value, ProgressBody? with, out FieldProblem? problem)
    {
        problem = null;
        var share = value is > 1 and <= 100 ? value / 100 : value;
        if (!(share >= 0 && share <= 1))
        {
            problem = new FieldProblem(field, $"as a number must be a fraction 0 to 1 or a percentage up to 100, got {value.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        var percent = (int)Math.Round(share * 100);
        return (with ?? EmptyProgress) with { Epoch = percent, TotalEpochs = 100, Message = with?.Message ?? $"{percent}%" };
    }

    [GeneratedRegex(@"(?:epoch\s*)?(\d+)\s*(?:/|of)\s*(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex EpochOf();

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*%\s*$")]
    private static partial Regex Percent();

    private static ProgressBody? FromText(string field, string text, out FieldProblem? problem)
    {
        problem = null;
        var t = text.Trim();
        if (Percent().Match(t) is { Success: true } pc)
            return Fraction(field, double.Parse(pc.Groups[1].Value, CultureInfo.InvariantCulture) / 100, EmptyProgress with { Message = t }, out problem);
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return Fraction(field, n, null, out problem);
        if (EpochOf().Match(t) is { Success: true } e && int.TryParse(e.Groups[1].Value, out var epoch) && int.TryParse(e.Groups[2].Value, out var total))
            return new ProgressBody(epoch, total, null, null, null, t);
        return EmptyProgress with { Message = t };
    }

    private static int? Int(long? v) => v is null ? null : (int)Math.Clamp(v.Value, -1, int.MaxValue);

    // ---------- failure, completion, upload ----------

    /// <summary>A failure's text: <c>error</c> (or <c>message</c>, <c>reason</c>, <c>exception</c>, <c>detail</c>, <c>err</c>), with
    /// a <c>traceback</c> (or <c>stderr</c>, <c>stack</c>) after it when both are given. Any JSON value is taken as text.</summary>
    public static string? FailText(V1Fields body)
    {
        string? Read(params string[] names) => body.Find(names) is { } f
            ? f.Value.ValueKind == JsonValueKind.String ? f.Value.GetString() : f.Value.GetRawText()
            : null;
        var error = Read("error", "message", "reason", "exception", "detail", "err", "error_message", "msg");
        var trace = Read("traceback", "stderr", "stack", "stack_trace", "tb");
        return (error, trace) switch
        {
            (null, null) => null,
            (_, null) => error,
            (null, _) => trace,
            _ => error + "\n" + trace,
        };
    }

    /// <summary>Metrics a <c>complete</c> carries: under <c>metrics</c> (or <c>results</c>, <c>scores</c>), and flat fields whose name
    /// says they are a score (<c>val_macro_f1</c>, <c>test_accuracy</c>, <c>auc</c>…). Numbers or numeric strings.</summary>
    public static IReadOnlyDictionary<string, double> Metrics(V1Fields body, out FieldProblem? problem)
    {
        problem = null;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (body.Find("metrics", "results", "scores", "eval") is { } m)
        {
            if (m.Value.ValueKind != JsonValueKind.Object)
            {
                problem = new FieldProblem(m.Name, $"must be an object of numbers like {{\"val_macro_f1\": 0.61}}, got {V1Fields.Shown(m.Value)}");
                return metrics;
            }
            foreach (var p in m.Value.EnumerateObject())
            {
                if (!TryMetric(p.Value, out var v))
                {
                    problem = new FieldProblem($"{m.Name}.{p.Name}", $"must be a number, got {V1Fields.Shown(p.Value)}");
                    return metrics;
                }
                metrics[p.Name] = v;
            }
        }
        foreach (var name in body.Unused.ToList())
            if (MetricName().IsMatch(name) && body.Find(name) is { } f && TryMetric(f.Value, out var v))
                metrics[name] = v;
        return metrics;
    }

    [GeneratedRegex(@"(f1|acc|accuracy|auc|precision|recall|loss|mcc)", RegexOptions.IgnoreCase)]
    private static partial Regex MetricName();

    private static bool TryMetric(JsonElement v, out double value)
    {
        value = 0;
        return (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out value))
               || (v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value));
    }

    public static readonly string[] Sha256Names = ["sha256", "sha", "sha256sum", "artifact_sha256", "checksum", "digest", "artifact_id", "hash"];

    /// <summary>A sha256 a client declares, as 64 hex digits (any case, optionally <c>sha256:</c>-prefixed) or base64 (as the
    /// <c>Digest</c> and <c>Content-Digest</c> headers carry it): lower-case hex, or a problem naming <paramref name="field"/>.</summary>
    public static string? Sha256(string field, string value, out FieldProblem? problem)
    {
        problem = null;
        var v = value.Trim();
        var colon = v.IndexOf(':');
        if (colon > 0 && v[..colon].Replace("-", "").Equals("sha256", StringComparison.OrdinalIgnoreCase)) v = v[(colon + 1)..].Trim().Trim(':');
        if (v.Length == 64 && v.All(Uri.IsHexDigit)) return v.ToLowerInvariant();
        try
        {
            var bytes = Convert.FromBase64String(v);
            if (bytes.Length == 32) return Convert.ToHexStringLower(bytes);
        }
        catch (FormatException) { }
        problem = new FieldProblem(field, $"must be a sha256: 64 hex digits (or its base64), got '{Shared.Text.SafeText.Escape(v.Length > 80 ? v[..80] + "…" : v)}'");
        return null;
    }

    /// <summary>The sha256 an upload declares: header <c>X-Sha256</c> (or <c>X-Content-Sha256</c>, <c>X-Checksum-Sha256</c>,
    /// <c>Content-SHA256</c>), <c>Content-Digest: sha-256=:BASE64:</c>, <c>Digest: SHA-256=BASE64</c>, or query <c>?sha256=</c>
    /// (or <c>sha</c>, <c>checksum</c>). Null when it declares none.</summary>
    public static string? DeclaredSha256(HttpRequest request, out FieldProblem? problem)
    {
        problem = null;
        foreach (var h in new[] { "X-Sha256", "X-Content-Sha256", "X-Checksum-Sha256", "Content-SHA256", "X-Artifact-Sha256" })
            if (ApiEndpoints.NullIfEmpty(request.Headers[h]) is { } v) return Sha256(h, v, out problem);
        foreach (var h in new[] { "Content-Digest", "Digest", "Repr-Digest" })
            if (ApiEndpoints.NullIfEmpty(request.Headers[h]) is { } v)
                foreach (var part in v.Split(','))
                {
                    var eq = part.IndexOf('=');
                    if (eq > 0 && part[..eq].Trim().Replace("-", "").Equals("sha256", StringComparison.OrdinalIgnoreCase))
                        return Sha256(h, part[(eq + 1)..].Trim().Trim(':'), out problem);
                }
        foreach (var q in new[] { "sha256", "sha", "checksum" })
            if (ApiEndpoints.NullIfEmpty(request.Query[q]) is { } v) return Sha256(q, v, out problem);
        return null;
    }
}
