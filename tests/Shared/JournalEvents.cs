using System.Data.Common;
using Cis490.Protocols.Serialization;

namespace Cis490.Testing;

/// <summary>What a coordinator's journal (SQLite or PostgreSQL) holds, event by event: a group-committed write is one row (a JEB
/// batch, EventBatchCodec), so counting rows counts writes, not events.</summary>
public static class JournalEvents
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = Cis490Serializer.CreateOptions(null);

    /// <summary>The manifest of every event in the journal <paramref name="connection"/> reaches (it is opened and disposed here), in
    /// order; rows marked deleted too unless <paramref name="liveOnly"/>.</summary>
    public static IReadOnlyList<string> Manifests(DbConnection connection, bool liveOnly = false)
    {
        using var c = connection;
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT manifest, message FROM journal" + (liveOnly ? " WHERE NOT deleted" : "") + " ORDER BY ordering";
        using var rows = cmd.ExecuteReader();
        var manifests = new List<string>();
        while (rows.Read())
        {
            var manifest = rows.GetString(0);
            if (manifest != Protocols.Serialization.Manifests.EventBatch)
            {
                manifests.Add(manifest);
                continue;
            }
            var batch = EventBatchCodec.Read((byte[])rows[1], Json);
            manifests.AddRange(batch.Events.Select(e => Protocols.Serialization.Manifests.ByType[e.GetType()]));
        }
        return manifests;
    }

    /// <summary>How many events the journal holds.</summary>
    public static int Count(DbConnection connection, bool liveOnly = false) => Manifests(connection, liveOnly).Count;
}
