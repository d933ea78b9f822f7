package io.synod;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/** N nodes on one in-process network, recording every entry each one is given. */
final class TestCluster implements AutoCloseable {
  /** The bound of every wait in the suite: generous, so only a hang reaches it. */
  static final Duration WAIT = Duration.ofSeconds(20);

  final InMemoryNetwork network = new InMemoryNetwork();
  final Map<Long, RaftNode> nodes = new LinkedHashMap<>();
  final Map<Long, List<Entry>> entries = new LinkedHashMap<>();
  private final Map<Long, RaftConfig> configs = new LinkedHashMap<>();
  private final Object lock = new Object();

  TestCluster(int size) {
    this(size, b -> b);
  }

  TestCluster(int size, UnaryOperator<RaftConfig.Builder> settings) {
    this(size, (id, builder) -> settings.apply(builder));
  }

  /** N nodes whose configurations `settings` completes, given each node's id. */
  TestCluster(int size, BiFunction<Long, RaftConfig.Builder, RaftConfig.Builder> settings) {
    long[] ids = new long[size];
    for (int i = 0; i < size; i++) {
      ids[i] = i + 1;
    }
    for (long id : ids) {
      List<Entry> seen = new ArrayList<>();
      entries.put(id, seen);
      RaftConfig.Builder builder = fast(RaftConfig.builder(id)).members(ids).network(network).seed(id)
          .onEntry(e -> {
            synchronized (lock) {
              seen.add(e);
            }
          });
      configs.put(id, settings.apply(id, builder).build());
      nodes.put(id, RaftNode.start(configs.get(id)));
    }
  }

  /** Closes every node and starts it again from its configuration; forgets what each was given. */
  void restart() {
    for (RaftNode node : nodes.values()) {
      node.close();
    }
    synchronized (lock) {
      entries.values().forEach(List::clear);
    }
    configs.forEach((id, config) -> nodes.put(id, RaftNode.start(config)));
  }

  /** Short ticks and timeouts, so elections take milliseconds. */
  static RaftConfig.Builder fast(RaftConfig.Builder builder) {
    return builder.tickInterval(Duration.ofMillis(5)).electionTicks(10).heartbeatTicks(1)
        .workerThreads(1).requestTimeout(Duration.ofSeconds(2));
  }

  RaftNode node(long id) {
    return nodes.get(id);
  }

  /** The leader of `partition` every live node of `among` agrees on, other than `excluded`. */
  RaftNode leader(long partition, List<Long> among, long excluded) {
    RaftNode[] found = new RaftNode[1];
    await("an agreed leader of partition " + partition, () -> {
      long agreed = -1;
      for (long id : among) {
        long view = nodes.get(id).leader(partition).orElse(0);
        if (view == 0 || (agreed != -1 && view != agreed)) {
          return false;
        }
        agreed = view;
      }
      if (agreed == excluded || !among.contains(agreed) || !nodes.get(agreed).isLeader(partition)) {
        return false;
      }
      found[0] = nodes.get(agreed);
      return true;
    });
    return found[0];
  }

  RaftNode leader(long partition) {
    return leader(partition, new ArrayList<>(nodes.keySet()), 0);
  }

  /** A copy of what node `id` was given so far. */
  List<Entry> entriesOf(long id) {
    synchronized (lock) {
      return new ArrayList<>(entries.get(id));
    }
  }

  /** Waits until node `id` was given `count` entries. */
  List<Entry> awaitEntries(long id, int count) {
    await("node " + id + " to see " + count + " entries", () -> entriesOf(id).size() >= count);
    return entriesOf(id);
  }

  /** Waits for `condition` (see {@link #eventually}). */
  void await(String what, BooleanSupplier condition) {
    eventually(what, condition);
  }

  /** Waits until `condition` holds, checking it every few milliseconds, at most {@link #WAIT}. */
  static void eventually(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting for " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted waiting for " + what);
      }
    }
  }

  @Override
  public void close() {
    for (RaftNode node : nodes.values()) {
      node.close();
    }
    network.close();
  }
}
