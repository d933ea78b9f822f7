using System.Diagnostics.Metrics;
using System.Globalization;

namespace Synod.Tests;

/// <summary>The Meter "Synod" read by a MeterListener, and MetricsText, after real proposals.</summary>
public sealed class MetricsTests
{
    private const string Commit = "synod_proposal_commit_latency_seconds";

    /// <summary>One collection's measurements: (instrument, tags as "k=v,..." sorted) → value.</summary>
    private sealed class Collected
    {
        internal readonly Dictionary<(string Instrument, string Tags), double> Values = new();
        internal readonly Dictionary<string, Instrument> Instruments = new();

        internal double Get(string instrument, params (string Key, string Value)[] tags)
        {
            string key = Key(tags);
            Assert.True(Values.TryGetValue((instrument, key), out double v), $"no measurement of {instrument} {{{key}}}");
            return v;
        }

        internal double GetOr(double otherwise, string instrument, params (string Key, string Value)[] tags) =>
            Values.TryGetValue((instrument, Key(tags)), out double v) ? v : otherwise;

        internal static string Key(IEnumerable<(string Key, string Value)> tags) =>
            string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
    }

    private static Collected Collect(ulong cluster)
    {
        var collected = new Collected();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SynodMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var list = new List<(string, string)>();
            bool ours = false;
            foreach (KeyValuePair<string, object?> t in tags)
            {
                string v = Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? "";
                ours |= t.Key == "cluster" && v == cluster.ToString(CultureInfo.InvariantCulture);
                list.Add((t.Key, v));
            }
            if (ours)
            {
                collected.Values[(instrument.Name, Collected.Key(list))] = value;
                collected.Instruments[instrument.Name] = instrument;
            }
        }
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();
        listener.RecordObservableInstruments();
        return collected;
    }

    /// <summary>A collection once <paramref name="ok"/> holds for it. The engine adds a cycle's
    /// request latencies at the end of the cycle, just after answering the requests, so a
    /// histogram may count a request a moment after its caller has the answer.</summary>
    private static async Task<Collected> CollectUntil(ulong cluster, Func<Collected, bool> ok)
    {
        Collected collected = Collect(cluster);
        await Eventually.Until(() => ok(collected = Collect(cluster)), "the metrics reach the expected values");
        return collected;
    }

    private static (string, string)[] Node(ulong cluster, ulong node, params (string, string)[] more) =>
        new[] { ("cluster", cluster.ToString(CultureInfo.InvariantCulture)), ("node", node.ToString(CultureInfo.InvariantCulture)) }
            .Concat(more).ToArray();

    [Fact]
    public async Task TheMeterReportsRealValuesThatGrowWithProposals()
    {
        const ulong cluster = 181;
        await using TestCluster c = TestCluster.Start(3, adjust: cfg => cfg.ClusterId = cluster);
        TestNode leader = await c.LeaderAsync();
        for (int i = 0; i < 10; i++)
        {
            Assert.True((await leader.Node.ReplicateLogsAsync(1, "Metric", new byte[] { (byte)i })).Success);
        }
        await leader.Node.ReadIndexAsync(1);

        var me = Node(cluster, leader.Id);
        Collected first = await CollectUntil(cluster, c => c.GetOr(0, Commit + "_count", me) >= 10
                                                           && c.GetOr(0, "synod_read_index_latency_seconds_count", me) >= 1);
        Assert.True(first.Get(Commit + "_count", me) >= 10);
        Assert.True(first.Get(Commit + "_sum", me) > 0);
        Assert.Equal(first.Get(Commit + "_count", me), first.Get(Commit + "_bucket", Node(cluster, leader.Id, ("le", "+Inf"))));
        Assert.True(first.Get("synod_read_index_latency_seconds_count", me) >= 1);
        Assert.True(first.Get("synod_storage_entries_total", me) >= 10);
        Assert.True(first.Get("synod_elections_won_total", Node(cluster, leader.Id, ("partition", "1"))) >= 1);
        foreach (TestNode n in c.Nodes)
        {
            Assert.Equal(leader.Id, (ulong)first.Get("synod_partition_leader", Node(cluster, n.Id, ("partition", "1"))));
        }

        // Instrument kinds and units.
        Assert.IsType<ObservableCounter<long>>(first.Instruments["synod_storage_entries_total"]);
        Assert.IsType<ObservableGauge<double>>(first.Instruments["synod_partition_term"]);
        Assert.IsType<ObservableCounter<long>>(first.Instruments[Commit + "_bucket"]);
        Assert.IsType<ObservableCounter<double>>(first.Instruments[Commit + "_sum"]);
        Assert.Equal("s", first.Instruments[Commit + "_sum"].Unit);
        Assert.Equal("Synod", first.Instruments[Commit + "_count"].Meter.Name);
        Assert.False(string.IsNullOrEmpty(first.Instruments["synod_storage_entries_total"].Description));

        // Buckets are cumulative and end at the count.
        double[] buckets = first.Values
            .Where(kv => kv.Key.Instrument == Commit + "_bucket" && kv.Key.Tags.Contains($"node={leader.Id}"))
            .Select(kv => kv.Value).Order().ToArray();
        Assert.True(buckets.Length > 2);
        Assert.Equal(first.Get(Commit + "_count", me), buckets[^1]);

        for (int i = 0; i < 5; i++)
        {
            Assert.True((await leader.Node.ReplicateLogsAsync(1, "Metric", new byte[] { (byte)i })).Success);
        }
        Collected second = await CollectUntil(cluster, c => c.GetOr(0, Commit + "_count", me) >= first.Get(Commit + "_count", me) + 5);
        Assert.True(second.Get(Commit + "_count", me) >= first.Get(Commit + "_count", me) + 5);
        Assert.True(second.Get("synod_storage_entries_total", me) >= first.Get("synod_storage_entries_total", me) + 5);
    }

    [Fact]
    public async Task OneCollectionReadsEachNodeOnce()
    {
        await using TestCluster c = TestCluster.Start(1, adjust: cfg => cfg.ClusterId = 182);
        TestNode node = await c.LeaderAsync();
        SynodMetrics.Source source = node.Node.MetricsSource!;
        long before = source.Reads;
        Collected collected = Collect(182);
        Assert.True(collected.Instruments.Count > 20, $"only {collected.Instruments.Count} instruments");
        Assert.Equal(before + 1, source.Reads);
        Collect(182);
        Assert.Equal(before + 2, source.Reads);
    }

    [Fact]
    public async Task DisposedNodesAreNoLongerObserved()
    {
        TestCluster c = TestCluster.Start(1, adjust: cfg => cfg.ClusterId = 183);
        await c.LeaderAsync();
        Assert.NotEmpty(Collect(183).Values);
        await c.DisposeAsync();
        Assert.Empty(Collect(183).Values);
    }

    [Fact]
    public async Task MetricsTextIsPrometheusText()
    {
        await using TestCluster c = TestCluster.Start(1, adjust: cfg => cfg.ClusterId = 184);
        TestNode node = await c.LeaderAsync();
        for (int i = 0; i < 3; i++)
        {
            Assert.True((await node.Node.ReplicateLogsAsync(1, "Metric", new byte[] { 1 })).Success);
        }
        await CollectUntil(184, c => c.GetOr(0, Commit + "_count", Node(184, node.Id)) >= 3);
        // Nothing is proposed from here on: the text and the Meter agree.
        string text = node.Node.MetricsText();
        Assert.Contains($"# TYPE {Commit} histogram\n", text);
        string countLine = text.Split('\n').Single(l => l.StartsWith(Commit + "_count ", StringComparison.Ordinal));
        Assert.True(double.Parse(countLine.Split(' ')[1], CultureInfo.InvariantCulture) >= 3);
        Assert.Contains($"synod_partition_leader{{partition=\"1\"}} {node.Id}\n", text);
        // The Meter's buckets are the text's, with the same "le" values (nothing is proposed
        // between the two reads).
        Collected collected = Collect(184);
        var buckets = collected.Values.Where(kv => kv.Key.Instrument == Commit + "_bucket").ToList();
        Assert.True(buckets.Count > 2);
        foreach (var ((_, tags), value) in buckets)
        {
            string le = tags.Split(',').Single(t => t.StartsWith("le=", StringComparison.Ordinal))[3..];
            Assert.Contains($"{Commit}_bucket{{le=\"{le}\"}} {value.ToString(CultureInfo.InvariantCulture)}\n", text);
        }
        await node.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => node.Node.MetricsText());
    }
}
