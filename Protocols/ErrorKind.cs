using System.Text.Json.Serialization;

namespace Cis490.Protocols;

/// <summary>What kind of refusal a reply carries. Clients decide by the kind (the HTTP layer picks its status code from it,
/// the shell its exit status); the message beside it is for people and may be reworded at any time.</summary>
/// <remarks>Serialized by name, so a kind added later never changes the meaning of an old one. A reply from a node that
/// predates kinds deserializes as <see cref="Invalid"/>.</remarks>
[JsonConverter(typeof(JsonStringEnumConverter<ErrorKind>))]
public enum ErrorKind
{
    /// <summary>The request itself is wrong (bad argument, ambiguous id prefix, invalid manifest).</summary>
    Invalid = 0,

    /// <summary>What the request names does not exist (job, artifact, member).</summary>
    NotFound,

    /// <summary>The request is well formed but the thing it names is in a state that does not allow it (cancel a completed job).</summary>
    Conflict,

    /// <summary>A message about a lease that is no longer the job's current live lease (fencing).</summary>
    StaleLease,

    /// <summary>The request needs the operator token and carries none.</summary>
    Unauthorized,

    /// <summary>The request carries a token that is not the operator token.</summary>
    Forbidden,

    /// <summary>The request or its answer is larger than the fleet takes or can deliver.</summary>
    TooLarge,

    /// <summary>The coordinator (or something it needs: a file, the cluster) cannot serve the request now; trying later may work.</summary>
    Unavailable,
}
