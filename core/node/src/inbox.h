// The inbox of one partition: what other threads hand it between two of its cycles.
// Any thread fills it under the inbox's own mutex; the cycle that has claimed the
// partition takes everything in one drain(). Closing it answers what it still holds and
// refuses whatever comes later with the closing status.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "synod/env/clock.h"
#include "synod/node/node_host.h"

namespace synod::node {

struct QueuedProposal {
  std::uint32_t type = 0;
  raft::Bytes payload;
  NodeHost::ReplicationCallback done;
  env::TimePoint deadline;
};

struct QueuedRead {
  NodeHost::ReadCallback done;
  env::TimePoint deadline;
};

using RetireCallback = std::function<void(Status)>;
// Answers NodeHost::request_snapshot: the status and the snapshot's index.
using SnapshotCallback = std::function<void(Status, Index)>;

// How a save or an install the host was asked for ended (reported from the host's thread).
struct SnapshotOutcome {
  raft::SnapshotMeta meta;
  Status status = Status::Ok;
  std::string message;
};

// Everything one drain() hands the cycle.
struct InboxContents {
  std::vector<raft::Message> messages;
  std::deque<QueuedProposal> proposals;
  std::deque<QueuedRead> reads;
  std::vector<NodeId> transfers;
  // Each unreachable peer once, however many envelopes to it were lost.
  std::set<NodeId> unreachable;
  // Per peer, the outcome of each snapshot the transport finished sending.
  std::vector<std::pair<NodeId, bool>> snapshot_reports;
  std::optional<Index> applied_report;
  std::vector<SnapshotCallback> snapshot_requests;
  std::vector<SnapshotOutcome> saved;
  std::vector<SnapshotOutcome> installed;
  bool tick = false;
  // Work arrived that is more than a heartbeat: the partition is not idle.
  bool activity = false;
  // Set when the partition is being removed; it runs once the partition is retired.
  RetireCallback retire;
};

// What close() leaves for the caller to answer, outside the inbox's lock.
struct ClosedInbox {
  std::deque<QueuedProposal> proposals;
  std::deque<QueuedRead> reads;
  std::vector<SnapshotCallback> snapshot_requests;
  RetireCallback retire;
};

class Inbox {
 public:
  explicit Inbox(std::size_t max_queued_requests) : max_queued_(max_queued_requests) {}

  // Requests. Each returns Ok once queued, or why it was refused (QueueFull, or the
  // closing status); a refused request is left untouched for the caller to answer.
  Status push(QueuedProposal& proposal);
  // All of them or none.
  Status push(std::vector<QueuedProposal>& proposals);
  Status push(QueuedRead& read);
  Status push_transfer(NodeId target);
  // The host applied through `index`; InvalidArgument above `delivered`.
  Status report_applied(Index index, Index delivered);
  // Leaves `done` untouched when refused (the closing status).
  Status push_snapshot_request(SnapshotCallback& done);

  // Engine input; ignored once closed.
  void push_message(raft::Message&& message, bool is_work);
  void note_unreachable(NodeId peer);
  void note_snapshot(NodeId peer, bool delivered);
  // The host finished a save or an install; kept even once closed (nothing waits on it).
  void note_saved(SnapshotOutcome outcome);
  void note_installed(SnapshotOutcome outcome);
  void mark_tick();
  void mark_activity();
  // Asks the next cycle to retire the partition, which then calls `done`. Closes the
  // inbox for requests with UnknownPartition; the caller answers what close() returned.
  ClosedInbox retire(RetireCallback done);

  InboxContents drain();
  bool empty() const;
  // Requests queued and not yet drained (for the metrics).
  std::size_t queued_proposals() const;
  std::size_t queued_reads() const;
  // Refuses everything from now on with `status` and returns what was queued.
  ClosedInbox close(Status status);
  // The applied report not yet taken by a cycle (for the floors stop() writes).
  std::optional<Index> take_applied_report();

 private:
  Status admission_locked(std::size_t count) const;

  const std::size_t max_queued_;
  mutable std::mutex mu_;
  std::optional<Status> closed_;
  InboxContents contents_;
};

}  // namespace synod::node
