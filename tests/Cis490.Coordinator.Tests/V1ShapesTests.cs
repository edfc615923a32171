using System.Text.Json;
using Cis490.Coordinator.Http;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>Every body shape the <c>/v1</c> worker endpoints accept from the earlier fleet's workers (docs/http-api.md, "What /v1
/// accepts"), read by the pure functions behind them, and the values they refuse.</summary>
public sealed class V1ShapesTests
{
    private static V1Fields Body(string json) => V1Fields.Of(JsonDocument.Parse(json).RootElement.Clone());

    private static V1Contracts.CapabilityBody Capability(string json)
    {
        var c = V1Shapes.Capability(Body(json), out var problem);
        Assert.True(problem is null, problem?.ToString());
        return c;
    }

    [Theory]
    [InlineData("""{"worker_id":"w","capability":{"hostname":"pi","cores":4,"ram_gib":16}}""")] // today's documented shape
    [InlineData("""{"worker_id":"w","hostname":"pi","cores":4,"ram_gib":16}""")] // flat
    [InlineData("""{"worker_id":"w","host":"pi","cpu_count":"4","ram_gb":16}""")] // other spellings, a number as text
    [InlineData("""{"workerId":"w","capabilities":{"HostName":"pi","num_cpus":4.0,"ram_mb":16384}}""")] // camelCase, MB
    [InlineData("""{"worker":"w","system_info":{"node":"pi","nproc":4},"ram_bytes":17179869184}""")] // nested + flat mixed
    [InlineData("""{"worker_id":"w","hostname":"pi","cores":4,"ram":17179869184}""")] // unit-less bytes (psutil)
    [InlineData("""{"worker_id":"w","hostname":"pi","cores":4,"ram":16}""")] // unit-less GiB
    [InlineData("""{"worker_id":"w","hostname":"pi","cores":4,"memory":16777216}""")] // unit-less KiB (/proc/meminfo)
    [InlineData("""{"worker_id":"w","hostname":"pi","cores":4,"ram":"16 GiB"}""")] // a unit in the text
    [InlineData("""{"worker_id":"w","hostname":"pi","cores":4,"memory":"16384MB"}""")]
    public void A_capability_is_read_flat_or_nested_under_any_common_spelling_and_unit(string json)
    {
        var c = Capability(json);

        Assert.Equal("pi", c.Hostname);
        Assert.Equal(4, c.Cores);
        Assert.Equal(16, c.RamGib!.Value, 3);
    }

    [Fact]
    public void Cuda_vram_device_torch_commit_and_os_have_their_spellings_and_unknown_fields_are_listed_not_dropped()
    {
        var body = Body("""
            {"worker_id":"gpu-1","hostname":"gpu-box","cuda":"yes","vram_mb":24576,"gpu_name":"RTX 4090","torch":"2.1.0+cu121",
             "commit":"abc123","platform":"Linux-6.1","favourite_colour":"blue","lease_id":null}
            """);
        var c = V1Shapes.Capability(body, out var problem);
        _ = V1Shapes.WorkerId(body, new Microsoft.AspNetCore.Http.DefaultHttpContext().Request, out _);

        Assert.Null(problem);
        Assert.Equal((true, 24.0, "RTX 4090", "2.1.0+cu121", "abc123", "Linux-6.1"), (c.Cuda!.Value, c.VramGib!.Value, c.CudaDevice, c.TorchVersion, c.GitCommit, c.Os));
        Assert.Equal(["favourite_colour"], body.Unused);
        Assert.Null(c.Problem());
    }

    [Fact]
    public void A_cuda_object_says_whether_it_is_usable_and_carries_its_device_and_memory()
    {
        var c = Capability("""{"worker_id":"g","cuda":{"available":false,"device_name":"GTX 1060","memory_gb":6}}""");

        Assert.Equal((false, 6.0, "GTX 1060"), (c.Cuda!.Value, c.VramGib!.Value, c.CudaDevice));
    }

    [Fact]
    public void The_families_a_worker_can_train_come_as_a_list_or_a_string_and_an_unknown_family_is_refused()
    {
        var listed = Capability("""{"worker_id":"pi","capability":{"families":["knn","gbt"]}}""");
        var text = Capability("""{"worker_id":"pi","models":"KNN, gbt"}""");
        var none = Capability("""{"worker_id":"pi"}""");
        var unknown = Capability("""{"worker_id":"pi","families":["knn","gpt-9"]}""");

        Assert.Equal(["gbt", "knn"], listed.ToCapability("pi").Families);
        Assert.Equal(["gbt", "knn"], text.ToCapability("pi").Families);
        Assert.Null(none.ToCapability("pi").Families); // said nothing: every family is offered
        Assert.Equal("families", unknown.Problem()!.Field);
        Assert.Contains("'gpt-9' is not a model family", unknown.Problem()!.Message);
    }

    [Theory]
    [InlineData("""{"families":{"knn":true}}""", "families", "list of model families")]
    [InlineData("""{"cores":"many"}""", "cores", "must be a number")]
    [InlineData("""{"cores":2.5}""", "cores", "whole number")]
    [InlineData("""{"capability":{"cuda":"perhaps"}}""", "capability.cuda", "true or false")]
    [InlineData("""{"ram":"lots"}""", "ram", "must be a number")]
    [InlineData("""{"hostname":{"a":1}}""", "hostname", "must be text")]
    public void A_capability_value_that_is_there_but_unusable_is_refused_naming_the_field_as_sent(string json, string field, string message)
    {
        V1Shapes.Capability(Body(json), out var problem);

        Assert.NotNull(problem);
        Assert.Equal(field, problem.Field);
        Assert.Contains(message, problem.Message);
    }

    [Theory]
    [InlineData("""{"progress":0.25}""", 25, 100, null, "25%")] // a fraction
    [InlineData("""{"progress":45}""", 45, 100, null, "45%")] // a percentage
    [InlineData("""{"progress":"45%"}""", 45, 100, null, "45%")]
    [InlineData("""{"progress":"0.5"}""", 50, 100, null, "50%")]
    [InlineData("""{"progress":"epoch 3/20"}""", 3, 20, null, "epoch 3/20")]
    [InlineData("""{"progress":"7 of 10 epochs"}""", 7, 10, null, "7 of 10 epochs")]
    [InlineData("""{"progress":"loading tensors"}""", null, null, null, "loading tensors")]
    [InlineData("""{"progress":{"epoch":3,"total_epochs":20,"loss":0.4,"val_macro_f1":0.6}}""", 3, 20, 0.6, null)] // today's object
    [InlineData("""{"progress":{"current_epoch":3,"epochs":20,"val_f1":0.6,"msg":"ok"}}""", 3, 20, 0.6, "ok")]
    [InlineData("""{"epoch":3,"max_epochs":20,"f1":0.6}""", 3, 20, 0.6, null)] // flat
    [InlineData("""{"progress":{"percent":80,"status":"evaluating"}}""", 80, 100, null, "evaluating")]
    [InlineData("""{"fraction":0.1}""", 10, 100, null, "10%")]
    public void Progress_is_a_fraction_a_percentage_text_or_an_object_nested_or_flat(string json, int? epoch, int? total, double? f1, string? message)
    {
        var p = V1Shapes.Progress(Body(json), out var problem);

        Assert.Null(problem);
        Assert.NotNull(p);
        Assert.Equal((epoch, total, f1, message), (p.Epoch, p.TotalEpochs, p.ValMacroF1, p.Message));
    }

    [Fact]
    public void A_heartbeat_without_progress_has_none_and_bad_progress_is_refused()
    {
        Assert.Null(V1Shapes.Progress(Body("""{"worker_id":"w"}"""), out var none));
        Assert.Null(none);

        V1Shapes.Progress(Body("""{"progress":-3}"""), out var negative);
        V1Shapes.Progress(Body("""{"progress":true}"""), out var flag);
        V1Shapes.Progress(Body("""{"progress":{"loss":"low"}}"""), out var loss);

        Assert.Equal("progress", negative!.Field);
        Assert.Equal("progress", flag!.Field);
        Assert.Equal("progress.loss", loss!.Field);
    }

    [Theory]
    [InlineData("""{"error":"CUDA out of memory"}""", "CUDA out of memory")]
    [InlineData("""{"message":"boom"}""", "boom")]
    [InlineData("""{"reason":"killed"}""", "killed")]
    [InlineData("""{"error":"ValueError: k","traceback":"Traceback (most recent call last):\n  x"}""", "ValueError: k\nTraceback (most recent call last):\n  x")]
    [InlineData("""{"exception":{"type":"OSError","errno":28}}""", """{"type":"OSError","errno":28}""")]
    public void A_failure_text_comes_from_any_common_field_with_its_traceback(string json, string expected) =>
        Assert.Equal(expected, V1Shapes.FailText(Body(json)));

    [Fact]
    public void Metrics_come_nested_or_as_flat_score_fields_and_a_non_number_is_refused()
    {
        var body = Body("""{"worker_id":"w","metrics":{"val_macro_f1":0.61,"epochs":"12"},"test_accuracy":0.7,"duration":33}""");
        _ = V1Shapes.WorkerId(body, new Microsoft.AspNetCore.Http.DefaultHttpContext().Request, out _);
        var m = V1Shapes.Metrics(body, out var problem);

        Assert.Null(problem);
        Assert.Equal(new Dictionary<string, double> { ["val_macro_f1"] = 0.61, ["epochs"] = 12, ["test_accuracy"] = 0.7 }, m);

        V1Shapes.Metrics(Body("""{"metrics":[0.6]}"""), out var notObject);
        Assert.Equal("metrics", notObject!.Field);
    }

    [Theory]
    [InlineData("0C1CF40C0C1CF40C0C1CF40C0C1CF40C0C1CF40C0C1CF40C0C1CF40C0C1CF40C")]
    [InlineData("sha256:0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c")]
    [InlineData("DBz0DAwc9AwMHPQMDBz0DAwc9AwMHPQMDBz0DAwc9Aw=")] // base64, as Digest headers carry it
    public void A_declared_sha256_is_hex_in_any_case_prefixed_or_base64(string declared) =>
        Assert.Equal("0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c0c1cf40c", V1Shapes.Sha256("sha256", declared, out _));

    [Fact]
    public void A_declared_sha256_that_is_not_one_is_refused() =>
        Assert.Null(V1Shapes.Sha256("X-Sha256", "md5:abc", out var p) ?? (p is null ? "accepted" : null));

    [Theory]
    [InlineData("pi-4", "10.0.0.7", "pi-4")]
    [InlineData(null, "10.0.0.7", "http-10.0.0.7")]
    [InlineData("bad host!", "::ffff:10.0.0.7", "http-ffff-10.0.0.7")]
    public void A_claim_that_names_no_worker_is_its_host_name_or_its_address(string? hostname, string address, string expected) =>
        Assert.Equal(expected, V1Shapes.DefaultWorkerId(hostname, address));
}
