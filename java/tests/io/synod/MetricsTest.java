package io.synod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MetricsTest {
  private static final String COMMIT = "synod_proposal_commit_latency_seconds";

  private static void replicate(RaftNode leader, int count) throws Exception {
    for (int i = 0; i < count; i++) {
      leader.replicate(1, "Metric", ("m" + i).getBytes(StandardCharsets.UTF_8))
          .get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  /**
   * {@code node.metrics()} once {@code ok} holds for it. The engine adds a cycle's request
   * latencies at the end of the cycle, just after answering the requests, so a histogram may
   * count a request a moment after its caller has the answer.
   */
  private static Metrics eventually(RaftNode node, java.util.function.Predicate<Metrics> ok) {
    Metrics[] last = new Metrics[1];
    TestCluster.eventually("the metrics reach the expected values",
                           () -> ok.test(last[0] = node.metrics()));
    return last[0];
  }

  @Test
  void metricsHoldRealValuesThatGrowWithProposals() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode leader = cluster.leader(1);
      replicate(leader, 10);
      leader.readIndex(1).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);

      Metrics first = eventually(leader, m -> m.sample(COMMIT).count() >= 10
          && m.sample("synod_read_index_latency_seconds").count() >= 1);
      assertEquals(leader.id(), first.node());
      Metrics.Family commit = first.family(COMMIT);
      assertEquals(Metrics.Type.HISTOGRAM, commit.type());
      assertEquals("seconds", commit.unit());
      Metrics.Sample latency = first.sample(COMMIT);
      assertTrue(latency.count() >= 10, "commits counted: " + latency.count());
      assertTrue(latency.sum() > 0);
      assertEquals(commit.bounds().size(), latency.buckets().size());
      List<Long> buckets = latency.buckets();
      for (int i = 1; i < buckets.size(); i++) {
        assertTrue(buckets.get(i) >= buckets.get(i - 1), "cumulative buckets");
      }
      assertTrue(buckets.get(buckets.size() - 1) <= latency.count());
      assertTrue(first.sample("synod_read_index_latency_seconds").count() >= 1);
      assertEquals(Metrics.Type.COUNTER, first.family("synod_storage_entries_total").type());
      assertTrue(first.value("synod_storage_entries_total") >= 10);
      assertTrue(first.value("synod_elections_won_total", "partition", "1") >= 1);
      for (RaftNode node : cluster.nodes.values()) {
        assertEquals((double) leader.id(),
                     node.metrics().value("synod_partition_leader", "partition", "1"));
      }
      for (RaftNode node : cluster.nodes.values()) {
        if (node != leader) {
          first.sample("synod_follower_match_lag", "partition", "1", "peer",
                       Long.toString(node.id()));
        }
      }
      assertThrows(NoSuchElementException.class, () -> first.family("synod_no_such_metric"));
      assertThrows(NoSuchElementException.class,
                   () -> first.value("synod_partition_term", "partition", "99"));

      replicate(leader, 5);
      Metrics second = eventually(leader, m -> m.sample(COMMIT).count() >= latency.count() + 5);
      assertTrue(second.sample(COMMIT).count() >= latency.count() + 5);
      assertTrue(second.value("synod_storage_entries_total")
                 >= first.value("synod_storage_entries_total") + 5);
    }
  }

  @Test
  void metricsTextIsPrometheusTextWithTheSameFamilies() throws Exception {
    try (TestCluster cluster = new TestCluster(1)) {
      RaftNode node = cluster.leader(1);
      replicate(node, 3);
      eventually(node, m -> m.sample(COMMIT).count() >= 3);
      // Nothing is proposed from here on: the two reads agree on the commit count.
      String text = node.metricsText();
      Metrics metrics = node.metrics();
      assertTrue(text.contains("# TYPE " + COMMIT + " histogram\n"));
      Matcher count = Pattern.compile("^" + COMMIT + "_count (\\S+)$", Pattern.MULTILINE)
          .matcher(text);
      assertTrue(count.find(), text);
      assertEquals((double) metrics.sample(COMMIT).count(), Double.parseDouble(count.group(1)));
      assertTrue(metrics.sample(COMMIT).count() >= 3);
      Set<String> typed = new TreeSet<>();
      Matcher types = Pattern.compile("^# TYPE (\\S+) ", Pattern.MULTILINE).matcher(text);
      while (types.find()) {
        typed.add(types.group(1));
      }
      // The text leaves out families with no samples yet (here, with no followers, the lag).
      Set<String> sampled = new TreeSet<>();
      metrics.families().forEach((name, family) -> {
        if (!family.samples().isEmpty()) {
          sampled.add(name);
        }
      });
      assertEquals(typed, sampled);
      assertTrue(metrics.families().get("synod_follower_match_lag").samples().isEmpty());
      assertFalse(typed.isEmpty());
      node.close();
      assertThrows(ShuttingDownException.class, node::metrics);
      assertThrows(ShuttingDownException.class, node::metricsText);
    }
  }

  @Test
  void theJsonReaderReadsWhatTheLibraryWrites() {
    Object value = JsonReader.parse(
        " {\"a\": [1, -2, 3.5e1, \"x\\\"\\u00e9\\n\", true, false, null, {}], \"b\": {\"c\": []},"
        + " \"big\": 18446744073709551615}");
    assertEquals("{a=[1, -2, 35.0, x\"\u00e9\n, true, false, null, {}], b={c=[]}, big=-1}",
                 value.toString());
    assertThrows(IllegalArgumentException.class, () -> JsonReader.parse("{\"a\": 1"));
    assertThrows(IllegalArgumentException.class, () -> JsonReader.parse("[1 2]"));
    assertThrows(IllegalArgumentException.class, () -> JsonReader.parse("{} x"));
  }
}
