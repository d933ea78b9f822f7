// What the parts of the engine share: the configuration, the host's handlers (set before
// start and not changed after), and the few engine-wide signals.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "synod/node/node_host.h"

namespace synod::node {

struct EngineContext {
  explicit EngineContext(const NodeHostConfig& c) : config(c) {}

  const NodeHostConfig config;
  NodeHost::ApplyHandler apply_handler;
  NodeHost::LeaderHandler leader_handler;
  NodeHost::FailureHandler failure_handler;
  SnapshotHandler snapshot_handler;
  NodeHost::PartitionFailureHandler partition_failure_handler;

  // While set, Raft hands out no committed entries (the host's queue is full).
  std::atomic<bool> delivery_paused{false};
  std::atomic<std::uint64_t> next_read_id{1};

  // Signalled whenever a cycle publishes a partition's leader.
  std::mutex leader_mu;
  std::condition_variable leader_known;
};

}  // namespace synod::node
