#include "notifier.h"

#include <utility>

#include "snapshot_partitions.h"

namespace synod::transport {
void Notifier::start() {
  std::lock_guard lock(mu_);
  if (finishing_ || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Notifier::lost(Batch&& batch, bool unreachable) {
  Report report{batch.to, {}, snapshot_partitions(batch), false};
  if (unreachable) report.lost = std::move(batch.envelopes);
  if (report.lost.empty() && report.snapshots.empty()) return;
  push(std::move(report));
}

void Notifier::delivered(const Batch& batch) {
  Report report{batch.to, {}, snapshot_partitions(batch), true};
  if (!report.snapshots.empty()) push(std::move(report));
}

void Notifier::push(Report&& report) {
  std::lock_guard lock(mu_);
  reports_.push_back(std::move(report));
  changed_.notify_one();
}

void Notifier::finish() {
  std::thread thread;
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
    changed_.notify_all();
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void Notifier::run() {
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [&] { return finishing_ || !reports_.empty(); });
    if (reports_.empty()) return;
    Report report = std::move(reports_.front());
    reports_.pop_front();
    lock.unlock();
    // Skipped by the state once the endpoint no longer runs.
    if (!report.lost.empty()) state_.report_unreachable(report.peer, std::move(report.lost));
    for (PartitionId partition : report.snapshots) {
      state_.report_snapshot(report.peer, partition, report.delivered);
    }
    lock.lock();
  }
}

}  // namespace synod::transport
