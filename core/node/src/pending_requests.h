// Request tracking: the proposals and reads a partition's Raft has taken and not yet
// answered, with their deadlines, and the snapshot requests waiting for a save. Owned by
// the cycle that has claimed the partition.
//
// Every request gets exactly one answer. The three ways out live here: a result from the
// log, a snapshot or a read state (on_committed, on_snapshot_installed, complete_reads) or a
// finished save
// (complete_snapshot_requests), a deadline (expire, which the cycle calls on every tick;
// a snapshot request has none: the host's save ends it), and close() when the partition
// stops or is removed. That a
// partition with waiting requests keeps ticking, so that expire() runs, is Liveness's
// part (see Liveness::maybe_quiesce).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inbox.h"
#include "node_metrics.h"

namespace synod::node {

inline void answer(const NodeHost::ReplicationCallback& done, Status status, Index index = 0,
                   Term term = 0, NodeId hint = raft::kNoNode) {
  if (done) done(ReplicationResult{status, index, term, hint});
}

inline void answer(const NodeHost::ReadCallback& done, Status status, Index index = 0,
                   NodeId hint = raft::kNoNode) {
  if (done) done(ReadResult{status, index, hint});
}

// Answers everything a closed inbox held with `status`.
void answer_all(ClosedInbox& closed, Status status);

class PendingRequests {
 public:
  // Records latencies, timeouts, dropped entries and stale completions in `metrics` (null:
  // nothing is recorded). A request arrived `timeout` before its deadline. The calls below
  // record the latencies of what they answer in `latencies` (null: not recorded).
  void observe(NodeMetrics* metrics, env::Duration timeout);
  // Raft appended `proposals` at first_index.. in `term`.
  void add_proposals(Index first_index, Term term, std::deque<QueuedProposal>& proposals);
  void add_read(std::string context, QueuedRead&& read);
  void add_snapshot_request(SnapshotCallback done);
  bool snapshot_requested() const { return !snapshot_requests_.empty(); }

  // An entry committed at `index` in `term`: answers every proposal at or below it.
  void on_committed(Index index, Term term, RequestLatencies* latencies);
  // This node's commit index reached `commit` while its term is `term`: the proposals it
  // took in that term up to there are committed (answered once applied). For the metrics.
  void on_commit_index(Index commit, Term term, RequestLatencies* latencies);
  // The host installed a snapshot through `meta.index`: answers every proposal at or below
  // it from the snapshot's last term alone, since the entries themselves never arrive.
  void on_snapshot_installed(const raft::SnapshotMeta& meta);
  void on_read_state(const raft::ReadState& state);
  // Answers the reads whose read index the host has applied.
  void complete_reads(Index applied, RequestLatencies* latencies);
  // Answers every snapshot request waiting.
  void complete_snapshot_requests(Status status, Index index);
  void expire(env::TimePoint now);
  void close(Status status);
  bool empty() const { return proposals_.empty() && reads_.empty(); }
  std::size_t proposals() const { return proposals_.size(); }
  std::size_t reads() const { return reads_.size(); }

 private:
  struct WaitingProposal {
    Term term;
    NodeHost::ReplicationCallback done;
    env::TimePoint deadline;
  };
  struct WaitingRead {
    NodeHost::ReadCallback done;
    env::TimePoint deadline;
    std::optional<Index> read_index;
  };
  // A multimap: a node that leads again may propose at an index where its proposal of an
  // older term still waits (that entry may yet commit), and each must get its answer.
  std::multimap<Index, WaitingProposal> proposals_;
  std::map<std::string, WaitingRead> reads_;
  std::vector<SnapshotCallback> snapshot_requests_;

  env::TimePoint arrival(env::TimePoint deadline) const { return deadline - timeout_; }
  NodeMetrics* metrics_ = nullptr;
  env::Duration timeout_{};
  // The commit index on_commit_index() last saw.
  Index commit_seen_ = 0;
  // Proposals answered Timeout whose entries may still commit: (index, term). Each leaves
  // once the log is committed through its index.
  std::multimap<Index, Term> expired_;
};

}  // namespace synod::node
