package io.synod.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.synod.Entry;
import io.synod.InMemoryNetwork;
import io.synod.NotLeaderException;
import io.synod.RaftConfig;
import io.synod.RaftNode;
import io.synod.Replicated;
import io.synod.ShuttingDownException;
import io.synod.SynodException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A replicated job queue: three Synod nodes in one process (an in-memory network), each
 * applying the same committed commands to its own copy of the queue, behind one HTTP
 * endpoint (com.sun.net.httpserver):
 *
 * <pre>
 *   POST /jobs            body: the job         -> 201, the job's id
 *   POST /claim?worker=w                        -> 200 "id job", or 204 when none waits
 *   POST /done?id=n                             -> 200, or 404 for a job not claimed
 *   GET  /jobs                                  -> 200, every job and its state, one a line
 * </pre>
 *
 * Each command is one entry; its outcome (a claim's job) is decided by applying it, the
 * same on every node. Requests go to the leader; when it fails they are retried on the
 * node a NotLeaderException names. GET serves a linearizable read: after readIndex, the
 * leader's own copy is up to date.
 *
 * <p>Run: {@code java -cp synod.jar:synod-job-queue.jar io.synod.examples.JobQueue [port]}
 * serves until interrupted; {@code --self-test} drives the endpoint over HTTP, stops the
 * leader half way, and exits 0 when every node holds the same queue.
 */
public final class JobQueue {
  // Commands are entries of string log types, which a node of any binding reads back alike.
  private static final String ENQUEUE = "JobEnqueued";
  private static final String CLAIM = "JobClaimed";
  private static final String DONE = "JobDone";
  private static final long PARTITION = 1;
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** One node's copy of the queue, changed only by committed entries, in log order. */
  static final class Queue {
    private final Map<Long, String> jobs = new TreeMap<>();
    private final Map<Long, String> state = new TreeMap<>();
    private final Deque<Long> waiting = new ArrayDeque<>();
    private final Map<Long, String> outcomes = new ConcurrentHashMap<>();
    private long applied;

    synchronized void apply(Entry e) {
      String arg = new String(e.data(), StandardCharsets.UTF_8);
      String outcome;
      switch (e.type().isString() ? e.type().name() : "") {
        case ENQUEUE:
          jobs.put(e.index(), arg);  // a job's id is the index of its entry
          state.put(e.index(), "waiting");
          waiting.add(e.index());
          outcome = Long.toString(e.index());
          break;
        case CLAIM: {
          Long id = waiting.poll();
          if (id != null) {
            state.put(id, "claimed by " + arg);
          }
          outcome = id == null ? "" : id + " " + jobs.get(id);
          break;
        }
        case DONE: {
          long id = Long.parseLong(arg);
          boolean claimed = state.getOrDefault(id, "").startsWith("claimed");
          if (claimed) {
            state.put(id, "done");
          }
          outcome = claimed ? "ok" : "";
          break;
        }
        default:
          outcome = "";
      }
      outcomes.put(e.index(), outcome);
      applied = e.index();
      notifyAll();
    }

    /** The outcome of the entry at `index`, once this copy has applied it. */
    synchronized String outcome(long index) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (applied < index) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new IllegalStateException("entry " + index + " not applied in time");
        }
        wait(left);
      }
      return outcomes.remove(index);
    }

    synchronized String listing() {
      StringBuilder out = new StringBuilder();
      jobs.forEach((id, job) -> out.append(id).append(' ').append(job).append(": ")
          .append(state.get(id)).append('\n'));
      return out.toString();
    }
  }

  private final InMemoryNetwork network = new InMemoryNetwork();
  private final Map<Long, RaftNode> nodes = new LinkedHashMap<>();
  private final Map<Long, Queue> queues = new LinkedHashMap<>();
  private final HttpServer server;
  private final ExecutorService handlers = Executors.newFixedThreadPool(4);
  private volatile long leaderGuess = 1;

  JobQueue(int port) throws IOException {
    for (long id = 1; id <= 3; id++) {
      Queue queue = new Queue();
      queues.put(id, queue);
      nodes.put(id, RaftNode.start(RaftConfig.builder(id).members(1, 2, 3).network(network)
          .tickInterval(Duration.ofMillis(5)).onEntry(queue::apply).build()));
    }
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/jobs", x -> handle(x, () -> {
      if (x.getRequestMethod().equals("GET")) {
        reply(x, 200, read());
      } else {
        reply(x, 201, command(ENQUEUE, x.getRequestBody().readAllBytes()));
      }
    }));
    server.createContext("/claim", x -> handle(x, () -> {
      String job = command(CLAIM, query(x, "worker").getBytes(StandardCharsets.UTF_8));
      reply(x, job.isEmpty() ? 204 : 200, job);
    }));
    server.createContext("/done", x -> handle(x, () -> {
      boolean ok = !command(DONE, query(x, "id").getBytes(StandardCharsets.UTF_8)).isEmpty();
      reply(x, ok ? 200 : 404, ok ? "ok" : "no such claimed job");
    }));
    server.setExecutor(handlers);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Replicates a command through the leader and returns its outcome there. */
  private String command(String type, byte[] payload) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      RaftNode node = leader();
      try {
        Replicated r = node.replicate(PARTITION, type, payload).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return queues.get(node.id()).outcome(r.index());
      } catch (ExecutionException | CompletionException e) {
        retryOrThrow(e.getCause(), deadline);
      }
    }
  }

  /** A linearizable listing: the leader's copy, once it has applied through the read index. */
  private String read() throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      RaftNode node = leader();
      try {
        node.readIndex(PARTITION).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return queues.get(node.id()).listing();
      } catch (ExecutionException | CompletionException e) {
        retryOrThrow(e.getCause(), deadline);
      }
    }
  }

  private RaftNode leader() {
    RaftNode guess = nodes.get(leaderGuess);
    if (guess.isClosed()) {
      guess = nodes.values().stream().filter(n -> !n.isClosed()).findFirst().orElseThrow();
    }
    leaderGuess = guess.waitForLeader(PARTITION, WAIT);
    return nodes.get(leaderGuess);
  }

  /** Retries a request the leader could not take (it changed or stopped), until the deadline. */
  private void retryOrThrow(Throwable failure, long deadline) throws Exception {
    if (System.nanoTime() > deadline || !(failure instanceof SynodException)) {
      throw failure instanceof Exception ? (Exception) failure : new RuntimeException(failure);
    }
    if (failure instanceof NotLeaderException) {
      ((NotLeaderException) failure).leaderHint().ifPresent(id -> leaderGuess = id);
    } else if (!(failure instanceof ShuttingDownException)) {
      System.err.println("job-queue: retrying after " + failure);
    }
  }

  private interface Handler {
    void run() throws Exception;
  }

  private static void handle(HttpExchange x, Handler handler) throws IOException {
    try (x) {
      handler.run();
    } catch (Exception e) {
      reply(x, 503, e.toString());
    }
  }

  private static void reply(HttpExchange x, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.sendResponseHeaders(status, status == 204 ? -1 : bytes.length);
    if (status != 204) {
      x.getResponseBody().write(bytes);
    }
  }

  private static String query(HttpExchange x, String name) {
    String query = x.getRequestURI().getQuery();
    for (String pair : query == null ? new String[0] : query.split("&")) {
      if (pair.startsWith(name + "=")) {
        return pair.substring(name.length() + 1);
      }
    }
    throw new IllegalArgumentException("missing query parameter " + name);
  }

  void stopNode(long id) {
    nodes.get(id).close();
  }

  long currentLeader() {
    return leader().id();
  }

  void close() {
    server.stop(0);
    handlers.shutdown();
    nodes.values().forEach(RaftNode::close);
    network.close();
  }

  public static void main(String[] args) throws Exception {
    boolean selfTest = args.length > 0 && args[0].equals("--self-test");
    JobQueue app = new JobQueue(selfTest || args.length == 0 ? 0 : Integer.parseInt(args[0]));
    if (!selfTest) {
      System.out.println("job-queue: serving on http://127.0.0.1:" + app.port() + "/jobs");
      Runtime.getRuntime().addShutdownHook(new Thread(app::close));
      Thread.currentThread().join();
      return;
    }
    try {
      selfTest(app);
      System.out.println("job-queue: self-test passed");
    } finally {
      app.close();
    }
  }

  private static void selfTest(JobQueue app) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + app.port();
    for (int i = 0; i < 5; i++) {
      expect(http, "POST", base + "/jobs", "job-" + i, 201);
    }
    String claimed = expect(http, "POST", base + "/claim?worker=alice", "", 200);
    check(claimed.endsWith(" job-0"), "the oldest job is claimed first: " + claimed);
    String id = claimed.split(" ")[0];
    expect(http, "POST", base + "/done?id=" + id, "", 200);
    expect(http, "POST", base + "/done?id=" + id, "", 404);  // done already

    long old = app.currentLeader();
    app.stopNode(old);
    System.out.println("job-queue: stopped the leader, node " + old);
    expect(http, "POST", base + "/jobs", "job-5", 201);
    String next = expect(http, "POST", base + "/claim?worker=bob", "", 200);
    check(next.endsWith(" job-1"), "the queue survives the failover: " + next);
    String listing = expect(http, "GET", base + "/jobs", null, 200);
    System.out.print(listing);
    check(listing.lines().count() == 6, "six jobs listed");
    check(listing.contains("job-0: done") && listing.contains("job-1: claimed by bob"),
          "states as expected");
    // The survivors hold the same queue once each has applied everything.
    for (long nodeId : app.nodes.keySet()) {
      if (nodeId != old) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!app.queues.get(nodeId).listing().equals(listing)) {
          check(System.nanoTime() < deadline, "node " + nodeId + " holds the same queue");
          Thread.sleep(10);
        }
      }
    }
  }

  private static String expect(HttpClient http, String method, String url, String body, int status)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(WAIT);
    request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    check(response.statusCode() == status, method + " " + url + ": expected " + status + ", got "
          + response.statusCode() + " " + response.body());
    return response.body();
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError("job-queue self-test: " + what);
    }
  }
}
