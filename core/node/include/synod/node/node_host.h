// NodeHost: what a service embeds. It hosts the system partition (0) and the user
// partitions of one node, one Raft group each, and does the work RawNode leaves to the
// runtime: ticking, persisting (one storage batch with one sync per cycle across
// partitions), sending (one transport batch per destination per cycle), applying, and
// answering every request with a status.
//
// Threads: all work runs as tasks on the configured env::Executor (and, when one is set,
// the sync executor); a partition is driven by one task at a time. Handlers (apply,
// leader change) and completions run on those tasks: they must not block on the
// NodeHost. In the simulator every task runs on one thread in virtual time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synod/env/clock.h"
#include "synod/env/scheduler.h"
#include "synod/metrics/registry.h"
#include "synod/node/snapshots.h"
#include "synod/node/status.h"
#include "synod/raft/raw_node.h"
#include "synod/storage/log_store.h"
#include "synod/storage/snapshot_store.h"
#include "synod/system/commands.h"
#include "synod/system/routing.h"
#include "synod/system/types.h"
#include "synod/transport/transport.h"

namespace synod::node {

using raft::Index;
using raft::NodeId;
using raft::Term;
using PartitionId = std::uint64_t;
using transport::ClusterId;

inline constexpr PartitionId kSystemPartition = 0;

struct ReplicationResult {
  Status status = Status::Ok;
  Index index = 0;
  Term term = 0;
  NodeId leader_hint = raft::kNoNode;
};

struct ReadResult {
  Status status = Status::Ok;
  // The index the host had applied when the read became safe to serve.
  Index index = 0;
  NodeId leader_hint = raft::kNoNode;
};

// A committed entry, delivered to the host in log order per partition.
struct CommittedEntry {
  PartitionId partition = 0;
  Index index = 0;
  Term term = 0;
  std::uint32_t type = 0;
  raft::Bytes payload;
};

// The answer to a change of the partition map (a proposal on partition 0), once it is
// applied. `status` is Ok, a refusal before the log (NotLeader with a hint, QueueFull,
// Timeout, ...) or the map's own refusal, mapped to a node status (StaleMapVersion,
// UnknownPartition, InvalidArgument, MapConflict, SystemPartition); `detail` then says
// exactly which (system::Status, Ok when the map was not reached).
struct MapChangeResult {
  Status status = Status::Ok;
  system::Status detail = system::Status::Ok;
  // The partition created (create_partition); 0 otherwise.
  PartitionId partition = 0;
  // The map version after the change, or the current one when the map refused it.
  std::uint64_t map_version = 0;
  Index index = 0;
  NodeId leader_hint = raft::kNoNode;
};

struct LeaderChange {
  PartitionId partition = 0;
  NodeId leader = raft::kNoNode;  // kNoNode: leadership was lost and is not yet known
  Term term = 0;
};

// A partition that stopped running while the node goes on (set_partition_failure_handler).
struct PartitionFailure {
  PartitionId partition = 0;
  Term term = 0;  // the partition's term when it halted
  std::string why;
};

struct PartitionStatus {
  PartitionId partition = 0;
  raft::RaftState raft;
  // Idle: not ticking, no per-partition traffic until work or a silent peer wakes it.
  bool quiescent = false;
  // Set when the store found this partition's state damaged on open: the partition is
  // not run (requests answer StorageFailure) and `raft` is empty. Repairing it is the
  // operator's decision, for example removing the partition and letting it catch up.
  std::string storage_error;
};

struct NodeHostConfig {
  NodeId node_id = raft::kNoNode;
  ClusterId cluster_id = 1;
  // The voters of a new cluster (this node included). Used only when the store is empty.
  std::vector<NodeId> initial_members;
  // User partitions created with a new cluster, numbered 1..user_partitions.
  std::uint32_t user_partitions = 1;
  std::chrono::milliseconds tick_interval{10};
  int heartbeat_ticks = 1;
  int election_ticks = 10;
  std::size_t max_payload_bytes = 1 << 20;
  // Queued requests per partition before QueueFull.
  std::size_t max_queued_requests = 4096;
  std::chrono::milliseconds request_timeout{5000};
  // Partitions one worker task drives per cycle.
  std::size_t partitions_per_cycle = 64;
  // Worker tasks in flight at once (at most one per pool thread makes sense).
  std::size_t max_parallel_cycles = 2;
  // Idle partitions stop ticking (no per-partition traffic) after this many ticks without
  // activity; 0 means ten election timeouts. While any partition is quiescent the nodes
  // exchange one liveness heartbeat per node pair, and a node silent for an election
  // timeout wakes the partitions it led; those keep ticking until they have elected.
  // Lease reads are never used with quiescence.
  bool quiesce = true;
  int quiesce_after_ticks = 0;
  // Sync every cycle's writes (the default). Off only for tests and benchmarks.
  bool sync = true;
  // When to ask the host for snapshots and how far to compact (snapshots.h).
  SnapshotPolicy snapshots;
  // Record the engine's metrics on the hot path: latencies, batch sizes, refused, timed
  // out and dropped requests, elections, snapshot transfers (see NodeHost::metrics()).
  // Off, those stay absent; the registry still serves what costs nothing until it is
  // read: the partitions' state and the store's and transport's counters.
  bool metrics = true;
  std::uint64_t seed = 0;

  // The environment, owned by the caller and outliving the NodeHost.
  storage::LogStore* store = nullptr;
  // Where snapshot files live; the transport reads and writes them through the runtime.
  storage::SnapshotStore* snapshot_store = nullptr;
  transport::Transport* transport = nullptr;
  env::Clock* clock = nullptr;
  env::Scheduler* scheduler = nullptr;
  env::Executor* executor = nullptr;
  // Optional: where a cycle's storage sync runs, with the rest of that cycle (sending what
  // waited for the disk, applying, completing requests). A sync blocks its thread for the
  // disk; with a sync executor (one thread is enough: concurrent syncs of one store are
  // shared anyway) the workers go on with other partitions meanwhile. Null: the sync
  // blocks the worker. Handlers and completions then also run on this executor.
  env::Executor* sync_executor = nullptr;
};

class Engine;

class NodeHost {
 public:
  using ReplicationCallback = std::function<void(const ReplicationResult&)>;
  using ReadCallback = std::function<void(const ReadResult&)>;
  using ApplyHandler = std::function<void(const CommittedEntry&)>;
  using LeaderHandler = std::function<void(const LeaderChange&)>;
  using FailureHandler = std::function<void(const std::string& why)>;
  using PartitionFailureHandler = std::function<void(const PartitionFailure&)>;

  // Opens (or, with an empty store, bootstraps) every partition. Returns nullptr and sets
  // `error` for an unusable configuration or stored state.
  static std::unique_ptr<NodeHost> create(const NodeHostConfig& config, std::string* error);
  ~NodeHost();
  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

  // Set before start(). Committed entries of host types (>= 1) reach the apply handler.
  void set_apply_handler(ApplyHandler handler);
  void set_leader_handler(LeaderHandler handler);
  // Learns why the node stopped itself: its log store failed a write, so nothing more may
  // be acknowledged. Runs once, on the thread that performs the stop, after every pending
  // request has completed (with StorageFailure) and before stop() returns to any caller.
  // It may call stop(), which then returns at once.
  void set_failure_handler(FailureHandler handler);
  // Saves, exports and installs of host state (snapshots.h). Without one, snapshots are
  // never taken and a snapshot from the leader halts the partition it arrives for.
  void set_snapshot_handler(SnapshotHandler handler);
  // Learns that a partition stopped running while the node goes on: a snapshot it had to
  // install could not be (damaged file, no snapshot handler, the host failed it). From
  // then on it answers StorageFailure and status() reports it with `why`; the operator
  // may remove it (remove_partition).
  void set_partition_failure_handler(PartitionFailureHandler handler);

  void start();
  // Stops ticking and receiving, waits for running cycles, and completes every pending
  // request with ShuttingDown. Idempotent; the destructor calls it. A call made while
  // another stop() runs (for example the one a storage failure starts) returns once that
  // one has finished with the store and transport.
  void stop();

  // Proposes one entry; `done` runs once it is committed (or failed). Type 0 is reserved
  // for the engine.
  void replicate(PartitionId partition, std::uint32_t type, raft::Bytes payload,
                 ReplicationCallback done);
  std::future<ReplicationResult> replicate(PartitionId partition, std::uint32_t type,
                                           raft::Bytes payload);
  // Proposes several entries of one partition together; `done` receives one result per
  // entry, in order, once every entry is answered. The batch is queued whole or refused
  // whole (QueueFull).
  struct BatchEntry {
    std::uint32_t type = 0;
    raft::Bytes payload;
  };
  using BatchCallback = std::function<void(const std::vector<ReplicationResult>&)>;
  void replicate_batch(PartitionId partition, std::vector<BatchEntry> entries, BatchCallback done);
  // Completes once this node's state machine may serve a linearizable read.
  void read_index(PartitionId partition, ReadCallback done);
  Status transfer_leadership(PartitionId partition, NodeId target);
  // The host has durably applied everything through `index`; after a restart only the
  // entries above it are delivered again.
  Status report_applied(PartitionId partition, Index index);
  // Asks the host for a snapshot of `partition` at the next index it applies, now rather
  // than by policy; `done` runs once it is saved and the log compacted behind it (Ok, with
  // the snapshot's index), or with why not (UnknownPartition, ShuttingDown, or
  // StorageFailure when the host or the store failed it).
  void request_snapshot(PartitionId partition, std::function<void(Status, Index)> done);

  // Partitions at runtime. add_partition founds a new partition on this node with
  // `voters` (this node among them) and runs it; the other voters must add it too.
  // InvalidArgument when the voters are unusable or the id is taken (also by a partition
  // still being removed), StorageFailure when the store refused the write. A node must not
  // add back a partition it removed while other nodes still run it: it would rejoin with
  // an empty log and no memory of its votes, which Raft's safety does not allow.
  Status add_partition(PartitionId partition, const std::vector<NodeId>& voters);
  // Stops running `partition` and deletes its stored state. At once, requests to it answer
  // UnknownPartition and the requests it held are answered so; `done` runs once its
  // storage is deleted (Ok), or with StorageFailure, UnknownPartition, or ShuttingDown when
  // the node stops first (the storage may then remain). Its last cycle runs after start().
  void remove_partition(PartitionId partition, std::function<void(Status)> done);
  std::future<Status> remove_partition(PartitionId partition);

  // The partition map, held by the system partition (0). Partition 0 belongs to the
  // engine: its committed entries are system commands applied to the map and roster on
  // every node (never handed to the apply handler), and the host may not propose to it
  // (SystemPartition). A new cluster's map holds user partitions 1..user_partitions, each
  // owning an even share of the key-hash space, and its roster the initial members.
  //
  // create_partition proposes a new user partition: hash-range (owning `range`, which
  // must overlap no live partition's) or unrouted (addressed by id; `range` ignored).
  // remove_partition(partition, expected_version, done) proposes removing an unrouted
  // partition. `expected_version` is the map version the caller read (partition_map()),
  // or 0 to apply regardless (StaleMapVersion otherwise). The proposal goes to this
  // node's partition 0 (NotLeader with a hint when another node leads it); `done` runs
  // once it is applied. Every node the roster lists as a voter then creates the new
  // partition (with the roster's voters) or stops the removed one and deletes its storage.
  //
  // The map-driven partitions and add_partition/remove_partition(partition, done) above
  // coexist: those two act on this node only and leave the map alone (a partition the
  // map does not hold is the host's to manage). Ids the map hands out count up from
  // user_partitions + 1 and are never reused; a host that also adds partitions by hand
  // must keep its ids apart from those (for example at or above 2^32).
  void create_partition(system::RoutingMode mode, system::HashRange range,
                        std::uint64_t expected_version,
                        std::function<void(const MapChangeResult&)> done);
  void remove_partition(PartitionId partition, std::uint64_t expected_version,
                        std::function<void(const MapChangeResult&)> done);
  // A copy of the map as this node has applied it (committed, possibly behind the
  // leader's).
  system::PartitionMap partition_map() const;
  // The roster and the map together.
  system::SystemState system_state() const;
  // Where a key (or a key hash, system::key_hash) goes in that map, with the generation to
  // carry; nothing when no partition owns it.
  std::optional<system::Route> route(std::string_view key) const;
  std::optional<system::Route> route_hash(std::uint64_t key_hash) const;

  // Back-pressure from the host: while paused, committed entries are held back (never
  // dropped) and neither reach the apply handler nor complete their proposals; everything
  // else (elections, replication, requests) goes on. Resuming delivers what was held.
  void set_delivery_paused(bool paused);

  // Blocks the calling thread until some node is known to lead `partition` or `timeout`
  // of real time passes; returns the leader or kNoNode. For hosts on real threads: in a
  // simulated world time does not pass while a thread blocks.
  NodeId wait_for_leader(PartitionId partition, std::chrono::milliseconds timeout);
  bool is_leader(PartitionId partition) const;
  NodeId leader_of(PartitionId partition) const;
  std::vector<PartitionId> partitions() const;
  std::vector<PartitionStatus> status() const;
  NodeId id() const;

  // This node's metrics (the table in README.md, "Metrics"): read them with
  // prometheus_text() or snapshot(), from any thread. The host may register metrics of its
  // own beside them (names must not collide). Valid as long as the NodeHost; it must not
  // be read once the store or transport the NodeHost was given are gone. A cycle adds the
  // latencies of the requests it answered when it ends: a moment after the answers.
  metrics::Registry& metrics();

 private:
  explicit NodeHost(std::shared_ptr<Engine> engine);
  // Shared with the tasks it posts, which hold it weakly and skip work once it is gone.
  std::shared_ptr<Engine> engine_;
};

}  // namespace synod::node
