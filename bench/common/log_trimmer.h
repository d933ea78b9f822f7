// The runtime takes no snapshots yet, so a memory store would keep every entry and a
// process would grow by gigabytes in a run. Like the core benchmark, the benchmarks
// compact the logs themselves, each node for itself: a leader below what every replica
// has, a follower below its own commit index, both minus a margin a leader may still
// need to send.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "synod/node/node_host.h"
#include "synod/storage/log_store.h"

namespace synod::bench {

class LogTrimmer {
 public:
  void trim(const node::NodeHost& host, storage::LogStore& store) {
    constexpr node::Index kMargin = 4096;
    storage::WriteBatch batch;
    for (const auto& ps : host.status()) {
      node::Index upto = ps.raft.hard_state.commit;
      if (ps.raft.soft_state.role == raft::Role::Leader) {
        for (const auto& peer : ps.raft.peers) upto = std::min(upto, peer.match);
      }
      if (upto <= kMargin) continue;
      const node::Index through = upto - kMargin;
      node::Index& trimmed = trimmed_[ps.partition];
      if (through <= trimmed) continue;
      if (!store.create_snapshot(ps.partition, through, ps.raft.conf, {}).ok()) continue;
      ++syncs_;
      batch.add(ps.partition).compact_through = through;
      trimmed = through;
    }
    if (batch.empty()) return;
    // Synced, so that the durable layer drops the entries here, on this thread, and not
    // inside the runtime's next write.
    if (store.write(batch, true).ok()) {
      ++batches_;
      ++syncs_;
    }
  }

  // The trimming's own store batches and syncs, which are not the runtime's work.
  std::uint64_t batches() const { return batches_; }
  std::uint64_t syncs() const { return syncs_; }

 private:
  std::unordered_map<node::PartitionId, node::Index> trimmed_;
  std::uint64_t batches_ = 0;
  std::uint64_t syncs_ = 0;
};

}  // namespace synod::bench
