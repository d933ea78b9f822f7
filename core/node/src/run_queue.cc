#include "run_queue.h"

namespace synod::node {

RunQueue::RunQueue(std::size_t partitions_per_cycle, std::size_t max_parallel_cycles,
                   PostCycle post)
    : partitions_per_cycle_(partitions_per_cycle),
      max_parallel_cycles_(max_parallel_cycles),
      post_(std::move(post)) {}

RunQueue::Task::~Task() {
  if (queue_) queue_->task_finished();
}

void RunQueue::task_finished() {
  std::lock_guard lock(mu_);
  --tasks_executing_;
  idle_.notify_all();
}

bool RunQueue::start() {
  std::lock_guard lock(mu_);
  if (started_) return false;
  started_ = running_ = true;
  return true;
}

std::optional<RunQueue::Task> RunQueue::enter() {
  std::lock_guard lock(mu_);
  if (!running_) return std::nullopt;
  ++tasks_executing_;
  return Task(this);
}

void RunQueue::schedule(const PartitionPtr& partition) {
  std::lock_guard lock(mu_);
  schedule_locked(partition);
}

void RunQueue::schedule(const std::vector<PartitionPtr>& partitions) {
  std::lock_guard lock(mu_);
  for (const auto& p : partitions) schedule_locked(p);
}

void RunQueue::schedule_locked(const PartitionPtr& partition) {
  if (!running_ || partition->scheduled) return;
  partition->scheduled = true;
  queue_.push_back(partition);
  if (cycles_posted_ < max_parallel_cycles_) post_cycle_locked();
}

void RunQueue::post_cycle_locked() {
  ++cycles_posted_;
  post_();
}

std::optional<RunQueue::Claim> RunQueue::claim() {
  std::lock_guard lock(mu_);
  --cycles_posted_;
  if (!running_) return std::nullopt;
  ++tasks_executing_;
  Claim claim{{}, Task(this)};
  // Round-robin: a partition that still has work goes to the back of the queue.
  while (!queue_.empty() && claim.partitions.size() < partitions_per_cycle_) {
    claim.partitions.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  // More runnable partitions than one cycle takes: let another worker start on them.
  if (!queue_.empty() && cycles_posted_ < max_parallel_cycles_) post_cycle_locked();
  return claim;
}

void RunQueue::release(const std::vector<PartitionPtr>& partitions, const std::vector<bool>& more) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    Partition& p = *partitions[i];
    p.scheduled = false;
    if (!p.retired && (more[i] || !p.inbox.empty())) schedule_locked(partitions[i]);
  }
  // Queued work that no posted cycle will take (they were all busy when it came).
  if (running_ && !queue_.empty() && cycles_posted_ < max_parallel_cycles_) post_cycle_locked();
}

void RunQueue::halt() {
  std::lock_guard lock(mu_);
  running_ = false;
}

void RunQueue::stop_and_wait() {
  std::unique_lock lock(mu_);
  running_ = false;
  started_ = true;
  queue_.clear();
  idle_.wait(lock, [this] { return tasks_executing_ == 0; });
}

}  // namespace synod::node
