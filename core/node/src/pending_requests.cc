#include "pending_requests.h"

namespace synod::node {

void answer_all(ClosedInbox& closed, Status status) {
  for (auto& q : closed.proposals) answer(q.done, status);
  for (auto& q : closed.reads) answer(q.done, status);
  for (auto& done : closed.snapshot_requests) done(status, 0);
  closed.proposals.clear();
  closed.reads.clear();
  closed.snapshot_requests.clear();
}

void PendingRequests::observe(NodeMetrics* metrics, env::Duration timeout) {
  metrics_ = metrics;
  timeout_ = timeout;
}

void PendingRequests::add_proposals(Index first_index, Term term,
                                    std::deque<QueuedProposal>& proposals) {
  for (std::size_t i = 0; i < proposals.size(); ++i) {
    proposals_.emplace(first_index + i,
                       WaitingProposal{term, std::move(proposals[i].done), proposals[i].deadline});
  }
}

void PendingRequests::add_read(std::string context, QueuedRead&& read) {
  reads_.emplace(std::move(context),
                 WaitingRead{std::move(read.done), read.deadline, std::nullopt});
}

void PendingRequests::on_committed(Index index, Term term, RequestLatencies* latencies) {
  if (metrics_ && !expired_.empty()) {
    // The caller of a timed-out proposal was told Timeout, yet its entry is in the log.
    for (auto it = expired_.begin(); it != expired_.end() && it->first <= index;) {
      if (it->first == index && it->second == term) metrics_->stale_completions.add();
      it = expired_.erase(it);
    }
  }
  // Everything at or below a committed index is decided: this entry's proposal succeeded
  // if the terms match; any older waiter lost its slot to a new leader.
  while (!proposals_.empty() && proposals_.begin()->first <= index) {
    auto node = proposals_.extract(proposals_.begin());
    const bool mine = node.key() == index && node.mapped().term == term;
    if (mine && latencies) {
      latencies->apply.observe(latencies->now - arrival(node.mapped().deadline));
    } else if (!mine && metrics_) {
      metrics_->proposals_dropped.add();
    }
    answer(node.mapped().done, mine ? Status::Ok : Status::Dropped, node.key(),
           node.mapped().term);
  }
}

void PendingRequests::on_snapshot_installed(const raft::SnapshotMeta& meta) {
  // Terms never decrease along a log. An entry of the snapshot's last term was appended by
  // that term's leader after all of its own earlier entries, so a proposal of that term
  // committed; one of a later term cannot be in the committed prefix. One of an earlier
  // term may or may not be: its outcome is unknown, as after a timeout.
  if (metrics_) {
    for (auto it = expired_.begin(); it != expired_.end() && it->first <= meta.index;) {
      if (it->second == meta.term) metrics_->stale_completions.add();
      it = expired_.erase(it);
    }
  }
  while (!proposals_.empty() && proposals_.begin()->first <= meta.index) {
    auto node = proposals_.extract(proposals_.begin());
    const Term term = node.mapped().term;
    const Status status = term == meta.term  ? Status::Ok
                          : term > meta.term ? Status::Dropped
                                             : Status::Timeout;
    if (status == Status::Dropped && metrics_) metrics_->proposals_dropped.add();
    answer(node.mapped().done, status, node.key(), term);
  }
}

void PendingRequests::on_commit_index(Index commit, Term term, RequestLatencies* latencies) {
  if (!latencies || commit <= commit_seen_) return;
  auto it = proposals_.upper_bound(commit_seen_);
  const auto end = proposals_.upper_bound(commit);
  commit_seen_ = commit;
  // An entry of this node's own term at or below the commit index is the one it appended.
  for (; it != end; ++it) {
    if (it->second.term != term) continue;
    latencies->commit.observe(latencies->now - arrival(it->second.deadline));
  }
}

void PendingRequests::on_read_state(const raft::ReadState& state) {
  auto it = reads_.find(state.context);
  if (it != reads_.end()) it->second.read_index = state.index;
}

void PendingRequests::complete_reads(Index applied, RequestLatencies* latencies) {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.read_index && *it->second.read_index <= applied) {
      if (latencies) latencies->read.observe(latencies->now - arrival(it->second.deadline));
      answer(it->second.done, Status::Ok, applied);
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

void PendingRequests::expire(env::TimePoint now) {
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline <= now) {
      if (metrics_) {
        metrics_->proposals_timed_out.add();
        expired_.emplace(it->first, it->second.term);
      }
      answer(it->second.done, Status::Timeout, it->first, it->second.term);
      it = proposals_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline <= now) {
      if (metrics_) metrics_->reads_timed_out.add();
      answer(it->second.done, Status::Timeout);
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

void PendingRequests::close(Status status) {
  expired_.clear();
  for (auto& [index, w] : std::exchange(proposals_, {})) answer(w.done, status);
  for (auto& [context, r] : std::exchange(reads_, {})) answer(r.done, status);
  complete_snapshot_requests(status, 0);
}

void PendingRequests::add_snapshot_request(SnapshotCallback done) {
  snapshot_requests_.push_back(std::move(done));
}

void PendingRequests::complete_snapshot_requests(Status status, Index index) {
  for (auto& done : std::exchange(snapshot_requests_, {})) {
    if (done) done(status, index);
  }
}

}  // namespace synod::node
