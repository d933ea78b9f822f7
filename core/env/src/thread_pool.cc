#include "synod/env/thread_pool.h"

namespace synod::env {

ThreadPool::ThreadPool(std::size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { run(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    tasks_.clear();
  }
  ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::post(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void ThreadPool::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

TimerThread::TimerThread(const Clock& clock, Executor& executor)
    : clock_(clock), executor_(executor), thread_([this] { run(); }) {}

TimerThread::~TimerThread() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    timers_.clear();
    due_by_id_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

TimerId TimerThread::after(Duration delay, Task task) {
  std::lock_guard lock(mu_);
  const TimerId id = next_id_++;
  const TimePoint due = clock_.now() + std::max(delay, Duration::zero());
  timers_.emplace(std::make_pair(due, id), std::move(task));
  due_by_id_.emplace(id, due);
  changed_.notify_all();
  return id;
}

bool TimerThread::cancel(TimerId id) {
  std::lock_guard lock(mu_);
  auto it = due_by_id_.find(id);
  if (it == due_by_id_.end()) return false;
  timers_.erase({it->second, id});
  due_by_id_.erase(it);
  return true;
}

void TimerThread::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      changed_.wait(lock);
      continue;
    }
    auto first = timers_.begin();
    const TimePoint now = clock_.now();
    if (first->first.first > now) {
      // The clock is the engine's, not necessarily steady_clock: wait by duration.
      changed_.wait_for(lock, first->first.first - now);
      continue;
    }
    Task task = std::move(first->second);
    due_by_id_.erase(first->first.second);
    timers_.erase(first);
    executor_.post(std::move(task));
  }
}

}  // namespace synod::env
