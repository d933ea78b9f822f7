using System.Collections;

namespace Synod;

/// <summary>
/// One engine log line as ILogger state: the text "node {NodeId}: {Message}" and its named
/// values NodeId, Message, and Partition and Term when the line concerns a partition (and
/// its term is known), so that structured providers (Serilog, OpenTelemetry, JSON console)
/// record them as properties, as they do for a message template's values.
/// </summary>
internal sealed class EngineLogState : IReadOnlyList<KeyValuePair<string, object?>>
{
    private const string Template = "node {NodeId}: {Message}";
    private readonly KeyValuePair<string, object?>[] _values;
    private readonly string _text;

    internal EngineLogState(ulong nodeId, string message, int? partition, ulong? term)
    {
        _text = $"node {nodeId}: {message}";
        var values = new List<KeyValuePair<string, object?>>(5)
        {
            new("NodeId", nodeId),
            new("Message", message),
        };
        if (partition is int p)
        {
            values.Add(new("Partition", p));
        }
        if (term is ulong t)
        {
            values.Add(new("Term", t));
        }
        values.Add(new("{OriginalFormat}", Template));
        _values = values.ToArray();
    }

    internal static readonly Func<EngineLogState, Exception?, string> Format = (state, _) => state._text;

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public int Count => _values.Length;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _text;
}
