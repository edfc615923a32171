using Cis490.Shared.Models;
using Cis490.Training.Models;

namespace Cis490.Training.Neural.Tests;

/// <summary>The neural families against the catalog the coordinator validates manifests with.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public void The_registered_families_are_the_catalogs_torchsharp_models()
    {
        var declared = ModelCatalog.Declared.Values.Where(m => m.Engine.Contains("TorchSharp", StringComparison.Ordinal)).Select(m => m.Name);
        Assert.Equal(declared.Order(), NeuralFamilies.Names.Order());

        NeuralFamilies.Register();
        Assert.All(NeuralFamilies.Names, name => Assert.Equal(name, ModelFamilies.Get(name).Name));
        Assert.All(NeuralFamilies.Names, name => Assert.Contains(name, ModelFamilies.Names));
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("gru")]
    [InlineData("lstm")]
    [InlineData("transformer")]
    public void Every_declared_hyper_parameter_of_a_family_has_a_default_the_trainer_reads(string family)
    {
        // HyperValues refuses names the catalog does not declare, so reading each default proves the trainer's names exist.
        var hyper = new HyperValues(ModelCatalog.Declared[family], "{}");
        var settings = TrainSettings.From(hyper, NeuralFamily.DefaultSeed);
        Assert.Equal((1e-3, 1e-4, 40, 8, 10.0), (settings.Lr, settings.WeightDecay, settings.MaxEpochs, settings.Patience, settings.ClassWeightClip));
        Assert.Equal(family == "mlp" ? 256 : 128, settings.BatchSize);
        Assert.Equal("auto", hyper.GetString("device"));
        Assert.Equal(0.1, hyper.GetFloat("dropout"));
    }

    [Fact]
    public void A_transformer_whose_heads_do_not_divide_its_width_is_refused_before_training()
    {
        var error = Assert.Throws<ArgumentException>(() => new TransformerFamily().Train(null!,
            new HyperValues(ModelCatalog.Transformer, """{"d_model": 30, "heads": 4, "device": "cpu"}"""), _ => { }, CancellationToken.None));
        Assert.Contains("heads (4) must divide d_model (30)", error.Message);
    }
}
