// What the parts of the engine share: the configuration, the host's handlers (set before
// start and not changed after), and the few engine-wide signals.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "node_metrics.h"
#include "synod/metrics/registry.h"
#include "synod/node/node_host.h"

namespace synod::node {

struct Partition;
class SystemRuntime;

struct EngineContext {
  explicit EngineContext(const NodeHostConfig& c)
      : config(c), metrics(c.metrics ? std::make_unique<NodeMetrics>(registry) : nullptr) {}

  const NodeHostConfig config;
  // The NodeHost's metrics. `metrics` holds what the hot path records into; null when
  // NodeHostConfig::metrics is off (every use checks).
  metrics::Registry registry;
  const std::unique_ptr<NodeMetrics> metrics;
  NodeHost::ApplyHandler apply_handler;
  NodeHost::LeaderHandler leader_handler;
  NodeHost::FailureHandler failure_handler;
  SnapshotHandler snapshot_handler;
  NodeHost::PartitionFailureHandler partition_failure_handler;
  // Partition 0's state machine (system_runtime.h) and its snapshots; set by the engine
  // before it opens the partitions, never changed after.
  std::shared_ptr<SystemRuntime> system;
  SnapshotHandler system_snapshot_handler;
  // Runs a partition again from any thread, for as long as the engine lives (set by
  // start(); a host may complete a snapshot after the node is gone).
  std::function<void(const std::shared_ptr<Partition>&)> wake;

  // While set, Raft hands out no committed entries (the host's queue is full).
  std::atomic<bool> delivery_paused{false};
  std::atomic<std::uint64_t> next_read_id{1};

  // Signalled whenever a cycle publishes a partition's leader.
  std::mutex leader_mu;
  std::condition_variable leader_known;
};

}  // namespace synod::node
