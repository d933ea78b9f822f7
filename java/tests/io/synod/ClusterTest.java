package io.synod;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

class ClusterTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void threeNodesDeliverEveryEntryInOrderOnEveryNode() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode leader = cluster.leader(1);
      List<CompletableFuture<Replicated>> futures = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        futures.add(leader.replicate(1, 1 + i % 3, bytes("entry-" + i)));
      }
      long lastIndex = 0;
      for (CompletableFuture<Replicated> f : futures) {
        Replicated r = f.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(r.index() > lastIndex, "indexes grow in proposal order");
        lastIndex = r.index();
      }
      for (long id : cluster.nodes.keySet()) {
        List<Entry> seen = cluster.awaitEntries(id, 50);
        assertEquals(50, seen.size());
        for (int i = 0; i < 50; i++) {
          Entry e = seen.get(i);
          assertEquals(1, e.partition());
          assertEquals(LogType.of(1 + i % 3), e.type());
          assertArrayEquals(bytes("entry-" + i), e.data());
          assertEquals(futures.get(i).get().index(), e.index());
        }
      }
    }
  }

  @Test
  void batchesKeepTheirOrderAndReadIndexCoversAcknowledgedWrites() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode leader = cluster.leader(1);
      List<Replicated> placed = leader.replicateBatch(1, List.of(
          new Proposal(7, bytes("a")), new Proposal("Eight", new byte[0]), new Proposal(9, bytes("ccc"))))
          .get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      assertEquals(3, placed.size());
      assertEquals(placed.get(0).index() + 1, placed.get(1).index());
      assertEquals(placed.get(1).index() + 1, placed.get(2).index());
      long readIndex = leader.readIndex(1).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      assertTrue(readIndex >= placed.get(2).index());
      // The read completes after the listeners were given every entry through it.
      List<Entry> seen = cluster.entriesOf(leader.id());
      assertEquals(3, seen.size());
      assertEquals(List.of(LogType.of(7), LogType.of("Eight"), LogType.of(9)),
                   seen.stream().map(Entry::type).toList());
      assertArrayEquals(new byte[0], seen.get(1).data());
      assertArrayEquals(bytes("ccc"), seen.get(2).data());
    }
  }

  @Test
  void futuresCompleteOnTheConfiguredExecutorNeverOnThePollThread() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "host-executor"));
    AtomicInteger completions = new AtomicInteger();
    Executor counting = task -> {
      completions.incrementAndGet();
      pool.execute(task);
    };
    try (TestCluster cluster = new TestCluster(1, b -> b.executor(counting))) {
      RaftNode leader = cluster.leader(1);
      CompletableFuture<String> where = new CompletableFuture<>();
      leader.replicate(1, 1, bytes("x"))
          .whenComplete((r, e) -> where.complete(Thread.currentThread().getName()));
      // Registered at once: either the executor ran it, or it was already done (this thread).
      String thread = where.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      assertTrue(Set.of("host-executor", Thread.currentThread().getName()).contains(thread), thread);
      leader.readIndex(1).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      leader.replicateBatch(1, List.of(new Proposal(1, bytes("a")), new Proposal(1, bytes("b"))))
          .get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      assertEquals(3, completions.get(), "each request completed through the executor");
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void leaderChangesReachTheListenersAndTransferLeadershipMovesIt() {
    Map<Long, List<LeaderChange>> changes = new ConcurrentHashMap<>();
    try (TestCluster cluster = new TestCluster(3, b -> b.onLeaderChange(
        c -> changes.computeIfAbsent(c.partition(), k -> new CopyOnWriteArrayList<>()).add(c)))) {
      RaftNode leader = cluster.leader(1);
      cluster.await("a leader change of partition 1 naming the leader",
          () -> changes.getOrDefault(1L, List.of()).stream()
              .anyMatch(c -> c.leader().orElse(0) == leader.id()));
      long target = leader.id() % 3 + 1;
      leader.transferLeadership(1, target);
      RaftNode next = cluster.leader(1, List.of(1L, 2L, 3L), leader.id());
      assertEquals(target, next.id());
      cluster.await("the change to " + target + " reported",
          () -> changes.get(1L).stream().anyMatch(c -> c.leaderId() == target));
    }
  }

  @Test
  void partitionsStatusAndReportApplied() throws Exception {
    try (TestCluster cluster = new TestCluster(3, b -> b.userPartitions(3))) {
      RaftNode node = cluster.node(1);
      assertEquals(List.of(0L, 1L, 2L, 3L), node.partitions());
      RaftNode leader = cluster.leader(2);
      Replicated r = leader.replicate(2, 1, bytes("p2")).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      cluster.awaitEntries(leader.id(), 1);
      leader.reportApplied(2, r.index());
      assertThrows(InvalidArgumentException.class, () -> leader.reportApplied(2, r.index() + 100));
      String json = leader.statusJson();
      assertTrue(json.startsWith("{") && json.contains("\"partitions\""), json);
      assertTrue(json.contains("\"node\": " + leader.id()) || json.contains("\"node\":" + leader.id()), json);
      assertTrue(RaftNode.libraryVersion().matches("\\d+\\.\\d+\\.\\d+"));
    }
  }

  @Test
  void aFailingListenerIsLoggedAndDeliveryGoesOn() throws Exception {
    try (LogCapture log = new LogCapture();
         TestCluster cluster = new TestCluster(1, b -> b.onEntry(e -> {
      if (e.type().equals(LogType.of(13))) {
        throw new IllegalStateException("listener failure on purpose");
      }
    }))) {
      RaftNode leader = cluster.leader(1);
      leader.replicate(1, 13, bytes("boom")).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      leader.replicate(1, 1, bytes("after")).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      List<Entry> seen = cluster.awaitEntries(1, 2);
      assertEquals(List.of(LogType.of(13), LogType.of(1)), seen.stream().map(Entry::type).toList());
      cluster.await("the failure logged", () -> log.records.stream().anyMatch(
          r -> r.getLevel() == Level.SEVERE && r.getThrown() instanceof IllegalStateException));
    }
  }

  @Test
  void leaderChangesAreLoggedWithNodePartitionAndTerm() throws Exception {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger("io.synod");
    Level before = logger.getLevel();
    logger.setLevel(Level.FINE);
    try (LogCapture log = new LogCapture(); TestCluster cluster = new TestCluster(3)) {
      RaftNode leader = cluster.leader(1);
      String term = statusTerm(leader.statusJson());
      String id = Long.toString(leader.id());
      cluster.await("every node logged the leader of partition 1 in its term", () -> {
        Set<Object> nodes = new java.util.HashSet<>();
        for (java.util.logging.LogRecord r : log.records) {
          Object[] p = r.getParameters();
          if (r.getLevel() == Level.FINE && p != null && p.length == 4 && "1".equals(p[1])
              && id.equals(p[2]) && term.equals(p[3])) {
            nodes.add(p[0]);
          }
        }
        return nodes.equals(Set.of("1", "2", "3"));
      });
    } finally {
      logger.setLevel(before);
    }
  }

  @Test
  void engineLogLinesCarryPartitionAndTermAsParameters() {
    // A partition halted in term 7, as the engine reports it (synod_log_flags in entry_type).
    java.util.logging.LogRecord halted = EventPump.engineLogRecord(
        2, io.synod.internal.SynodNativeConstants.SYNOD_LOG_ERROR, "partition 3 halted: damaged",
        io.synod.internal.SynodNativeConstants.SYNOD_LOG_HAS_PARTITION
            | io.synod.internal.SynodNativeConstants.SYNOD_LOG_HAS_TERM, 3, 7);
    assertEquals(Level.SEVERE, halted.getLevel());
    assertEquals("io.synod", halted.getLoggerName());
    assertEquals(List.of("2", "partition 3 halted: damaged", "3", "7"),
                 java.util.Arrays.asList(halted.getParameters()));
    assertEquals("node 2: partition 3 halted: damaged",
                 new java.util.logging.SimpleFormatter().formatMessage(halted));
    // The system partition is a partition; a term the engine did not give is null.
    java.util.logging.LogRecord system = EventPump.engineLogRecord(
        2, io.synod.internal.SynodNativeConstants.SYNOD_LOG_WARNING, "storage: damaged",
        io.synod.internal.SynodNativeConstants.SYNOD_LOG_HAS_PARTITION, 0, 0);
    assertEquals(java.util.Arrays.asList("2", "storage: damaged", "0", null),
                 java.util.Arrays.asList(system.getParameters()));
    // About the whole node: neither, whatever the fields hold.
    java.util.logging.LogRecord node = EventPump.engineLogRecord(
        -1L, io.synod.internal.SynodNativeConstants.SYNOD_LOG_INFO,
        "started", 0, 5, 9);
    assertEquals(Level.INFO, node.getLevel());
    assertEquals(java.util.Arrays.asList("18446744073709551615", "started", null, null),
                 java.util.Arrays.asList(node.getParameters()));
  }

  /** The term of partition 1 in a node's status JSON. */
  private static String statusTerm(String json) {
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("\\{[^{}]*\"partition\":1,[^{}]*\"term\":(\\d+)").matcher(json);
    assertTrue(m.find(), json);
    return m.group(1);
  }
}
