using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Tomlyn.Syntax;

namespace Cis490.Shared.Manifest;

/// <summary>A job's <c>data_set = "..."</c> as the manifest wrote it, and where: the coordinator resolves it against the published
/// data sets when the manifest is submitted, and names this line when it cannot.</summary>
/// <param name="JobId">The job's id before binding (<see cref="JobSpec.JobId"/> as the loader computed it, without a data set).</param>
/// <param name="Reference">A published data set's name, or a prefix of its content hash (at least
/// <see cref="ManifestLoader.MinDataSetPrefix"/> hex digits); null when the job names none (the latest published one is bound).</param>
public sealed record DataSetReference(string JobId, string? Reference, int Line, int Column);

public static partial class ManifestLoader
{
    /// <summary>Fewest hex digits of a content hash that may name a data set: 8, as for job ids and artifacts.</summary>
    public const int MinDataSetPrefix = 8;

    /// <summary>Longest data-set name (<c>data publish --name</c>).</summary>
    public const int MaxDataSetName = 64;

    /// <summary>Whether <paramref name="name"/> may name a data set: 1–64 of letters, digits, '.', '_' and '-', starting with a letter
    /// or digit (it shows in tables and logs, and is never a path).</summary>
    public static bool IsDataSetName(string? name) =>
        name is { Length: > 0 and <= MaxDataSetName } && char.IsAsciiLetterOrDigit(name[0])
                                                      && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static string? DataSetRef(string file, int index, ValueSyntax? value, List<OperatorProtocol.ManifestError> errors)
    {
        if (value is not StringValueSyntax { Value: { } text })
        {
            errors.Add(Error(file, value?.Span, $"job #{index}: 'data_set' must be a string (a published data set's name or hash prefix), got {Describe(value)}"));
            return null;
        }
        if (!IsDataSetName(text))
        {
            errors.Add(Error(file, value.Span,
                $"job #{index}: data_set \"{text}\" is neither a data-set name (letters, digits, '.', '_', '-'; at most {MaxDataSetName}) nor a hash prefix"));
            return null;
        }
        return text;
    }

    private static DataSetReference Reference(JobSpec spec, JobDraft draft) =>
        draft.DataSetSpan is { } span
            ? new(spec.JobId, draft.DataSet, span.Start.Line + 1, span.Start.Column + 1)
            : new(spec.JobId, null, draft.Line, 1);
}
