// The engine behind NodeHost: its lifecycle (start, stop, failing on a storage error or
// an exception), the request entry points, the inputs from the transport and the timer,
// and adding and removing partitions at runtime. The work itself is done by the parts:
// PartitionTable (which partitions run), RunQueue (who drives them), CyclePipeline (what
// a cycle does), Liveness (ticking and quiescence), PendingRequests (answers).
//
// Every task the engine posts holds the engine weakly and runs guarded: an exception
// (a throwing host handler, bad_alloc) fails the node with a clear error instead of
// terminating the process.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cycle.h"
#include "engine_context.h"
#include "liveness.h"
#include "partition_table.h"
#include "run_queue.h"
#include "snapshot_files.h"
#include "system_runtime.h"

namespace synod::node {

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  explicit Engine(const NodeHostConfig& config);

  // Opens (or bootstraps) the stored partitions; false with `error` when unusable.
  bool open(std::string& error);
  void start();
  void stop();

  EngineContext& context() { return ctx_; }

  void replicate(PartitionId partition, std::uint32_t type, raft::Bytes payload,
                 NodeHost::ReplicationCallback done);
  void replicate_batch(PartitionId partition, std::vector<NodeHost::BatchEntry> entries,
                       NodeHost::BatchCallback done);
  void read_index(PartitionId partition, NodeHost::ReadCallback done);
  Status transfer_leadership(PartitionId partition, NodeId target);
  Status report_applied(PartitionId partition, Index index);
  Status add_partition(PartitionId partition, const std::vector<NodeId>& voters);
  void remove_partition(PartitionId partition, std::function<void(Status)> done);
  void set_delivery_paused(bool paused);
  // Proposes a system command on partition 0 (system_runtime.h); `done` gets the result
  // of its apply.
  void propose_system(const system::Command& command,
                      std::function<void(const MapChangeResult&)> done);
  system::SystemState system_state() const;
  std::optional<system::Route> route_hash(std::uint64_t hash) const;
  void request_snapshot(PartitionId partition, SnapshotCallback done);

  NodeId wait_for_leader(PartitionId partition, std::chrono::milliseconds timeout);
  bool is_leader(PartitionId partition) const;
  NodeId leader_of(PartitionId partition) const;
  std::vector<PartitionId> partition_ids() const;
  std::vector<PartitionStatus> status() const;

 private:
  // Posts `task` to `executor`; it runs only while the engine lives, and guarded.
  void post(env::Executor& executor, std::function<void()> task);
  void guarded(const std::function<void()>& task);
  // Stops the node from a worker: nothing more may be acknowledged.
  void fail(Status status, std::string why);
  // Publishes an opened partition: it runs from now on.
  void run_partition(const PartitionPtr& partition);
  // Counts a request (or `count` of them) refused with QueueFull.
  void count_queue_full(Status status, bool proposal, std::size_t count);
  // Makes a partition with new work tick and run.
  void submit(const PartitionPtr& partition);
  void run_cycle();
  void arm_tick();
  void on_tick();
  void exchange_liveness(env::TimePoint now);
  void on_batch(transport::Batch&& batch);
  void on_unreachable(NodeId peer, std::vector<transport::Envelope>&& lost);
  void on_snapshot_status(NodeId peer, PartitionId partition, bool delivered);
  // The nodes this node exchanges liveness with: every voter of a hosted partition.
  void refresh_peers();
  void close(Partition& partition, Status status);
  // Stops running a partition that cannot go on (its snapshot cannot be installed): it is
  // reported damaged, its requests answer StorageFailure, and its storage is kept.
  void halt(PartitionId id, Term term, const std::string& why);
  // The map's decisions for this node (SystemRuntime::Hooks).
  void create_from_map(PartitionId id, const std::vector<NodeId>& voters);
  void remove_from_map(PartitionId id);
  bool hosted(PartitionId id);

  EngineContext ctx_;
  // The transport reads and writes this node's snapshot files through it (when the node
  // has a snapshot store).
  std::unique_ptr<StoreSnapshotFiles> snapshot_files_;
  PartitionTable table_;
  Liveness liveness_;
  RunQueue run_queue_;
  CyclePipeline pipeline_;

  // Serialises add_partition and remove_partition.
  std::mutex reshape_mu_;
  // Removed from the table, waiting for their last cycle to retire them.
  std::mutex retiring_mu_;
  std::map<PartitionId, PartitionPtr> retiring_;

  std::mutex life_mu_;
  std::condition_variable stop_finished_cv_;
  bool stopped_ = false;
  // Set once stop() has finished with the store and transport (see stop()).
  bool stop_finished_ = false;
  std::thread::id stopping_thread_;
  // What pending requests are answered with when the node stops, and why it stopped
  // itself (empty for a stop the host asked for).
  Status stop_status_ = Status::ShuttingDown;
  std::string failure_;
  // Written by start() and the tick task, read by stop() once no task runs.
  env::TimerId tick_timer_ = 0;
  std::uint64_t ticks_ = 0;
};

}  // namespace synod::node
