#include "synod/env/simulated_world.h"

namespace synod::env {

SimulatedWorld::SimulatedWorld(std::uint64_t seed) : random_(seed) {}

void SimulatedWorld::post(Task task) { after(Duration::zero(), std::move(task)); }

TimerId SimulatedWorld::after(Duration delay, Task task) {
  const TimerId id = next_sequence_++;
  const TimePoint due = now_ + std::max(delay, Duration::zero());
  events_.emplace(std::make_pair(due, id), std::move(task));
  due_by_id_.emplace(id, due);
  return id;
}

bool SimulatedWorld::cancel(TimerId id) {
  auto it = due_by_id_.find(id);
  if (it == due_by_id_.end()) return false;
  events_.erase({it->second, id});
  due_by_id_.erase(it);
  return true;
}

bool SimulatedWorld::step() {
  if (events_.empty()) return false;
  auto first = events_.begin();
  now_ = std::max(now_, first->first.first);
  Task task = std::move(first->second);
  due_by_id_.erase(first->first.second);
  events_.erase(first);
  task();
  return true;
}

std::size_t SimulatedWorld::run_for(Duration duration) {
  const TimePoint end = now_ + duration;
  std::size_t ran = 0;
  while (!events_.empty() && events_.begin()->first.first <= end) {
    step();
    ++ran;
  }
  now_ = end;
  return ran;
}

std::size_t SimulatedWorld::run_until_idle(std::size_t max_events) {
  std::size_t ran = 0;
  while (ran < max_events && step()) ++ran;
  return ran;
}

}  // namespace synod::env
