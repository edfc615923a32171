namespace Cis490.Training.Data;

/// <summary>The phase classes a window is labelled with, in their fixed index order (the order of probability columns).</summary>
public static class Labels
{
    public static readonly IReadOnlyList<string> Classes = ["clean", "armed", "infecting", "infected_running"];

    public static int IndexOf(string label)
    {
        for (var i = 0; i < Classes.Count; i++)
            if (Classes[i] == label) return i;
        throw new InvalidDataException($"unknown label '{label}' (known: {string.Join(", ", Classes)})");
    }
}
