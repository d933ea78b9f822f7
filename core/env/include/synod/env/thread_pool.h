// Real threads: a fixed pool of workers (the Executor) and one timer thread (the
// Scheduler). Both stop and join in their destructors; tasks still queued are dropped,
// timers still pending never fire.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "synod/env/scheduler.h"

namespace synod::env {

class ThreadPool final : public Executor {
 public:
  // `threads` == 0 means one per hardware core.
  explicit ThreadPool(std::size_t threads = 0);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void post(Task task) override;
  std::size_t size() const { return workers_.size(); }

 private:
  void run();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

class TimerThread final : public Scheduler {
 public:
  // Expired timers are handed to `executor`, so a slow task never delays other timers.
  TimerThread(const Clock& clock, Executor& executor);
  ~TimerThread() override;
  TimerThread(const TimerThread&) = delete;
  TimerThread& operator=(const TimerThread&) = delete;

  TimerId after(Duration delay, Task task) override;
  bool cancel(TimerId id) override;

 private:
  void run();

  const Clock& clock_;
  Executor& executor_;
  std::mutex mu_;
  std::condition_variable changed_;
  // Ordered by due time, then by id so that equal deadlines fire in creation order.
  std::map<std::pair<TimePoint, TimerId>, Task> timers_;
  std::map<TimerId, TimePoint> due_by_id_;
  TimerId next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace synod::env
