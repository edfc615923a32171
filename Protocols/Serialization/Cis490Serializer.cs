using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Akka.Streams;

namespace Cis490.Protocols.Serialization;

/// <summary>System.Text.Json serializer for every <see cref="ICis490Message"/>, with short manifests that never change once shipped;
/// the job table's snapshot has a compact binary form (<see cref="JobTableSnapshotCodec"/>), and a group-committed write's events are
/// framed as one journal entry around their JSON (<see cref="EventBatchCodec"/>).</summary>
/// <remarks>Bound in hocon/base.conf. Strict: a type without a manifest in <see cref="Manifests"/> fails to serialize rather than falling back.</remarks>
public sealed class Cis490Serializer : SerializerWithStringManifest
{
    /// <summary>Serializer identifier (must be above 40, unique in the system).</summary>
    public const int Id = 490;

    private readonly JsonSerializerOptions _options;

    public Cis490Serializer(ExtendedActorSystem system) : base(system)
    {
        _options = CreateOptions(system);
    }

    public override int Identifier => Id;

    /// <summary>The JSON options the wire and journal use; <paramref name="system"/> resolves embedded stream refs.</summary>
    public static JsonSerializerOptions CreateOptions(ExtendedActorSystem? system)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            WriteIndented = false,
        };
        if (system is not null)
        {
            options.Converters.Add(new StreamRefConverter<ISinkRef<byte[]>>(system));
            options.Converters.Add(new StreamRefConverter<ISourceRef<byte[]>>(system));
        }
        return options;
    }

    public override string Manifest(object o) =>
        Manifests.ByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException(
                $"{o.GetType().FullName} implements ICis490Message but has no manifest in {nameof(Manifests)}; add one (and never change it once shipped).");

    public override byte[] ToBinary(object obj)
    {
        var manifest = Manifest(obj);
        if (manifest == Manifests.CompactSnapshot) return JobTableSnapshotCodec.Write((Jobs.JobTableSnapshot)obj, _options);
        if (manifest == Manifests.EventBatch) return EventBatchCodec.Write((Jobs.JobEvents.Batch)obj, _options);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _options);
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Manifests.ByManifest.TryGetValue(manifest, out var type))
            throw new SerializationException($"Unknown Cis490 manifest '{manifest}' ({bytes.Length} bytes); is this node older than the sender?");
        if (manifest == Manifests.CompactSnapshot) return JobTableSnapshotCodec.Read(bytes, _options);
        if (manifest == Manifests.EventBatch) return EventBatchCodec.Read(bytes, _options);
        return JsonSerializer.Deserialize(bytes, type, _options)
               ?? throw new SerializationException($"Manifest '{manifest}' decoded to null.");
    }

    /// <summary>Hands an embedded stream ref (<see cref="ISinkRef{T}"/>, <see cref="ISourceRef{T}"/>) to Akka's own stream-ref
    /// serializer: the refs are surrogated actor references, not plain data.</summary>
    private sealed class StreamRefConverter<TRef>(ExtendedActorSystem system) : JsonConverter<TRef> where TRef : class
    {
        public override TRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var wrapped = JsonSerializer.Deserialize<WrappedPayload>(ref reader, options)
                          ?? throw new SerializationException($"Empty {typeof(TRef).Name} payload.");
            var obj = system.Serialization.Deserialize(Convert.FromBase64String(wrapped.Payload), wrapped.SerializerId, wrapped.Manifest);
            return obj as TRef
                   ?? throw new SerializationException($"Expected {typeof(TRef).Name} but got {obj.GetType().FullName}.");
        }

        public override void Write(Utf8JsonWriter writer, TRef value, JsonSerializerOptions options)
        {
            var serializer = system.Serialization.FindSerializerFor(value);
            var wrapped = new WrappedPayload(
                serializer.Identifier,
                Akka.Serialization.Serialization.ManifestFor(serializer, value),
                Convert.ToBase64String(serializer.ToBinary(value)));
            JsonSerializer.Serialize(writer, wrapped, options);
        }
    }

    private sealed record WrappedPayload(int SerializerId, string Manifest, string Payload);
}
