namespace Cis490.Training.Data;

/// <summary>A deterministic synthetic table of window features, standing in for the episode pipeline (issue 3) in the skeleton.</summary>
/// <remarks>Two hosts with different baselines (so that a model can over-fit one host, as the earlier KNN did), rare
/// armed/infecting classes, class signal buried in noise, and oracle-only columns that carry a stronger signal.</remarks>
public static class SyntheticFeatureTable
{
    public const string Version = "synthetic-v0";
    public const int RealisticColumns = 24;
    public const int OracleOnlyColumns = 8;
    public static readonly string[] Hosts = ["elliott-thinkpad", "k-gamingcom"];

    /// <summary>Class priors: clean, armed, infecting, infected_running.</summary>
    private static readonly double[] Priors = [0.35, 0.08, 0.07, 0.50];

    public static (FeatureTable Table, FeatureSchema Schema) Generate(int rows, int seed)
    {
        if (rows < 50) throw new ArgumentOutOfRangeException(nameof(rows), rows, "at least 50 rows");
        var rng = new Random(seed);
        var realistic = Enumerable.Range(0, RealisticColumns).Select(i => $"host.f{i:D2}").ToArray();
        var oracle = Enumerable.Range(0, OracleOnlyColumns).Select(i => $"oracle.f{i:D2}").ToArray();
        var columns = realistic.Concat(oracle).ToArray();
        var dims = columns.Length;

        // Per-class signal per column: a few columns separate each class; oracle columns separate them more clearly.
        var classMean = new double[Labels.Classes.Count, dims];
        for (var c = 0; c < Labels.Classes.Count; c++)
            for (var j = 0; j < dims; j++)
                classMean[c, j] = (j < RealisticColumns ? 0.9 : 1.6) * Gaussian(rng);
        // Per-host baseline shift: the gaming PC runs hotter and busier than the laptop.
        var hostShift = new double[Hosts.Length, dims];
        for (var h = 0; h < Hosts.Length; h++)
            for (var j = 0; j < dims; j++)
                hostShift[h, j] = h == 0 ? 0 : 1.2 * Gaussian(rng);

        var ids = new string[rows];
        var hosts = new string[rows];
        var labels = new int[rows];
        var values = new float[rows * dims];
        for (var i = 0; i < rows; i++)
        {
            var h = rng.NextDouble() < 0.7 ? 0 : 1;
            var c = Sample(rng, Priors);
            ids[i] = $"w{i:D7}";
            hosts[i] = Hosts[h];
            labels[i] = c;
            for (var j = 0; j < dims; j++)
                values[i * dims + j] = (float)(classMean[c, j] + hostShift[h, j] + 1.3 * Gaussian(rng));
        }
        var table = new FeatureTable { RowIds = ids, Hosts = hosts, Labels = labels, Columns = columns, Values = values };
        var schema = new FeatureSchema(Version, new Dictionary<string, IReadOnlyList<string>>
        {
            ["realistic"] = realistic,
            ["oracle"] = columns,
        });
        return (table, schema);
    }

    /// <summary>Writes features.csv and feature_schema.json to <paramref name="dir"/>.</summary>
    public static void Write(string dir, int rows, int seed)
    {
        var (table, schema) = Generate(rows, seed);
        table.Save(dir);
        schema.Save(dir);
    }

    private static int Sample(Random rng, double[] p)
    {
        var u = rng.NextDouble();
        for (var i = 0; i < p.Length - 1; i++)
        {
            if (u < p[i]) return i;
            u -= p[i];
        }
        return p.Length - 1;
    }

    private static double Gaussian(Random rng)
    {
        // Box-Muller; 1 - NextDouble() is in (0, 1], so the log is finite.
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
