namespace Cis490.Protocols.Operator;

/// <summary>An operator request that only reads: asking it twice changes nothing. The operator endpoint and the shell's client
/// send a read again when its answer does not come within a short try (a read lost on its way to a node that crashed is
/// answered by the next try, once the singleton runs on its new node); writes are sent once and never repeated.</summary>
public interface IOperatorRead : ICis490Message;
