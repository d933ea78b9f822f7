package io.synod;

import io.synod.internal.SynodNative;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;

/**
 * Everything a {@link RaftNode} is made from: the C ABI's settings, plus where results are
 * completed and who hears of committed entries and leader changes. Immutable; made with
 * {@link #builder(long)}, whose {@link Builder#build()} checks every setting against the
 * library, so a bad value fails there with an {@link InvalidArgumentException}.
 * Settings left unset keep the library's defaults (documented in synod.h).
 */
public final class RaftConfig {
  private final Builder b;

  private RaftConfig(Builder builder) {
    this.b = builder.copy();
  }

  /** A builder for node `nodeId` (nonzero, unique in the cluster). */
  public static Builder builder(long nodeId) {
    return new Builder(nodeId);
  }

  public long nodeId() {
    return b.nodeId;
  }

  /** Where request futures are completed (never on the node's poll thread). */
  public Executor executor() {
    return b.executor;
  }

  /** The user partitions of a new cluster are 1..userPartitions() (default 1). */
  public int userPartitions() {
    return b.userPartitions == null ? 1 : b.userPartitions;
  }

  List<Consumer<Entry>> entryListeners() {
    return b.entryListeners;
  }

  List<Consumer<LeaderChange>> leaderListeners() {
    return b.leaderListeners;
  }

  /** A native synod_config with every setting applied; the caller frees it. */
  long toNative() {
    long[] out = new long[1];
    SynodException.check(SynodNative.synod_config_new(out), "synod_config_new");
    long c = out[0];
    try {
      apply(c);
      return c;
    } catch (RuntimeException e) {
      SynodNative.synod_config_free(c);
      throw e;
    }
  }

  private void apply(long c) {
    set(SynodNative.synod_config_set_node_id(c, b.nodeId), "nodeId");
    if (b.clusterId != null) {
      set(SynodNative.synod_config_set_cluster_id(c, b.clusterId), "clusterId");
    }
    for (long member : b.members) {
      set(SynodNative.synod_config_add_member(c, member), "members");
    }
    if (b.userPartitions != null) {
      set(SynodNative.synod_config_set_user_partitions(c, b.userPartitions), "userPartitions");
    }
    if (b.tickIntervalMs != null) {
      set(SynodNative.synod_config_set_tick_interval_ms(c, b.tickIntervalMs), "tickInterval");
    }
    if (b.electionTicks != null) {
      set(SynodNative.synod_config_set_election_ticks(c, b.electionTicks), "electionTicks");
    }
    if (b.heartbeatTicks != null) {
      set(SynodNative.synod_config_set_heartbeat_ticks(c, b.heartbeatTicks), "heartbeatTicks");
    }
    if (b.maxPayloadBytes != null) {
      set(SynodNative.synod_config_set_max_payload_bytes(c, b.maxPayloadBytes), "maxPayloadBytes");
    }
    if (b.maxQueuedRequests != null) {
      set(SynodNative.synod_config_set_max_queued_requests(c, b.maxQueuedRequests),
          "maxQueuedRequests");
    }
    if (b.maxPendingEvents != null) {
      set(SynodNative.synod_config_set_max_pending_events(c, b.maxPendingEvents),
          "maxPendingEvents");
    }
    if (b.requestTimeoutMs != null) {
      set(SynodNative.synod_config_set_request_timeout_ms(c, b.requestTimeoutMs), "requestTimeout");
    }
    if (b.workerThreads != null) {
      set(SynodNative.synod_config_set_worker_threads(c, b.workerThreads), "workerThreads");
    }
    if (b.seed != null) {
      set(SynodNative.synod_config_set_seed(c, b.seed), "seed");
    }
    if (b.storage != null) {
      set(SynodNative.synod_config_set_storage(c, b.storage.nativeName(),
                                               b.dataDirectory == null ? null : b.dataDirectory.toString()),
          "storage");
    }
    if (b.sync != null) {
      set(SynodNative.synod_config_set_sync(c, b.sync ? 1 : 0), "sync");
    }
    if (b.network != null) {
      set(b.network.withHandle(net -> SynodNative.synod_config_set_network(c, net)), "network");
    } else if (b.grpcListen != null) {
      set(SynodNative.synod_config_set_grpc(c, b.grpcListen), "grpc");
    } else if (b.restListen != null) {
      set(SynodNative.synod_config_set_rest(c, b.restListen), "rest");
    }
    for (Map.Entry<Long, String> peer : b.peers.entrySet()) {
      set(SynodNative.synod_config_set_peer_address(c, peer.getKey(), peer.getValue()), "peer");
    }
    if (b.tlsCa != null) {
      set(SynodNative.synod_config_set_tls(c, b.tlsCa.toString(), b.tlsCert.toString(),
                                           b.tlsKey.toString(), b.tlsMutual ? 1 : 0), "tls");
    } else if (b.sharedSecret != null) {
      set(SynodNative.synod_config_set_shared_secret(c, b.sharedSecret), "sharedSecret");
    }
  }

  private static void set(int code, String setting) {
    if (code != Status.OK.code()) {
      SynodException e = SynodException.fromCall(code, "synod_config_set_" + setting);
      throw StatusExceptions.of(code, "RaftConfig." + setting + ": " + e.getMessage(), 0);
    }
  }

  /** Collects settings; {@link #build()} checks them. Not thread-safe. */
  public static final class Builder {
    private final long nodeId;
    private Long clusterId;
    private Set<Long> members = new LinkedHashSet<>();
    private Integer userPartitions;
    private Integer tickIntervalMs;
    private Integer electionTicks;
    private Integer heartbeatTicks;
    private Long maxPayloadBytes;
    private Long maxQueuedRequests;
    private Long maxPendingEvents;
    private Integer requestTimeoutMs;
    private Integer workerThreads;
    private Long seed;
    private StorageEngine storage;
    private Path dataDirectory;
    private Boolean sync;
    private InMemoryNetwork network;
    private String grpcListen;
    private String restListen;
    private Map<Long, String> peers = new LinkedHashMap<>();
    private Path tlsCa;
    private Path tlsCert;
    private Path tlsKey;
    private boolean tlsMutual;
    private byte[] sharedSecret;
    private Executor executor = ForkJoinPool.commonPool();
    private List<Consumer<Entry>> entryListeners = new ArrayList<>();
    private List<Consumer<LeaderChange>> leaderListeners = new ArrayList<>();

    private Builder(long nodeId) {
      this.nodeId = nodeId;
    }

    private Builder copy() {
      Builder c = new Builder(nodeId);
      c.clusterId = clusterId;
      c.members = Set.copyOf(members);
      c.userPartitions = userPartitions;
      c.tickIntervalMs = tickIntervalMs;
      c.electionTicks = electionTicks;
      c.heartbeatTicks = heartbeatTicks;
      c.maxPayloadBytes = maxPayloadBytes;
      c.maxQueuedRequests = maxQueuedRequests;
      c.maxPendingEvents = maxPendingEvents;
      c.requestTimeoutMs = requestTimeoutMs;
      c.workerThreads = workerThreads;
      c.seed = seed;
      c.storage = storage;
      c.dataDirectory = dataDirectory;
      c.sync = sync;
      c.network = network;
      c.grpcListen = grpcListen;
      c.restListen = restListen;
      c.peers = Map.copyOf(peers);
      c.tlsCa = tlsCa;
      c.tlsCert = tlsCert;
      c.tlsKey = tlsKey;
      c.tlsMutual = tlsMutual;
      c.sharedSecret = sharedSecret == null ? null : sharedSecret.clone();
      c.executor = executor;
      c.entryListeners = List.copyOf(entryListeners);
      c.leaderListeners = List.copyOf(leaderListeners);
      return c;
    }

    /** The cluster's id (default 1); nodes refuse traffic from another cluster. */
    public Builder clusterId(long clusterId) {
      this.clusterId = clusterId;
      return this;
    }

    /** The voters of a new cluster, this node included (a restarted node reads its log). */
    public Builder members(long... nodeIds) {
      for (long id : nodeIds) {
        members.add(id);
      }
      return this;
    }

    /** User partitions 1..count of a new cluster (default 1). */
    public Builder userPartitions(int count) {
      this.userPartitions = nonNegative(count, "userPartitions");
      return this;
    }

    /** The Raft tick (default 10 ms). */
    public Builder tickInterval(Duration tick) {
      this.tickIntervalMs = millis(tick, "tickInterval");
      return this;
    }

    /** The election timeout in ticks (default 10); must exceed the heartbeat. */
    public Builder electionTicks(int ticks) {
      this.electionTicks = nonNegative(ticks, "electionTicks");
      return this;
    }

    /** The heartbeat interval in ticks (default 1). */
    public Builder heartbeatTicks(int ticks) {
      this.heartbeatTicks = nonNegative(ticks, "heartbeatTicks");
      return this;
    }

    /** The largest payload of one entry (default 1 MiB, at most 64 MiB). */
    public Builder maxPayloadBytes(long bytes) {
      this.maxPayloadBytes = nonNegative(bytes, "maxPayloadBytes");
      return this;
    }

    /** Requests queued per partition before {@link QueueFullException} (default 4096). */
    public Builder maxQueuedRequests(long count) {
      this.maxQueuedRequests = nonNegative(count, "maxQueuedRequests");
      return this;
    }

    /** Events waiting for the poll thread before the node pushes back (default 65536). */
    public Builder maxPendingEvents(long count) {
      this.maxPendingEvents = nonNegative(count, "maxPendingEvents");
      return this;
    }

    /** How long a request waits for its result before {@link RequestTimeoutException} (default 5 s). */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeoutMs = millis(timeout, "requestTimeout");
      return this;
    }

    /** Threads driving the partitions (default 0: one per core). */
    public Builder workerThreads(int threads) {
      this.workerThreads = nonNegative(threads, "workerThreads");
      return this;
    }

    /** Seed of the node's randomness (election timeouts); 0, the default, picks one. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** A durable log in `directory` (made if missing, locked while the node runs). */
    public Builder storage(StorageEngine engine, Path directory) {
      this.storage = Objects.requireNonNull(engine, "engine");
      this.dataDirectory = engine == StorageEngine.MEMORY ? null
                                                          : Objects.requireNonNull(directory, "directory");
      return this;
    }

    /** A log in memory: nothing survives the node (the default). */
    public Builder inMemoryStorage() {
      return storage(StorageEngine.MEMORY, null);
    }

    /** Whether writes are synced before they are acknowledged (default true; false is unsafe). */
    public Builder sync(boolean sync) {
      this.sync = sync;
      return this;
    }

    /** Transport: the in-process network. Replaces gRPC or REST set before. */
    public Builder network(InMemoryNetwork network) {
      this.network = Objects.requireNonNull(network, "network");
      this.grpcListen = null;
      this.restListen = null;
      return this;
    }

    /** Transport: gRPC listening on "host:port" (port 0 picks one: {@link RaftNode#listenPort()}). */
    public Builder grpc(String listenAddress) {
      this.grpcListen = Objects.requireNonNull(listenAddress, "listenAddress");
      this.network = null;
      this.restListen = null;
      return this;
    }

    /** Transport: REST (HTTP/1.1) listening on "host:port", as for gRPC. */
    public Builder rest(String listenAddress) {
      this.restListen = Objects.requireNonNull(listenAddress, "listenAddress");
      this.network = null;
      this.grpcListen = null;
      return this;
    }

    /** Another node's "host:port" for gRPC or REST. */
    public Builder peer(long nodeId, String address) {
      peers.put(nodeId, Objects.requireNonNull(address, "address"));
      return this;
    }

    /** TLS with this node's certificate and key (PEM); peers are verified against `ca`. */
    public Builder tls(Path ca, Path certificate, Path key) {
      return tls(ca, certificate, key, false);
    }

    /** Mutual TLS: as {@link #tls}, and connecting nodes must present a certificate of `ca`. */
    public Builder mutualTls(Path ca, Path certificate, Path key) {
      return tls(ca, certificate, key, true);
    }

    private Builder tls(Path ca, Path certificate, Path key, boolean mutual) {
      this.tlsCa = Objects.requireNonNull(ca, "ca");
      this.tlsCert = Objects.requireNonNull(certificate, "certificate");
      this.tlsKey = Objects.requireNonNull(key, "key");
      this.tlsMutual = mutual;
      this.sharedSecret = null;
      return this;
    }

    /** Plain-text links with every batch signed by HMAC-SHA256 under `secret` (>= 16 bytes). */
    public Builder sharedSecret(byte[] secret) {
      this.sharedSecret = Objects.requireNonNull(secret, "secret").clone();
      this.tlsCa = null;
      return this;
    }

    /** Plain text, the default: anyone who reaches the port takes part. */
    public Builder plainText() {
      this.sharedSecret = null;
      this.tlsCa = null;
      return this;
    }

    /** Where request futures complete (default the common fork-join pool). */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Hears every committed entry on this node, in log order per partition, on the node's
     * event thread (one call at a time, in engine order with leader changes). A listener
     * must not wait for this node's futures: they may complete behind it.
     */
    public Builder onEntry(Consumer<Entry> listener) {
      entryListeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Hears every leader change this node learns of, on the event thread (see {@link #onEntry}). */
    public Builder onLeaderChange(Consumer<LeaderChange> listener) {
      leaderListeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** The configuration, after the library accepted every setting. */
    public RaftConfig build() {
      RaftConfig config = new RaftConfig(this);
      SynodNative.synod_config_free(config.toNative());
      return config;
    }

    private static int nonNegative(int value, String name) {
      if (value < 0) {
        throw new IllegalArgumentException(name + " must not be negative: " + value);
      }
      return value;
    }

    private static long nonNegative(long value, String name) {
      if (value < 0) {
        throw new IllegalArgumentException(name + " must not be negative: " + value);
      }
      return value;
    }

    private static int millis(Duration duration, String name) {
      long ms = Objects.requireNonNull(duration, name).toMillis();
      if (ms < 0 || ms > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(name + " out of range: " + duration);
      }
      return (int) ms;
    }
  }
}
