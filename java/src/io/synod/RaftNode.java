package io.synod;

import static io.synod.internal.SynodNativeConstants.SYNOD_ROUTING_HASH_RANGE;
import static io.synod.internal.SynodNativeConstants.SYNOD_ROUTING_UNROUTED;

import io.synod.internal.SynodNative;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.LongToIntFunction;

/**
 * One Synod node: a member of a multi-Raft cluster hosting partitions 1..userPartitions.
 *
 * <p>Made and started by {@link #start(RaftConfig)}; {@link #close()} stops it, completes
 * every pending future (with {@link ShuttingDownException}) and frees it.
 *
 * <p>Threads: every method may be called from any thread. Each node owns a poll thread,
 * the only one to take the library's events, and an event thread that calls the
 * configuration's listeners one at a time in engine order (log order per partition).
 * Futures complete on the configuration's executor, never on the poll thread, so
 * continuations cannot stall the node. A listener must not wait for this node's
 * futures: their completion may be queued behind it.
 *
 * <p>Errors: a future fails with the {@link SynodException} subclass of its status, for
 * example {@link NotLeaderException} with the leader's id when known; synchronous
 * methods throw them. After {@link #close()}, methods throw (or futures fail with)
 * {@link ShuttingDownException}. Ids, partitions, indexes and terms are unsigned 64-bit
 * values held in a long.
 */
public final class RaftNode implements AutoCloseable {
  /** A native request of `node` under `tag`, returning the call's status. */
  @FunctionalInterface
  private interface NativeRequest {
    int call(long node, long tag);
  }

  private final long id;
  private final PendingRequests pending;
  private final EventPump pump;
  // Calls hold the read lock while they use the native node; freeing it takes the write lock.
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private long node;
  private volatile boolean closed;

  private RaftNode(long node, RaftConfig config) {
    this.node = node;
    long[] out = new long[1];
    SynodException.check(SynodNative.synod_node_id(node, out), "synod_node_id");
    this.id = out[0];
    this.pending = new PendingRequests(id, config.executor());
    this.pump = new EventPump(node, id, pending, config, this::free);
    pump.start();
  }

  /**
   * Makes a node from `config` and starts it: opens (or bootstraps) its store, starts its
   * transport, partitions and threads.
   *
   * @throws ConfigException the settings cannot make a node (the message names the setting)
   * @throws StorageException the store cannot be opened
   * @throws TransportException the transport cannot start (for example the port is taken)
   */
  public static RaftNode start(RaftConfig config) {
    Objects.requireNonNull(config, "config");
    long nativeConfig = config.toNative();
    long[] out = new long[1];
    SynodException failure = null;
    try {
      int code = SynodNative.synod_node_new(nativeConfig, out);
      if (code != Status.OK.code()) {
        failure = SynodException.fromCall(code, "synod_node_new");
      }
    } finally {
      SynodNative.synod_config_free(nativeConfig);
    }
    if (failure != null) {
      throw failure;
    }
    return new RaftNode(out[0], config);
  }

  /** The library's version, "MAJOR.MINOR.PATCH". */
  public static String libraryVersion() {
    return SynodNative.synod_version();
  }

  /** This node's id. */
  public long id() {
    return id;
  }

  /**
   * Proposes an entry of log `type` to `partition`. The future completes with where it
   * committed, or fails: {@link NotLeaderException} (with the leader's id),
   * {@link NoLeaderException}, {@link UnknownPartitionException},
   * {@link PayloadTooLargeException} (the limit bounds the data and a string type's frame
   * together), {@link QueueFullException}, {@link RequestTimeoutException} (the entry may
   * still commit), {@link DroppedException}, {@link ShuttingDownException}... `data` is
   * copied before this returns.
   */
  public CompletableFuture<Replicated> replicate(long partition, LogType type, byte[] data) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(data, "data");
    byte[] payload = type.encode(data);
    return submit("replicate", 1, results -> results.get(0), partition,
        (p, tag) -> SynodNative.synod_node_replicate(p, partition, type.nativeType(), payload, tag));
  }

  /**
   * {@link #replicate(long, LogType, byte[])} with a string type.
   *
   * @throws IllegalArgumentException when {@link LogType#of(String)} refuses `type`
   */
  public CompletableFuture<Replicated> replicate(long partition, String type, byte[] data) {
    return replicate(partition, LogType.of(type), data);
  }

  /**
   * {@link #replicate(long, LogType, byte[])} with a number type.
   *
   * @throws IllegalArgumentException when {@link LogType#of(long)} refuses `type`
   */
  public CompletableFuture<Replicated> replicate(long partition, long type, byte[] data) {
    return replicate(partition, LogType.of(type), data);
  }

  /**
   * Proposes `entries` of one partition together: queued whole or refused whole, committed
   * in order. The future completes with each entry's place, in order, or fails as
   * {@link #replicate} does (with the first failure when some entries fail).
   */
  public CompletableFuture<List<Replicated>> replicateBatch(long partition, List<Proposal> entries) {
    Objects.requireNonNull(entries, "entries");
    if (entries.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one entry");
    }
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    long[] typesAndEnds = new long[2 * entries.size()];
    for (int k = 0; k < entries.size(); k++) {
      Proposal entry = Objects.requireNonNull(entries.get(k), "entry");
      data.writeBytes(entry.type().encode(entry.data()));
      typesAndEnds[2 * k] = entry.type().entryType();
      typesAndEnds[2 * k + 1] = data.size();
    }
    byte[] bytes = data.toByteArray();
    return submit("replicate batch", entries.size(), results -> results, partition,
        (p, tag) -> SynodNative.synod_j_replicate_batch(p, partition, bytes, typesAndEnds, tag));
  }

  /**
   * Asks for a linearizable read of `partition`. The future completes with the read index
   * once this node's entry listeners have been given every entry through it, so the host
   * may serve the read from its own state; it fails as {@link #replicate} does.
   */
  public CompletableFuture<Long> readIndex(long partition) {
    return submit("read index", 1, results -> results.get(0).index(), partition,
        (p, tag) -> SynodNative.synod_node_read_index(p, partition, tag));
  }

  /**
   * Proposes a new user partition to the partition map held by partition 0 (this node must
   * lead it): {@link PartitionMap.Mode#UNROUTED} (addressed by id) or
   * {@link PartitionMap.Mode#HASH_RANGE} owning the key hashes [lo, hi] (unsigned).
   * `expectedVersion` is the map version the caller read ({@link #partitionMap()}), or 0
   * to apply regardless. The future completes once the change is applied, with the new
   * id; it fails with {@link NotLeaderException} (partition 0's leader),
   * {@link StaleMapVersionException}, {@link MapConflictException} (an overlapping
   * range...), {@link InvalidArgumentException}..., whose message carries the map's reason.
   */
  public CompletableFuture<PartitionMapChange> createPartition(PartitionMap.Mode mode, long lo,
                                                               long hi, long expectedVersion) {
    Objects.requireNonNull(mode, "mode");
    int nativeMode = mode == PartitionMap.Mode.HASH_RANGE ? SYNOD_ROUTING_HASH_RANGE
                                                          : SYNOD_ROUTING_UNROUTED;
    return submit("create partition", 1, results -> null, 0,
        (p, tag) -> SynodNative.synod_node_create_partition(p, nativeMode, lo, hi, expectedVersion, tag));
  }

  /** {@link #createPartition} of an unrouted partition, whatever the map's version. */
  public CompletableFuture<PartitionMapChange> createPartition() {
    return createPartition(PartitionMap.Mode.UNROUTED, 0, 0, 0);
  }

  /**
   * Proposes removing the unrouted `partition` from the map (ids are never reused); once
   * applied, every voter stops it and deletes its storage. Fails as
   * {@link #createPartition} does, and with {@link SystemPartitionException} for 0,
   * {@link UnknownPartitionException}, {@link MapConflictException} for a hash-range one.
   */
  public CompletableFuture<PartitionMapChange> removePartition(long partition, long expectedVersion) {
    return submit("remove partition", 1, results -> null, 0,
        (p, tag) -> SynodNative.synod_node_remove_partition(p, partition, expectedVersion, tag));
  }

  /** The partition map as this node has applied it. */
  public PartitionMap partitionMap() {
    String[] json = new String[1];
    call("synod_node_partition_map_json", p -> {
      json[0] = SynodNative.synod_j_partition_map_json(p);
      return json[0] == null ? Status.INTERNAL.code() : Status.OK.code();
    });
    return PartitionMap.parse(json[0]);
  }

  /** Where `key` goes in this node's map; empty when no partition owns it. */
  public Optional<Route> route(byte[] key) {
    Objects.requireNonNull(key, "key");
    return routeWith("synod_node_route", (p, partition, generation, state) ->
        SynodNative.synod_node_route(p, key, partition, generation, state));
  }

  /** Where the text key `key` (hashed as UTF-8) goes; empty when no partition owns it. */
  public Optional<Route> route(String key) {
    return route(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8));
  }

  /** Where a key hash (XXH64, seed 0; unsigned) goes; empty when no partition owns it. */
  public Optional<Route> routeHash(long keyHash) {
    return routeWith("synod_node_route_hash", (p, partition, generation, state) ->
        SynodNative.synod_node_route_hash(p, keyHash, partition, generation, state));
  }

  private interface RouteCall {
    int call(long node, long[] partition, long[] generation, int[] state);
  }

  private Optional<Route> routeWith(String operation, RouteCall routeCall) {
    long[] partition = new long[1];
    long[] generation = new long[1];
    int[] state = new int[1];
    int[] code = new int[1];
    call(operation, p -> {
      code[0] = routeCall.call(p, partition, generation, state);
      return code[0] == Status.UNKNOWN_PARTITION.code() ? Status.OK.code() : code[0];
    });
    if (code[0] != Status.OK.code()) {
      return Optional.empty();
    }
    return Optional.of(new Route(partition[0], generation[0], PartitionMap.State.values()[state[0]]));
  }

  /** Whether this node leads `partition` now, as it sees it locally. */
  public boolean isLeader(long partition) {
    int[] out = new int[1];
    call("synod_node_is_leader", p -> SynodNative.synod_node_is_leader(p, partition, out));
    return out[0] != 0;
  }

  /** The leader of `partition` as this node knows it; empty when none is known. */
  public OptionalLong leader(long partition) {
    long[] out = new long[1];
    call("synod_node_leader", p -> SynodNative.synod_node_leader(p, partition, out));
    return out[0] == 0 ? OptionalLong.empty() : OptionalLong.of(out[0]);
  }

  /**
   * Blocks until some node is known to lead `partition` and returns its id.
   *
   * @throws RequestTimeoutException none became known within `timeout`
   * @throws ShuttingDownException the node was closed meanwhile
   */
  public long waitForLeader(long partition, Duration timeout) {
    long ms = timeout.toMillis();
    int timeoutMs = (int) Math.min(Math.max(ms, 0), Integer.MAX_VALUE);
    long[] out = new long[1];
    call("synod_node_wait_for_leader",
         p -> SynodNative.synod_node_wait_for_leader(p, partition, timeoutMs, out));
    return out[0];
  }

  /**
   * Asks this node, the leader of `partition`, to hand leadership to `target`; a
   * {@link LeaderChange} reports the end of the transfer.
   */
  public void transferLeadership(long partition, long target) {
    call("synod_node_transfer_leadership",
         p -> SynodNative.synod_node_transfer_leadership(p, partition, target));
  }

  /**
   * The host has durably applied every entry of `partition` through `index`: after a
   * restart only entries above it are delivered again.
   */
  public void reportApplied(long partition, long index) {
    call("synod_node_report_applied", p -> SynodNative.synod_node_report_applied(p, partition, index));
  }

  /** The partitions this node hosts, system partition 0 included, ascending. */
  public List<Long> partitions() {
    long[] count = new long[1];
    long[] ids = new long[16];
    while (true) {
      long[] buffer = ids;
      call("synod_node_partitions", p -> SynodNative.synod_j_partitions(p, buffer, count));
      if (count[0] <= ids.length) {
        break;
      }
      ids = new long[Math.toIntExact(count[0])];  // more than fit: ask again with room for all
    }
    List<Long> result = new ArrayList<>();
    for (int i = 0; i < count[0]; i++) {
      result.add(ids[i]);
    }
    return result;
  }

  /** With gRPC or REST: the port the node listens on (useful after asking for port 0). */
  public int listenPort() {
    int[] out = new int[1];
    call("synod_node_listen_port", p -> SynodNative.synod_node_listen_port(p, out));
    return out[0];
  }

  /** With gRPC or REST: adds or changes another node's address while running. */
  public void setPeerAddress(long nodeId, String address) {
    Objects.requireNonNull(address, "address");
    call("synod_node_set_peer_address", p -> SynodNative.synod_node_set_peer_address(p, nodeId, address));
  }

  /** The node's state as JSON (partitions with role, term, leader, commit, applied...). */
  public String statusJson() {
    String[] json = new String[1];
    call("synod_node_status_json", p -> {
      json[0] = SynodNative.synod_j_status_json(p);
      return json[0] == null ? Status.INTERNAL.code() : Status.OK.code();
    });
    return json[0];
  }

  /**
   * The node's metrics (README.md, "Metrics"), read now: every family with its samples.
   * The same values as {@link #metricsText()}.
   */
  public Metrics metrics() {
    String[] json = new String[1];
    call("synod_node_metrics_json", p -> {
      json[0] = SynodNative.synod_j_metrics_json(p);
      return json[0] == null ? Status.INTERNAL.code() : Status.OK.code();
    });
    return Metrics.parse(json[0]);
  }

  /**
   * The node's metrics in the Prometheus text exposition format 0.0.4, to serve with the
   * content type {@code text/plain; version=0.0.4; charset=utf-8}.
   */
  public String metricsText() {
    String[] text = new String[1];
    call("synod_node_metrics_text", p -> {
      text[0] = SynodNative.synod_j_metrics_text(p);
      return text[0] == null ? Status.INTERNAL.code() : Status.OK.code();
    });
    return text[0];
  }

  /** Whether {@link #close()} was called, or the node stopped itself after a storage failure. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Stops the node: pending futures fail with {@link ShuttingDownException}, its threads
   * end, it is freed. Waits for that, except when called from one of this node's listeners
   * (the node is then freed once the listener returns). Idempotent.
   */
  @Override
  public void close() {
    boolean first;
    synchronized (this) {
      first = !closed;
      closed = true;
    }
    if (first) {
      lock.readLock().lock();
      try {
        if (node != 0) {
          SynodNative.synod_node_stop(node);
        }
      } finally {
        lock.readLock().unlock();
      }
    }
    if (pump.onEventThread()) {
      return;
    }
    boolean interrupted = false;
    while (true) {
      try {
        pump.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;  // the node must be freed: finish, then restore the flag
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Requests waiting for their result (for tests). */
  int pendingRequests() {
    return pending.size();
  }

  // Run by the event thread once the poll thread has ended.
  private void free() {
    lock.writeLock().lock();
    try {
      closed = true;
      SynodNative.synod_node_free(node);
      node = 0;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Runs a native call with the node held open; throws the failure of its status. */
  private void call(String operation, LongToIntFunction nativeCall) {
    lock.readLock().lock();
    try {
      SynodException.check(nativeCall.applyAsInt(openNode(operation)), operation);
    } finally {
      lock.readLock().unlock();
    }
  }

  private long openNode(String operation) {
    if (closed || node == 0) {
      throw new ShuttingDownException("node " + Long.toUnsignedString(id) + ": " + operation
                                      + ": the node is closed");
    }
    return node;
  }

  /** A request whose result arrives as `count` events; `request` makes the native call. */
  private <T> CompletableFuture<T> submit(String operation, int count,
                                          Function<List<Replicated>, T> value, long partition,
                                          NativeRequest request) {
    PendingRequests.Request<T> r = pending.register(operation, count, value);
    SynodException refusal;
    lock.readLock().lock();
    try {
      long p = openNode(operation);
      int code = request.call(p, r.tag);
      refusal = code == Status.OK.code() ? null : refusal(p, code, partition, operation);
    } catch (SynodException e) {
      refusal = e;
    } finally {
      lock.readLock().unlock();
    }
    if (refusal == null) {
      return r.future;
    }
    pending.forget(r);
    return CompletableFuture.failedFuture(refusal);
  }

  // Refused on the spot: the thread's last error explains it, so it is read before the
  // leader look-up (another synod_ call) replaces it.
  private SynodException refusal(long p, int code, long partition, String operation) {
    SynodException e = SynodException.fromCall(code, operation);
    if (code != Status.NOT_LEADER.code()) {
      return e;
    }
    long[] leader = new long[1];
    long hint = SynodNative.synod_node_leader(p, partition, leader) == Status.OK.code() ? leader[0] : 0;
    return StatusExceptions.of(code, e.getMessage(), hint);
  }
}
