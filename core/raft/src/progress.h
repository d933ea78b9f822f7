// The leader's view of one follower's replication (thesis §10.2 and etcd's design):
// Probe sends one Append at a time until the follower's match point is found; Replicate
// pipelines Appends within an in-flight window; Snapshot waits for a snapshot to land.
#pragma once

#include <cstddef>
#include <deque>

#include "synod/raft/raw_node.h"

namespace synod::raft {

// Appends sent but not yet acknowledged, bounded in messages and bytes.
class Inflights {
 public:
  Inflights(std::size_t max_messages, std::size_t max_bytes)
      : max_messages_(max_messages), max_bytes_(max_bytes) {}

  void add(Index last_index, std::size_t bytes) {
    sent_.push_back({last_index, bytes});
    bytes_ += bytes;
  }
  // Frees every message whose last entry is at or below `index`.
  void free_to(Index index) {
    while (!sent_.empty() && sent_.front().last_index <= index) {
      bytes_ -= sent_.front().bytes;
      sent_.pop_front();
    }
  }
  // Frees the oldest message, which may have been lost (see the heartbeat response).
  void free_first_one() {
    if (sent_.empty()) return;
    bytes_ -= sent_.front().bytes;
    sent_.pop_front();
  }
  void reset() {
    sent_.clear();
    bytes_ = 0;
  }
  bool full() const {
    return sent_.size() >= max_messages_ || (max_bytes_ > 0 && bytes_ >= max_bytes_);
  }
  std::size_t count() const { return sent_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Sent {
    Index last_index;
    std::size_t bytes;
  };
  std::size_t max_messages_;
  std::size_t max_bytes_;
  std::deque<Sent> sent_;
  std::size_t bytes_ = 0;
};

struct Progress {
  Progress(Index next_index, std::size_t max_messages, std::size_t max_bytes, bool is_learner)
      : next(next_index), learner(is_learner), inflights(max_messages, max_bytes) {}

  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::Probe;
  // In Snapshot state: the index of the snapshot being sent.
  Index pending_snapshot = 0;
  // In Probe state: an Append is out and unanswered; send no more until it is.
  bool probe_sent = false;
  // Heard from since the last check-quorum round.
  bool recently_active = false;
  bool learner = false;
  Inflights inflights;

  void become_probe() {
    if (state == ProgressState::Snapshot) {
      next = std::max(match + 1, pending_snapshot + 1);
    } else {
      next = match + 1;
    }
    reset_state(ProgressState::Probe);
  }
  void become_replicate() {
    next = match + 1;
    reset_state(ProgressState::Replicate);
  }
  void become_snapshot(Index snapshot_index) {
    reset_state(ProgressState::Snapshot);
    pending_snapshot = snapshot_index;
  }

  // The follower acknowledged everything through `index`. Returns whether match moved.
  bool maybe_update(Index index) {
    bool updated = false;
    if (match < index) {
      match = index;
      updated = true;
      probe_sent = false;
    }
    next = std::max(next, index + 1);
    return updated;
  }

  // The follower refused an Append whose preceding entry was `rejected`; `hint` is the
  // highest index it might still share with us. Returns false for a stale refusal.
  bool maybe_decrease(Index rejected, Index hint) {
    if (state == ProgressState::Replicate) {
      if (rejected <= match) return false;
      next = match + 1;
      return true;
    }
    if (next == 0 || next - 1 != rejected) return false;
    next = std::max(std::min(rejected, hint + 1), match + 1);
    probe_sent = false;
    return true;
  }

  // The follower holds only through `last_index`, below the match it acknowledged: it
  // lost its log. Its match goes back there and the leader probes from it.
  void lost_log(Index last_index) {
    match = last_index;
    next = last_index + 1;
    reset_state(ProgressState::Probe);
  }

  // Records that an Append carrying entries through `last_index` went out.
  void sent_append(Index last_index, std::size_t bytes, bool had_entries) {
    if (state == ProgressState::Replicate) {
      if (had_entries) {
        next = last_index + 1;
        inflights.add(last_index, bytes);
      }
    } else if (state == ProgressState::Probe) {
      probe_sent = true;
    }
  }

  bool paused() const {
    switch (state) {
      case ProgressState::Probe:
        return probe_sent;
      case ProgressState::Replicate:
        return inflights.full();
      case ProgressState::Snapshot:
        return true;
    }
    return true;
  }

 private:
  void reset_state(ProgressState new_state) {
    state = new_state;
    probe_sent = false;
    pending_snapshot = 0;
    inflights.reset();
  }
};

}  // namespace synod::raft
