using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Runner;

namespace Cis490.WorkerNode.Trainer;

/// <summary>The lines a trainer process prints on stdout, one JSON object each: written by <see cref="TrainerProcessProgram"/>,
/// read by <see cref="TrainerActor"/>, and printed by the tests' fake trainer, so all three agree by construction.</summary>
public static class TrainerOutput
{
    /// <summary>The project's JSON options, on one line: <see cref="Json.Options"/> indents, which once split the alive line into three.</summary>
    private static readonly JsonSerializerOptions OneLine = new(Json.Options) { WriteIndented = false };

    /// <summary>Printed once a second by the trainer's watchdog: the process is alive even when an epoch is slow.</summary>
    public static readonly string Alive = JsonSerializer.Serialize(new { type = "alive" }, OneLine);

    /// <summary>One progress report, on one line.</summary>
    public static string Progress(ProgressReport p) => JsonSerializer.Serialize(new { type = "progress", progress = p }, OneLine);

    /// <summary>The progress report a line carries; null for an <c>alive</c> line, or any other line (a stray native library
    /// message is not a protocol error).</summary>
    public static ProgressReport? ReadProgress(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.GetString() != "progress") return null;
            return root.GetProperty("progress").Deserialize<ProgressReport>(Json.Options);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}
