#include "inbox.h"

namespace synod::node {

Status Inbox::admission_locked(std::size_t count) const {
  if (closed_) return *closed_;
  if (contents_.proposals.size() + contents_.reads.size() + count > max_queued_) {
    return Status::QueueFull;
  }
  return Status::Ok;
}

Status Inbox::push(QueuedProposal& proposal) {
  std::lock_guard lock(mu_);
  if (const Status admitted = admission_locked(1); admitted != Status::Ok) return admitted;
  contents_.proposals.push_back(std::move(proposal));
  return Status::Ok;
}

Status Inbox::push(std::vector<QueuedProposal>& proposals) {
  std::lock_guard lock(mu_);
  if (const Status admitted = admission_locked(proposals.size()); admitted != Status::Ok) {
    return admitted;
  }
  for (auto& q : proposals) contents_.proposals.push_back(std::move(q));
  return Status::Ok;
}

Status Inbox::push(QueuedRead& read) {
  std::lock_guard lock(mu_);
  if (const Status admitted = admission_locked(1); admitted != Status::Ok) return admitted;
  contents_.reads.push_back(std::move(read));
  return Status::Ok;
}

Status Inbox::push_transfer(NodeId target) {
  std::lock_guard lock(mu_);
  if (closed_) return *closed_;
  contents_.transfers.push_back(target);
  return Status::Ok;
}

Status Inbox::report_applied(Index index, Index delivered) {
  std::lock_guard lock(mu_);
  if (closed_) return *closed_;
  if (index > delivered) return Status::InvalidArgument;
  contents_.applied_report = std::max(contents_.applied_report.value_or(0), index);
  return Status::Ok;
}

Status Inbox::push_snapshot_request(SnapshotCallback& done) {
  std::lock_guard lock(mu_);
  if (closed_) return *closed_;
  contents_.snapshot_requests.push_back(std::move(done));
  return Status::Ok;
}

void Inbox::push_message(raft::Message&& message, bool is_work) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  contents_.messages.push_back(std::move(message));
  contents_.activity |= is_work;
}

void Inbox::note_unreachable(NodeId peer) {
  std::lock_guard lock(mu_);
  if (!closed_) contents_.unreachable.insert(peer);
}

void Inbox::note_snapshot(NodeId peer, bool delivered) {
  std::lock_guard lock(mu_);
  if (!closed_) contents_.snapshot_reports.emplace_back(peer, delivered);
}

void Inbox::note_saved(SnapshotOutcome outcome) {
  std::lock_guard lock(mu_);
  if (!closed_) contents_.saved.push_back(std::move(outcome));
}

void Inbox::note_installed(SnapshotOutcome outcome) {
  std::lock_guard lock(mu_);
  if (!closed_) contents_.installed.push_back(std::move(outcome));
}

void Inbox::mark_tick() {
  std::lock_guard lock(mu_);
  if (!closed_) contents_.tick = true;
}

void Inbox::mark_activity() {
  std::lock_guard lock(mu_);
  if (!closed_) contents_.activity = true;
}

ClosedInbox Inbox::retire(RetireCallback done) {
  std::lock_guard lock(mu_);
  ClosedInbox out;
  if (closed_) {
    out.retire = std::move(done);  // already closed by stop(): the caller answers
    return out;
  }
  closed_ = Status::UnknownPartition;
  out.proposals.swap(contents_.proposals);
  out.reads.swap(contents_.reads);
  out.snapshot_requests.swap(contents_.snapshot_requests);
  contents_.retire = std::move(done);
  return out;
}

InboxContents Inbox::drain() {
  // Swapped member by member: moving a whole InboxContents would allocate (a moved-from
  // std::deque gets a fresh map) on every cycle of every partition.
  InboxContents out;
  std::lock_guard lock(mu_);
  InboxContents& in = contents_;
  out.messages.swap(in.messages);
  if (!in.proposals.empty()) out.proposals.swap(in.proposals);
  if (!in.reads.empty()) out.reads.swap(in.reads);
  out.transfers.swap(in.transfers);
  out.unreachable.swap(in.unreachable);
  out.snapshot_reports.swap(in.snapshot_reports);
  out.applied_report = std::exchange(in.applied_report, std::nullopt);
  out.snapshot_requests.swap(in.snapshot_requests);
  out.saved.swap(in.saved);
  out.installed.swap(in.installed);
  out.tick = std::exchange(in.tick, false);
  out.activity = std::exchange(in.activity, false) || !out.proposals.empty() ||
                 !out.reads.empty() || !out.transfers.empty() ||
                 !out.snapshot_requests.empty() || !out.saved.empty() || !out.installed.empty();
  out.retire = std::exchange(in.retire, nullptr);
  return out;
}

std::size_t Inbox::queued_proposals() const {
  std::lock_guard lock(mu_);
  return contents_.proposals.size();
}

std::size_t Inbox::queued_reads() const {
  std::lock_guard lock(mu_);
  return contents_.reads.size();
}

bool Inbox::empty() const {
  std::lock_guard lock(mu_);
  const auto& c = contents_;
  return c.messages.empty() && c.proposals.empty() && c.reads.empty() && c.transfers.empty() &&
         c.unreachable.empty() && c.snapshot_reports.empty() && !c.applied_report && !c.tick &&
         !c.retire && c.snapshot_requests.empty() && c.saved.empty() && c.installed.empty();
}

ClosedInbox Inbox::close(Status status) {
  std::lock_guard lock(mu_);
  ClosedInbox out;
  if (!closed_) closed_ = status;
  out.proposals.swap(contents_.proposals);
  out.reads.swap(contents_.reads);
  out.snapshot_requests.swap(contents_.snapshot_requests);
  out.retire = std::exchange(contents_.retire, nullptr);
  return out;
}

std::optional<Index> Inbox::take_applied_report() {
  std::lock_guard lock(mu_);
  return std::exchange(contents_.applied_report, std::nullopt);
}

}  // namespace synod::node
