using System.Security.Cryptography;
using System.Text;

namespace Cis490.Training.Data;

/// <summary>Row indices of one split: train, in-distribution validation (carved from the train side), and test.</summary>
public sealed record Split(string Recipe, int[] Train, int[] Val, int[] Test);

/// <summary>Split recipes. <c>host</c>: train on the train hosts, test on every other host; 20 % of the train side, chosen by a
/// hash of (row id, seed), is validation.</summary>
public static class Splits
{
    public const int ValidationPercent = 20;

    public static Split Make(FeatureTable table, string recipe, IReadOnlyCollection<string> trainHosts, long seed)
    {
        if (recipe != "host") throw new ArgumentException($"unknown split recipe '{recipe}' (known: host)");
        List<int> train = [], val = [], test = [];
        for (var i = 0; i < table.Rows; i++)
        {
            if (!trainHosts.Contains(table.Hosts[i])) test.Add(i);
            else if (Bucket(table.RowIds[i], seed) < ValidationPercent) val.Add(i);
            else train.Add(i);
        }
        if (train.Count == 0) throw new InvalidDataException($"split '{recipe}' has no training rows: no row is from {string.Join(", ", trainHosts)}");
        if (val.Count == 0) throw new InvalidDataException($"split '{recipe}' has no validation rows");
        return new Split(recipe, [.. train], [.. val], [.. test]);
    }

    /// <summary>A stable bucket 0..99 from the row id and seed (independent of row order and .NET's string hashing).</summary>
    private static int Bucket(string rowId, long seed)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{rowId}"));
        return (int)(BitConverter.ToUInt32(hash, 0) % 100);
    }
}
