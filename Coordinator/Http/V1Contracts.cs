using System.Globalization;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.Coordinator.Http;

/// <summary>Request and response bodies of the <c>/v1</c> endpoints the earlier fleet's Python workers and <c>cis490_jobs</c> CLI
/// speak (docs/http-api.md has an example of each). Fields are snake_case on the wire.</summary>
public static class V1Contracts
{
    /// <summary>What is wrong with one field of a request body, for the 400 that names it.</summary>
    public sealed record FieldProblem(string Field, string Message);

    /// <summary>A worker's capability as a Python worker reports it; missing fields take modest defaults. Every value is checked
    /// (<see cref="Problem"/>) before anything is registered: it is stored, listed to operators and shown on the dashboard.</summary>
    /// <param name="Families">The model families the worker says it can train; null: it did not say, and every family is offered.</param>
    public sealed record CapabilityBody(
        string? Hostname, int? Cores, double? RamGib, bool? Cuda, double? VramGib, string? CudaDevice, string? TorchVersion, string? GitCommit, string? Os,
        IReadOnlyList<string>? Families = null)
    {
        public const int MaxCores = 1024;
        public const double MaxRamGib = 64 * 1024; // 64 TiB: more than any single machine of this decade
        public const double MaxVramGib = 4 * 1024; // 4 TiB: a whole rack's worth of GPUs

        /// <summary>The first field that is out of range or not acceptable text; null when every field is fine.</summary>
        public FieldProblem? Problem() =>
            Checks.Name("hostname", Hostname, 253)
            ?? Checks.Range("cores", Cores, 1, MaxCores)
            ?? Checks.Range("ram_gib", RamGib, 0, MaxRamGib)
            ?? Checks.Range("vram_gib", VramGib, 0, MaxVramGib)
            ?? Checks.Text("cuda_device", CudaDevice, 128)
            ?? Checks.Name("torch_version", TorchVersion, 64, "+")
            ?? Checks.Name("git_commit", GitCommit, 64, "+")
            ?? Checks.Text("os", Os, 128)
            ?? (Families?.FirstOrDefault(f => !Shared.Models.ModelCatalog.All.ContainsKey(f)) is { } unknown
                ? new FieldProblem("families", $"'{Shared.Text.SafeText.Escape(unknown)}' is not a model family (known: {string.Join(", ", Shared.Models.ModelCatalog.All.Keys.Order())})")
                : null);

        public WorkerCapability ToCapability(string workerId) => new(
            string.IsNullOrWhiteSpace(Hostname) ? workerId : Hostname.Trim(), Math.Max(1, Cores ?? 1), Math.Max(0, RamGib ?? 0), Cuda ?? false,
            Math.Max(0, VramGib ?? 0), CudaDevice, TorchVersion ?? "none", GitCommit ?? "unknown", Os ?? "unknown",
            Families?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>The claim's answer: a job with its lease id (its id also at the top level, with the status as the earlier fleet
    /// named it, <c>claimed</c>), or <c>job: null</c> with <c>reason</c> and when to claim again. <c>capability</c> is what was
    /// understood of the claim's, <c>ignored_fields</c> what was not used, so nothing is dropped unseen.</summary>
    public sealed record ClaimResponse(JobBody? Job, string? JobId, long? LeaseId, string WorkerId, string? Status, string? LegacyStatus,
        double HeartbeatDeadlineS, double HeartbeatIntervalS, double RetryAfterS, string? Reason, CapabilityView Capability,
        IReadOnlyList<string> IgnoredFields);

    /// <summary>A capability as the coordinator understood it from a claim.</summary>
    /// <param name="Families">The families offered to it: what it said, or null (every family).</param>
    public sealed record CapabilityView(string Hostname, int Cores, double RamGib, bool Cuda, double VramGib, string? CudaDevice, string TorchVersion,
        string GitCommit, string Os, IReadOnlyList<string>? Families)
    {
        public static CapabilityView Of(WorkerCapability c) =>
            new(c.Hostname, c.Cores, Math.Round(c.RamGib, 2), c.Cuda, Math.Round(c.VramGib, 2), c.CudaDevice, c.TorchVersion, c.GitCommit, c.Os, c.Families);
    }

    /// <summary>What to train, as a worker needs it; <c>hyper</c> is the hyper-parameters as a JSON object.</summary>
    public sealed record JobBody(string JobId, string Model, string Mode, JsonElement Hyper, string HyperJson, string SplitRecipe,
        IReadOnlyList<string> TrainHosts, long Seed, int Priority, int MaxAttempts)
    {
        public static JobBody From(JobSpec s)
        {
            using var hyper = JsonDocument.Parse(string.IsNullOrWhiteSpace(s.HyperJson) ? "{}" : s.HyperJson);
            return new JobBody(s.JobId, s.Model, s.Mode, hyper.RootElement.Clone(), s.HyperJson, s.SplitRecipe, s.TrainHosts, s.Seed, s.Priority, s.MaxAttempts);
        }
    }

    /// <summary>Progress as a worker reports it (all optional).</summary>
    public sealed record ProgressBody(int? Epoch, int? TotalEpochs, double? Loss, double? ValMacroF1, double? ElapsedSeconds, string? Message)
    {
        /// <summary>The first field out of range or not acceptable text; null when every field is fine.</summary>
        public FieldProblem? Problem() =>
            Checks.Range("epoch", Epoch, 0, 10_000_000)
            ?? Checks.Range("total_epochs", TotalEpochs, 0, 10_000_000)
            ?? (Loss is { } l && double.IsInfinity(l) ? new FieldProblem("loss", "must be a finite number (or NaN), got infinity") : null)
            ?? Checks.Range("val_macro_f1", ValMacroF1, 0, 1)
            ?? Checks.Range("elapsed_seconds", ElapsedSeconds, 0, 100 * 365 * 86400.0)
            ?? Checks.Text("message", Message, 500);

        public TrainingProgress ToProgress() => new(Epoch ?? 0, TotalEpochs ?? 0, Loss, ValMacroF1, ElapsedSeconds ?? 0, Message ?? "");
    }

    /// <summary>The longest failure text kept (a Python traceback is a few KiB).</summary>
    public const int MaxErrorChars = 16 * 1024;

    /// <summary>A failure's text as it is kept: control characters escaped into visible text (newlines and tabs kept), cut to
    /// <see cref="MaxErrorChars"/>.</summary>
    public static string FailError(string error)
    {
        var text = Shared.Text.SafeText.Escape(error.Trim(), keepNewlines: true);
        return text.Length <= MaxErrorChars ? text : text[..MaxErrorChars] + $" … ({text.Length - MaxErrorChars} more characters cut)";
    }

    /// <summary>The checks behind <see cref="CapabilityBody.Problem"/> and <see cref="ProgressBody.Problem"/>.</summary>
    public static class Checks
    {
        /// <summary>A name (host name, version, commit): 1 to <paramref name="max"/> ASCII letters, digits, '.', '_', '-' (and
        /// <paramref name="more"/>), starting with a letter or digit. Null (absent) is fine.</summary>
        public static FieldProblem? Name(string field, string? value, int max, string more = "")
        {
            if (value is null) return null;
            if (value.Length == 0 || value.Length > max) return new FieldProblem(field, $"must be 1 to {max} characters, got {value.Length}");
            if (!char.IsAsciiLetterOrDigit(value[0])) return new FieldProblem(field, $"must start with an ASCII letter or digit, got {Quote(value[..1])}");
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-') && !more.Contains(c))
                    return new FieldProblem(field, $"may hold only ASCII letters, digits, '.', '_', '-'{(more.Length > 0 ? $", '{more}'" : "")}; " +
                                                   $"character {i + 1} is {Quote(c.ToString())}");
            }
            return null;
        }

        /// <summary>Free text (a GPU's name, an OS description, a progress message): at most <paramref name="max"/> characters, no
        /// control, format (bidi overrides, zero-width), private-use, unassigned or lone surrogate characters, and no '&lt;' or
        /// '&gt;' (it is shown on a web page). Null (absent) is fine.</summary>
        public static FieldProblem? Text(string field, string? value, int max)
        {
            if (value is null) return null;
            if (value.Length > max) return new FieldProblem(field, $"must be at most {max} characters, got {value.Length}");
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    i++;
                    continue;
                }
                var category = char.GetUnicodeCategory(c);
                if (c is '<' or '>' || Shared.Text.SafeText.IsUnsafe(c) || category is UnicodeCategory.Control or UnicodeCategory.Format
                        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
                        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                    return new FieldProblem(field, $"must be printable text; character {i + 1} is {Quote(c.ToString())}");
            }
            return null;
        }

        public static FieldProblem? Range(string field, int? value, int min, int max) =>
            value is { } v && (v < min || v > max) ? new FieldProblem(field, $"must be {min} to {max}, got {v}") : null;

        public static FieldProblem? Range(string field, double? value, double min, double max) =>
            value is { } v && !(v >= min && v <= max) // NaN fails too
                ? new FieldProblem(field, $"must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, " +
                                          $"got {v.ToString("G6", CultureInfo.InvariantCulture)}")
                : null;

        /// <summary>A character quoted for a message, escaped when it is not printable (the message may reach a terminal).</summary>
        private static string Quote(string c) => c is "<" or ">" ? $"'{c}'" : Shared.Text.SafeText.IsSafe(c) && !char.IsSurrogate(c[0])
            ? $"'{c}'" : $"{Shared.Text.SafeText.Escape(c)} (U+{(int)c[0]:X4})";
    }

    /// <summary>The answer to heartbeat, complete, fail and upload: the job's status after the request, and its artifact once stored.</summary>
    public sealed record LeaseResponse(bool Ok, string JobId, long LeaseId, string Status, string? Sha256 = null, long? Bytes = null, bool? Deduplicated = null);
}
