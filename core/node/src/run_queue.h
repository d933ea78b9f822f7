// Scheduling: which partitions have work, which worker cycle drives them, and how many
// engine tasks run now.
//
// A partition with work is queued once (Partition::scheduled) and claimed by one cycle at
// a time; a cycle takes at most partitions_per_cycle of them, round-robin, and a
// partition that still has work when released goes to the back of the queue. At most
// max_parallel_cycles cycles are posted to the executor at once.
//
// Every engine task (cycle, tick, sync continuation) holds a Task while it runs; stop()
// waits until none is held, after which no task touches the store or the transport.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "partition.h"

namespace synod::node {

class RunQueue {
 public:
  // Posts one cycle task to the executor; the task calls claim().
  using PostCycle = std::function<void()>;
  RunQueue(std::size_t partitions_per_cycle, std::size_t max_parallel_cycles, PostCycle post);

  // A running engine task; released (also by an exception) when destroyed.
  class Task {
   public:
    explicit Task(RunQueue* queue) : queue_(queue) {}
    Task(Task&& other) noexcept : queue_(std::exchange(other.queue_, nullptr)) {}
    Task& operator=(Task&&) = delete;
    ~Task();

   private:
    RunQueue* queue_;
  };

  struct Claim {
    std::vector<PartitionPtr> partitions;
    Task task;
  };

  // Accepts work from now on; false when started before or stopped.
  bool start();
  // A task that is not a cycle (a tick); nullopt once stopped.
  std::optional<Task> enter();
  void schedule(const PartitionPtr& partition);
  void schedule(const std::vector<PartitionPtr>& partitions);
  // Called once by every posted cycle task: the partitions it drives, or nullopt once
  // stopped.
  std::optional<Claim> claim();
  // The cycle is done with `partitions`; `more[i]` says whether Raft has more work for
  // partitions[i]. Partitions with work (there, or in their inbox) are queued again.
  void release(const std::vector<PartitionPtr>& partitions, const std::vector<bool>& more);
  // Claims nothing more (a failure stops the node); tasks already running go on.
  void halt();
  // halt(), drops the queue and waits until no task runs.
  void stop_and_wait();

 private:
  void schedule_locked(const PartitionPtr& partition);
  void post_cycle_locked();
  void task_finished();

  const std::size_t partitions_per_cycle_;
  const std::size_t max_parallel_cycles_;
  const PostCycle post_;

  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::deque<PartitionPtr> queue_;
  std::size_t cycles_posted_ = 0;
  std::size_t tasks_executing_ = 0;
  bool running_ = false;
  bool started_ = false;
};

}  // namespace synod::node
