package io.synod;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** The Java runner of the scenarios every binding shares (bindings/scenarios/README.md). */
class ScenarioTest {
  @TestFactory
  Stream<DynamicTest> everySharedScenario() throws IOException {
    String dir = System.getProperty("synod.scenarios");
    if (dir == null) {
      fail("the suite runs with -Dsynod.scenarios=<bindings/scenarios>");
    }
    List<Path> files;
    try (Stream<Path> listing = Files.list(Path.of(dir))) {
      files = listing.filter(p -> p.toString().endsWith(".scenario")).sorted().toList();
    }
    assertFalse(files.isEmpty(), "no scenarios in " + dir);
    return files.stream().map(file -> {
      String name = file.getFileName().toString().replace(".scenario", "");
      return DynamicTest.dynamicTest(name, () -> {
        try (Runner runner = new Runner(name)) {
          for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            runner.run(line);
          }
        }
      });
    });
  }

  private record Written(LogType type, byte[] data, long index) {}

  /** One scenario's cluster, leader and written entries. */
  private static final class Runner implements AutoCloseable {
    private static final Set<Status> ISOLATED_FAILURES =
        Set.of(Status.TIMEOUT, Status.NOT_LEADER, Status.NO_LEADER, Status.DROPPED);

    private final Path directory;
    private final List<Written> written = new ArrayList<>();
    private TestCluster cluster;
    private long leader;
    private long isolated;

    Runner(String name) throws IOException {
      directory = Files.createTempDirectory("synod-scenario-" + name);
    }

    void run(String line) throws Exception {
      int comment = line.indexOf('#');
      List<String> fields = new ArrayList<>();
      Map<String, String> options = new HashMap<>();
      for (String word : (comment >= 0 ? line.substring(0, comment) : line).trim().split("\\s+")) {
        int eq = word.indexOf('=');
        if (word.isEmpty()) {
          continue;
        } else if (eq >= 0) {
          options.put(word.substring(0, eq), word.substring(eq + 1));
        } else if (!fields.isEmpty() && fields.get(0).equals("cluster") && word.equals("durable")) {
          options.put(word, "");
        } else {
          fields.add(word);
        }
      }
      if (fields.isEmpty()) {
        return;
      }
      try {
        step(fields, options);
      } catch (Exception | AssertionError e) {
        throw new AssertionError("step \"" + line + "\": " + e.getMessage(), e);
      }
    }

    private void step(List<String> f, Map<String, String> options) throws Exception {
      switch (f.get(0)) {
        case "cluster" -> cluster = new TestCluster(Integer.parseInt(f.get(1)), (id, b) -> {
          if (options.containsKey("max_payload_bytes")) {
            b.maxPayloadBytes(Long.parseLong(options.get("max_payload_bytes")));
          }
          if (options.containsKey("request_timeout_ms")) {
            b.requestTimeout(Duration.ofMillis(Long.parseLong(options.get("request_timeout_ms"))));
          }
          if (options.containsKey("durable")) {
            b.storage(StorageEngine.ROCKSDB, directory.resolve("node-" + id)).sync(false);
          }
          return b;
        });
        case "await_leader" -> {
          List<Long> connected = cluster.nodes.keySet().stream().filter(id -> id != isolated).toList();
          leader = cluster.leader(1, connected, 0).id();
        }
        case "write" -> {
          int count = f.size() > 3 ? Integer.parseInt(f.get(3).substring(1)) : 1;
          for (int i = 0; i < count; i++) {
            LogType type = type(f.get(1));
            byte[] data = data(f.get(2), i);
            Replicated r = wait(cluster.node(leader).replicate(1, type, data));
            if (!written.isEmpty()) {
              assertTrue(r.index() > written.get(written.size() - 1).index(), "indexes increase");
            }
            written.add(new Written(type, data, r.index()));
          }
        }
        case "refuse" -> {
          long partition = Long.parseLong(options.getOrDefault("partition", "1"));
          Status expected = Status.valueOf(f.get(1).toUpperCase(Locale.ROOT));
          assertEquals(expected, outcome(leader, partition, f.get(2), f.get(3)));
        }
        case "isolate_leader" -> {
          cluster.network.isolate(leader);
          isolated = leader;
          leader = 0;
        }
        case "write_isolated_fails" -> {
          Status status = outcome(isolated, 1, f.get(1), f.get(2));
          assertTrue(ISOLATED_FAILURES.contains(status), status.toString());
        }
        case "heal" -> {
          cluster.network.heal();
          isolated = 0;
        }
        case "expect_entries" -> expectEntries(Integer.parseInt(options.getOrDefault("from", "1")));
        case "report_applied" -> {
          long index = written.get(Integer.parseInt(f.get(1)) - 1).index();
          for (RaftNode node : cluster.nodes.values()) {
            node.reportApplied(1, index);
          }
        }
        case "restart" -> cluster.restart();
        case "close_with_pending" -> closeWithPending(Integer.parseInt(f.get(1)));
        default -> fail("unknown step " + f.get(0));
      }
    }

    private static LogType type(String field) {
      return field.startsWith("n:") ? LogType.of(Long.parseLong(field.substring(2))) : LogType.of(field.substring(2));
    }

    private static byte[] data(String field, int i) {
      if (field.equals("-")) {
        return new byte[0];
      }
      if (field.startsWith("bytes:")) {
        byte[] bytes = new byte[Integer.parseInt(field.substring(6))];
        Arrays.fill(bytes, (byte) 'a');
        return bytes;
      }
      return field.replace("{i}", Integer.toString(i)).getBytes(StandardCharsets.UTF_8);
    }

    private static <T> T wait(CompletableFuture<T> future) throws Exception {
      return future.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** The status a proposal through node `id` ends with; a type the binding itself refuses is INVALID_ARGUMENT. */
    private Status outcome(long id, long partition, String type, String data) throws Exception {
      CompletableFuture<Replicated> future;
      try {
        future = cluster.node(id).replicate(partition, type(type), data(data, 0));
      } catch (IllegalArgumentException e) {
        return Status.INVALID_ARGUMENT;
      }
      try {
        wait(future);
        return Status.OK;
      } catch (ExecutionException e) {
        return assertInstanceOf(SynodException.class, e.getCause()).status();
      }
    }

    private void expectEntries(int from) {
      int expected = written.size() - (from - 1);
      for (long id : cluster.nodes.keySet()) {
        List<Entry> seen = cluster.awaitEntries(id, expected);
        assertEquals(expected, seen.size(), "entries of node " + id);
        for (int k = 0; k < expected; k++) {
          Written w = written.get(from - 1 + k);
          Entry e = seen.get(k);
          String where = "node " + id + ", entry " + k;
          assertEquals(w.type(), e.type(), where);
          assertArrayEquals(w.data(), e.data(), where);
          assertEquals(w.index(), e.index(), where);
        }
      }
    }

    private void closeWithPending(int count) throws Exception {
      List<CompletableFuture<Replicated>> pending = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        pending.add(cluster.node(leader).replicate(1, 1, ("pending-" + i).getBytes(StandardCharsets.UTF_8)));
      }
      for (RaftNode node : cluster.nodes.values()) {
        node.close();
      }
      for (CompletableFuture<Replicated> future : pending) {
        try {
          wait(future);
        } catch (ExecutionException e) {
          assertInstanceOf(ShuttingDownException.class, e.getCause());
        }
      }
      for (long id : cluster.nodes.keySet()) {
        assertFalse(LifecycleTest.threadsAlive(id), "threads of node " + id + " ended");
      }
    }

    @Override
    public void close() throws IOException {
      if (cluster != null) {
        cluster.close();
      }
      try (Stream<Path> paths = Files.walk(directory)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> {
          try {
            Files.delete(p);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
      }
    }
  }
}
