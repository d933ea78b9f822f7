// The engine's metrics, in the NodeHost's registry (synod/metrics). Two kinds:
//   - instruments the hot path records into (NodeMetrics): latencies, batch sizes,
//     refusals, stale answers, snapshot transfers. Looked up once here and kept as
//     references, so that recording is a relaxed atomic add; absent when
//     NodeHostConfig::metrics is off;
//   - collectors over what other parts count anyway (register_collectors): the store's and
//     the transport's counters, each partition's published state and its plain atomic
//     counters (PartitionCounters). They cost nothing until the registry is read.
// Every name, type and label is listed in README.md ("Metrics"); tests/capi checks that the
// table and the registry agree.
#pragma once

#include <map>
#include <mutex>
#include <utility>

#include "synod/env/clock.h"
#include "synod/metrics/registry.h"
#include "synod/node/node_host.h"

namespace synod::node {

class PartitionTable;
class Liveness;

class NodeMetrics {
 public:
  explicit NodeMetrics(metrics::Registry& registry);

  // Latencies of requests, from when the host made them.
  metrics::DurationHistogram& propose_to_commit;
  metrics::DurationHistogram& propose_to_apply;
  metrics::DurationHistogram& read_index;
  // The pipeline: one storage sync, one cycle (claim to release, a sync included).
  metrics::DurationHistogram& storage_sync;
  metrics::DurationHistogram& cycle;
  // What one cycle's storage batch carries.
  metrics::Histogram& storage_batch_entries;
  metrics::Histogram& storage_batch_bytes;
  // Raft messages in one transport batch (one per destination per cycle).
  metrics::Histogram& network_batch_messages;

  // Requests refused because a bound was reached (the inbox, or Raft's uncommitted or
  // pending-read limit).
  metrics::Counter& proposals_queue_full;
  metrics::Counter& reads_queue_full;
  metrics::Counter& proposals_timed_out;
  metrics::Counter& reads_timed_out;
  // Proposals whose entry a new leader replaced (answered Dropped).
  metrics::Counter& proposals_dropped;
  // Entries committed after their proposal had been answered Timeout: the caller gave up
  // on a write that happened.
  metrics::Counter& stale_completions;
  metrics::Counter& heartbeats_sent;
  metrics::Counter& storage_errors;
  metrics::Counter& snapshots_delivered;
  metrics::Counter& snapshots_failed;
  metrics::Counter& snapshots_received;

  // A snapshot transfer begins (an InstallSnapshot handed to the transport) and ends (the
  // transport's report); the time between is recorded. Rare: a lock is fine.
  void snapshot_sent(NodeId peer, PartitionId partition, env::TimePoint now);
  void snapshot_reported(NodeId peer, PartitionId partition, bool delivered, env::TimePoint now);

 private:
  metrics::DurationHistogram& snapshot_send_;
  std::mutex snapshots_mu_;
  std::map<std::pair<NodeId, PartitionId>, env::TimePoint> snapshots_begun_;
};

// The request latencies one cycle records, added to the node's histograms when it is
// destroyed: the two workers would otherwise contend for the histograms' cache lines at
// every answer. `now` is when the cycle answers.
struct RequestLatencies {
  RequestLatencies(NodeMetrics& metrics, env::TimePoint at)
      : now(at),
        commit(metrics.propose_to_commit),
        apply(metrics.propose_to_apply),
        read(metrics.read_index) {}
  const env::TimePoint now;
  metrics::DurationBatch commit;
  metrics::DurationBatch apply;
  metrics::DurationBatch read;
};

// Registers the collectors over the partitions (table, liveness), the store and the
// transport of `config`. The registry must not be read once any of them is gone.
void register_collectors(metrics::Registry& registry, const NodeHostConfig& config,
                         const PartitionTable& table, const Liveness& liveness);

}  // namespace synod::node
