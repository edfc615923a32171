using Cis490.Shared.Models;

namespace Cis490.Shared.Tests;

public class HyperValuesTests
{
    [Theory]
    [InlineData("{}")]
    [InlineData("")]
    public void Missing_values_come_from_the_knn_declarations(string json)
    {
        var hyper = new HyperValues(ModelCatalog.Knn, json);
        Assert.Equal((long)ModelCatalog.Knn.Find("k")!.Default, hyper.GetInt("k"));
        Assert.Equal(10, hyper.GetInt("k"));
        Assert.Equal("uniform", hyper.GetString("weights"));
    }

    [Fact]
    public void Given_values_win_over_defaults()
    {
        var hyper = new HyperValues(ModelCatalog.Knn, "{\"k\":25,\"weights\":\"distance\"}");
        Assert.Equal(25, hyper.GetInt("k"));
        Assert.Equal("distance", hyper.GetString("weights"));
    }

    [Fact]
    public void Unknown_key_in_the_json_throws_and_names_it()
    {
        var e = Assert.Throws<ArgumentException>(() => new HyperValues(ModelCatalog.Knn, "{\"k\":3,\"depth\":4}"));
        Assert.Contains("'depth'", e.Message);
        Assert.Contains("knn", e.Message);
    }

    [Fact]
    public void Reading_an_undeclared_or_mistyped_parameter_throws()
    {
        var hyper = new HyperValues(ModelCatalog.Knn, "{}");
        Assert.Throws<ArgumentException>(() => hyper.GetInt("depth"));
        Assert.Throws<ArgumentException>(() => hyper.GetString("k"));
        Assert.Throws<ArgumentException>(() => hyper.GetFloat("k"));
    }
}
