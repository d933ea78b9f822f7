// The per-cycle pipeline. One cycle drives the partitions RunQueue gave it:
//   0. drain each inbox into Raft (messages, reports, tick, requests) and collect Readys;
//   1. send the messages that need not wait for the disk, one batch per destination;
//   2. write every partition's entries, hard state and snapshot in one storage batch with
//      at most one sync (on the sync executor when there is one; the rest of the cycle
//      then runs there);
//   3. send the messages that vouch for what is now durable;
//   4. apply committed entries (or hand a snapshot to the host to install, see
//      Snapshotter), answer requests, advance Raft;
//   5. publish each partition's state and release it to the run queue.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine_context.h"
#include "liveness.h"
#include "run_queue.h"
#include "snapshotter.h"

namespace synod::node {

// Whether a message is more than a heartbeat (heartbeats neither wake a quiescent
// partition nor keep one from quiescing). A refused heartbeat is work: the follower lost
// its log.
bool is_work(const raft::Message& message);

class CyclePipeline {
 public:
  struct Hooks {
    // Runs the rest of a cycle on the sync executor (guarded; the engine stays alive).
    std::function<void(std::function<void()>)> post_sync;
    // The store refused a write: the node must stop.
    std::function<void(const std::string& why)> storage_failed;
    // A partition cannot go on (Snapshotter): stop running it.
    std::function<void(PartitionId, Term, const std::string& why)> halt;
  };

  CyclePipeline(EngineContext& context, RunQueue& run_queue, Liveness& liveness, Hooks hooks);

  void run(RunQueue::Claim claim);

 private:
  struct Work {
    Partition* partition;
    raft::Ready ready;
  };
  struct Cycle {
    RunQueue::Claim claim;
    std::vector<Work> work;
    // Per claimed partition: it ticked, or its configuration or leadership may have
    // changed; publish its full state.
    std::vector<bool> refresh;
    env::TimePoint began;
  };

  // Step 0 for one partition; false when it was retired instead.
  bool drain(Partition& p, env::TimePoint now, storage::WriteBatch& batch, bool& ticked,
             RequestLatencies* latencies);
  void retire(Partition& p, RetireCallback done);
  void finish(const std::shared_ptr<Cycle>& cycle, const storage::StorageStatus& written);
  void send(Cycle& cycle, std::vector<raft::Message> raft::Ready::*which);
  // Writes to the store, timing the sync (when there is one) for the metrics.
  storage::StorageStatus write(const storage::WriteBatch& batch, bool sync);
  // `latencies`: where the requests answered record theirs (null: metrics off).
  void apply(Partition& p, raft::Ready& rd, RequestLatencies* latencies);
  // Counts elections from the term and role changes a Ready shows.
  void count_elections(Partition& p, const raft::Ready& rd);
  // Hands committed entries to the host and answers what they decide.
  void deliver(Partition& p, const std::vector<raft::Entry>& entries,
               RequestLatencies* latencies);
  void publish(const PartitionPtr& p, bool full);

  EngineContext& ctx_;
  RunQueue& run_queue_;
  Liveness& liveness_;
  const Hooks hooks_;
  Snapshotter snapshots_;
};

}  // namespace synod::node
