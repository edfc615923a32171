namespace Cis490.Protocols;

/// <summary>Marker for every message that crosses a node and every persisted event; HOCON binds it to <see cref="Serialization.Cis490Serializer"/>.</summary>
public interface ICis490Message;

/// <summary>A message about one job's lease: carries the job id and the lease id used for fencing.</summary>
public interface IWithLease : ICis490Message
{
    string JobId { get; }
    long LeaseId { get; }
}
