using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text.Json;

namespace Synod;

/// <summary>
/// The engine's metrics (README.md, "Metrics") as a <see cref="System.Diagnostics.Metrics.Meter"/>
/// named <see cref="MeterName"/>, which dotnet-counters (<c>--counters Synod</c>), OpenTelemetry
/// (<c>AddMeter("Synod")</c>) and any <see cref="MeterListener"/> read with no other code.
/// </summary>
/// <remarks>
/// <para>The instruments are made once per process, the first time a node starts, one per
/// metric family, with the family's name, help text and unit ("s", "By"). Each observes every
/// running node: its measurements carry the tags <c>cluster</c> and <c>node</c> (the ids, as
/// strings) plus the family's own labels (<c>partition</c>, <c>peer</c>, ...).</para>
/// <para>Counters are <see cref="ObservableCounter{T}"/> of <see cref="long"/> (cumulative
/// totals), gauges <see cref="ObservableGauge{T}"/> of <see cref="double"/>. A histogram cannot
/// be an observable instrument in System.Diagnostics.Metrics (a <see cref="Histogram{T}"/> takes
/// single observations, and the engine keeps only bucket counts), so each histogram family
/// <c>F</c> is three observable counters holding everything the engine has, named as its
/// Prometheus series are: <c>F_bucket</c> (long, cumulative count of observations at or below
/// the tag <c>le</c>, the bucket's upper bound as the Prometheus text writes it, "+Inf"
/// last), <c>F_sum</c> (double, in the family's unit) and <c>F_count</c> (long).</para>
/// <para>One collection reads each node's metrics once (one <c>synod_node_metrics_json</c>
/// call), however many instruments it observes: a node's reading is kept until an instrument
/// asks for it a second time, which starts the next collection.</para>
/// </remarks>
public static class SynodMetrics
{
    /// <summary>The name of the Meter: "Synod".</summary>
    public const string MeterName = "Synod";

    private static readonly object Gate = new();
    private static readonly List<Source> Sources = new();
    private static readonly HashSet<string> Families = new();
    private static Meter? _meter;
    private static int _nextInstrument;

    /// <summary>Starts observing <paramref name="node"/> (running), making the instruments of
    /// families not seen before.</summary>
    internal static Source Register(RaftNode node)
    {
        var source = new Source(node);
        string? json = node.TryMetricsJson();
        MetricsReading? first = json is null ? null : MetricsReading.Parse(json);
        lock (Gate)
        {
            _meter ??= new Meter(MeterName, typeof(SynodMetrics).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
            if (first is not null)
            {
                foreach (Family family in first.Families.Values)
                {
                    if (Families.Add(family.Name))
                    {
                        CreateInstruments(_meter, family);
                    }
                }
            }
            Sources.Add(source);
        }
        return source;
    }

    /// <summary>Stops observing the node of <paramref name="source"/>.</summary>
    internal static void Unregister(Source source)
    {
        lock (Gate)
        {
            Sources.Remove(source);
        }
    }

    private static string? Unit(string unit) => unit switch
    {
        "seconds" => "s",
        "bytes" => "By",
        _ => null,
    };

    private static void CreateInstruments(Meter meter, Family family)
    {
        string name = family.Name;
        string? unit = Unit(family.Unit);
        string help = family.Help;
        switch (family.Type)
        {
            case "counter":
            {
                int id = Interlocked.Increment(ref _nextInstrument);
                meter.CreateObservableCounter<long>(name, () => Observe<long>(id, name, (s, tags, into) =>
                    into.Add(new Measurement<long>(s.Integer, tags))), unit, help);
                break;
            }
            case "gauge":
            {
                int id = Interlocked.Increment(ref _nextInstrument);
                meter.CreateObservableGauge<double>(name, () => Observe<double>(id, name, (s, tags, into) =>
                    into.Add(new Measurement<double>(s.Value, tags))), unit, help);
                break;
            }
            case "histogram":
            {
                int buckets = Interlocked.Increment(ref _nextInstrument);
                meter.CreateObservableCounter<long>(name + "_bucket", () => Observe<long>(buckets, name, (s, tags, into) =>
                {
                    for (int i = 0; i < s.Buckets.Length; i++)
                    {
                        into.Add(new Measurement<long>(s.Buckets[i], WithLe(tags, family.BoundLabels[i])));
                    }
                    into.Add(new Measurement<long>(s.Count, WithLe(tags, "+Inf")));
                }), null, help + " (cumulative count of observations at or below le)");
                int sum = Interlocked.Increment(ref _nextInstrument);
                meter.CreateObservableCounter<double>(name + "_sum", () => Observe<double>(sum, name, (s, tags, into) =>
                    into.Add(new Measurement<double>(s.Sum, tags))), unit, help + " (sum of observations)");
                int count = Interlocked.Increment(ref _nextInstrument);
                meter.CreateObservableCounter<long>(name + "_count", () => Observe<long>(count, name, (s, tags, into) =>
                    into.Add(new Measurement<long>(s.Count, tags))), null, help + " (count of observations)");
                break;
            }
        }
    }

    private static KeyValuePair<string, object?>[] WithLe(KeyValuePair<string, object?>[] tags, string le)
    {
        var all = new KeyValuePair<string, object?>[tags.Length + 1];
        tags.CopyTo(all, 0);
        all[^1] = new KeyValuePair<string, object?>("le", le);
        return all;
    }

    private static IEnumerable<Measurement<T>> Observe<T>(int instrument, string family,
        Action<Sample, KeyValuePair<string, object?>[], List<Measurement<T>>> emit) where T : struct
    {
        Source[] sources;
        lock (Gate)
        {
            sources = Sources.ToArray();
        }
        var measurements = new List<Measurement<T>>();
        foreach (Source source in sources)
        {
            MetricsReading? reading = source.Read(instrument);
            if (reading is null || !reading.Families.TryGetValue(family, out Family? f))
            {
                continue;
            }
            foreach (Sample sample in f.Samples)
            {
                var tags = new KeyValuePair<string, object?>[2 + sample.Labels.Length];
                tags[0] = new KeyValuePair<string, object?>("cluster", source.Cluster);
                tags[1] = new KeyValuePair<string, object?>("node", source.Node);
                sample.Labels.CopyTo(tags, 2);
                emit(sample, tags, measurements);
            }
        }
        return measurements;
    }

    /// <summary>One node, observed: its latest reading and the instruments that used it.</summary>
    internal sealed class Source
    {
        private readonly RaftNode _node;
        private readonly object _lock = new();
        private readonly HashSet<int> _observed = new();
        private MetricsReading? _current;

        internal Source(RaftNode node)
        {
            _node = node;
            Node = node.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Cluster = node.ClusterId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        internal string Node { get; }

        internal string Cluster { get; }

        /// <summary>How many times the node's metrics were read (for tests).</summary>
        internal long Reads { get; private set; }

        /// <summary>The reading for <paramref name="instrument"/>: the current one unless that
        /// instrument already had it (a new collection), then a new one. Null when the node
        /// is no longer running.</summary>
        internal MetricsReading? Read(int instrument)
        {
            lock (_lock)
            {
                if (_current is null || !_observed.Add(instrument))
                {
                    string? json = _node.TryMetricsJson();
                    if (json is null)
                    {
                        return null;
                    }
                    _current = MetricsReading.Parse(json);
                    Reads++;
                    _observed.Clear();
                    _observed.Add(instrument);
                }
                return _current;
            }
        }
    }

    internal sealed record Sample(KeyValuePair<string, object?>[] Labels, long Integer, double Value,
                                  long[] Buckets, long Count, double Sum);

    internal sealed record Family(string Name, string Help, string Type, string Unit,
                                  string[] BoundLabels, List<Sample> Samples);

    /// <summary>One synod_node_metrics_json reading, by family name.</summary>
    internal sealed class MetricsReading
    {
        private MetricsReading(Dictionary<string, Family> families) => Families = families;

        internal Dictionary<string, Family> Families { get; }

        internal static MetricsReading Parse(string json)
        {
            using JsonDocument document = JsonDocument.Parse(json);
            var families = new Dictionary<string, Family>();
            foreach (JsonElement f in document.RootElement.GetProperty("families").EnumerateArray())
            {
                string type = f.GetProperty("type").GetString() ?? "";
                string[] labelNames = f.TryGetProperty("labels", out JsonElement l)
                    ? l.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : [];
                // The bounds as the "le" label, written as the library writes them (the same
                // shortest form as its Prometheus text: "1e-04", "0.0016", "64").
                string[] bounds = f.TryGetProperty("bounds", out JsonElement b)
                    ? b.EnumerateArray().Select(e => e.GetRawText()).ToArray()
                    : [];
                var samples = new List<Sample>();
                foreach (JsonElement s in f.GetProperty("samples").EnumerateArray())
                {
                    JsonElement labels = s.GetProperty("labels");
                    var tags = labelNames.Select(n => new KeyValuePair<string, object?>(
                        n, labels.TryGetProperty(n, out JsonElement v) ? v.GetString() : "")).ToArray();
                    if (type == "histogram")
                    {
                        samples.Add(new Sample(tags, 0, 0,
                            s.GetProperty("buckets").EnumerateArray().Select(e => checked((long)e.GetUInt64())).ToArray(),
                            checked((long)s.GetProperty("count").GetUInt64()), s.GetProperty("sum").GetDouble()));
                    }
                    else
                    {
                        JsonElement v = s.GetProperty("value");
                        long integer = v.TryGetInt64(out long i) ? i : (long)v.GetDouble();
                        samples.Add(new Sample(tags, integer, v.GetDouble(), [], 0, 0));
                    }
                }
                string name = f.GetProperty("name").GetString() ?? "";
                families[name] = new Family(name, f.TryGetProperty("help", out JsonElement h) ? h.GetString() ?? "" : "",
                                            type, f.TryGetProperty("unit", out JsonElement u) ? u.GetString() ?? "" : "",
                                            bounds, samples);
            }
            return new MetricsReading(families);
        }
    }
}
