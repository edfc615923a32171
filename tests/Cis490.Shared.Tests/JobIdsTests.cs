using System.Security.Cryptography;
using System.Text;
using Cis490.Shared.Jobs;

namespace Cis490.Shared.Tests;

public class JobIdsTests
{
    private static readonly string[] Laptop = ["elliott-thinkpad"];

    private static string Id(string model = "knn", string mode = "realistic", string hyper = "{\"k\":10}",
        string split = "host", string[]? hosts = null, long seed = 0) =>
        JobIds.Compute(model, mode, hyper, split, hosts ?? Laptop, seed);

    [Fact]
    public void Job_id_is_a_64_character_lowercase_hex_sha256()
    {
        var id = Id();
        Assert.Equal(64, id.Length);
        Assert.Matches("^[0-9a-f]{64}$", id);
    }

    [Fact]
    public void Job_id_is_stable_for_the_same_canonical_tuple()
    {
        Assert.Equal(Id(), Id());
        Assert.Equal(Id(hosts: ["a", "b"], seed: 42), Id(hosts: ["a", "b"], seed: 42));
    }

    [Fact]
    public void Canonical_tuple_text_is_pinned()
    {
        // Ids are persisted in journals: this exact text must never change.
        var text = JobIds.CanonicalTuple("knn", "realistic", "{\"k\":10}", "host", Laptop, 0);
        Assert.Equal("[\"knn\",\"realistic\",{\"k\":10},\"host\",[\"elliott-thinkpad\"],0]", text);
    }

    [Fact]
    public void Job_id_of_the_reference_tuple_is_pinned()
    {
        var id = JobIds.Compute("knn", "realistic", "{\"k\":10}", "host", Laptop, 0);
        var canonical = JobIds.CanonicalTuple("knn", "realistic", "{\"k\":10}", "host", Laptop, 0);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))), id);
        // Computed outside .NET (sha256sum of the canonical text): a change to canonicalisation breaks this on purpose.
        Assert.Equal("0b5ce7f4fbf5e719ec770a4e05beec4e3545b2aea382c874e6f854b3b204ed73", id);
    }

    [Fact]
    public void Hyper_key_order_does_not_change_the_id()
    {
        var forward = new Dictionary<string, object> { ["k"] = 5L, ["weights"] = "distance" };
        var backward = new Dictionary<string, object> { ["weights"] = "distance", ["k"] = 5L };
        var a = JobIds.CanonicalHyperJson(forward);
        var b = JobIds.CanonicalHyperJson(backward);
        Assert.Equal("{\"k\":5,\"weights\":\"distance\"}", a);
        Assert.Equal(a, b);
        Assert.Equal(Id(hyper: a), Id(hyper: b));
    }

    [Fact]
    public void Hyper_key_order_in_raw_json_does_not_change_the_id()
    {
        // Operators recompute ids by hand from whatever JSON they hold; the tuple sorts the keys itself.
        Assert.Equal(Id(hyper: "{\"k\":5,\"weights\":\"distance\"}"), Id(hyper: "{\"weights\":\"distance\",\"k\":5}"));
        Assert.Equal(Id(hyper: "{\"k\":5}"), Id(hyper: "{ \"k\" : 5 }"));
    }

    [Fact]
    public void Train_hosts_order_does_not_change_the_id()
    {
        Assert.Equal(Id(hosts: ["elliott-thinkpad", "k-gamingcom"]), Id(hosts: ["k-gamingcom", "elliott-thinkpad"]));
        Assert.Equal(
            JobIds.CanonicalTuple("knn", "oracle", "{}", "host", ["b", "a"], 1),
            JobIds.CanonicalTuple("knn", "oracle", "{}", "host", ["a", "b"], 1));
    }

    public static TheoryData<string, string> OneFieldChanged => new()
    {
        { "model", Id(model: "mlp") },
        { "mode", Id(mode: "oracle") },
        { "hyper value", Id(hyper: "{\"k\":11}") },
        { "hyper type (int 10 vs float 10.0)", Id(hyper: "{\"k\":10.0}") },
        { "hyper key", Id(hyper: "{\"kk\":10}") },
        { "hyper absent", Id(hyper: "{}") },
        { "split_recipe", Id(split: "time") },
        { "train_hosts", Id(hosts: ["k-gamingcom"]) },
        { "train_hosts added", Id(hosts: ["elliott-thinkpad", "k-gamingcom"]) },
        { "seed", Id(seed: 1) },
    };

    [Theory]
    [MemberData(nameof(OneFieldChanged))]
    public void Changing_any_one_field_changes_the_id(string field, string changedId)
    {
        Assert.False(Id() == changedId, $"changing {field} kept the id");
    }

    [Fact]
    public void Integer_and_float_hyper_values_stay_distinct_in_canonical_json()
    {
        var asInt = JobIds.CanonicalHyperJson(new Dictionary<string, object> { ["k"] = 1L });
        var asFloat = JobIds.CanonicalHyperJson(new Dictionary<string, object> { ["k"] = 1.0 });
        Assert.Equal("{\"k\":1}", asInt);
        Assert.Equal("{\"k\":1.0}", asFloat);
        Assert.NotEqual(Id(hyper: asInt), Id(hyper: asFloat));
    }

    [Fact]
    public void Canonical_hyper_json_writes_every_supported_value_type()
    {
        var json = JobIds.CanonicalHyperJson(new Dictionary<string, object>
        {
            ["s"] = "x", ["b"] = true, ["f"] = 0.25, ["i"] = 3, ["l"] = 4L, ["big"] = 1e300,
        });
        Assert.Equal("{\"b\":true,\"big\":1E+300,\"f\":0.25,\"i\":3,\"l\":4,\"s\":\"x\"}", json);
    }

    [Fact]
    public void Canonical_hyper_json_rejects_non_finite_and_unsupported_values()
    {
        Assert.Throws<ArgumentException>(() => JobIds.CanonicalHyperJson(new Dictionary<string, object> { ["x"] = double.NaN }));
        Assert.Throws<ArgumentException>(() => JobIds.CanonicalHyperJson(new Dictionary<string, object> { ["x"] = DateTime.UnixEpoch }));
    }

    [Fact]
    public void Short_form_is_the_first_12_hex_digits()
    {
        var id = Id();
        Assert.Equal(id[..12], JobIds.Short(id));
        Assert.Equal("abc", JobIds.Short("abc"));
    }
}
