using System.Text.Json;

namespace Cis490.Shared.Models;

/// <summary>A job's hyper-parameters read against its model's declarations: given values, else the declared defaults.</summary>
public sealed class HyperValues
{
    private readonly ModelDefinition _model;
    private readonly Dictionary<string, JsonElement> _given;

    public HyperValues(ModelDefinition model, string hyperJson)
    {
        _model = model;
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(hyperJson) ? "{}" : hyperJson);
        _given = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        foreach (var key in _given.Keys)
            if (model.Find(key) is null)
                throw new ArgumentException($"model '{model.Name}' has no hyper-parameter '{key}'");
    }

    public long GetInt(string name) => _given.TryGetValue(Declared(name, HyperKind.Int).Name, out var v) ? v.GetInt64() : (long)_model.Find(name)!.Default;

    public double GetFloat(string name) => _given.TryGetValue(Declared(name, HyperKind.Float).Name, out var v) ? v.GetDouble() : Convert.ToDouble(_model.Find(name)!.Default);

    public bool GetBool(string name) => _given.TryGetValue(Declared(name, HyperKind.Bool).Name, out var v) ? v.GetBoolean() : (bool)_model.Find(name)!.Default;

    public string GetString(string name) => _given.TryGetValue(Declared(name, HyperKind.String).Name, out var v) ? v.GetString()! : (string)_model.Find(name)!.Default;

    private HyperParameter Declared(string name, HyperKind kind)
    {
        var decl = _model.Find(name) ?? throw new ArgumentException($"model '{_model.Name}' declares no hyper-parameter '{name}'");
        return decl.Kind == kind ? decl : throw new ArgumentException($"{_model.Name}.{name} is {decl.Kind}, not {kind}");
    }
}
