// One thread, virtual time: the simulator's Clock, Executor and Scheduler in one object.
//
// Work is a queue of events ordered by (due time, sequence number). Nothing runs until
// the caller steps the world; time jumps to the next event's due time. With the same
// seed and the same calls, every run executes the same events in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

#include "synod/env/clock.h"
#include "synod/env/random.h"
#include "synod/env/scheduler.h"

namespace synod::env {

class SimulatedWorld final : public Clock, public Executor, public Scheduler {
 public:
  explicit SimulatedWorld(std::uint64_t seed);

  TimePoint now() const override { return now_; }
  // Queued behind every event already due now.
  void post(Task task) override;
  TimerId after(Duration delay, Task task) override;
  bool cancel(TimerId id) override;

  // Runs the next event (advancing time to it); false if none is queued.
  bool step();
  // Runs events due up to now() + `duration`, then sets the time to exactly that.
  // Returns the number of events run.
  std::size_t run_for(Duration duration);
  // Runs events until none is queued or `max_events` ran; returns the number run.
  std::size_t run_until_idle(std::size_t max_events);
  std::size_t pending() const { return events_.size(); }

  // The world's generator: the only randomness a simulation may use.
  Random& random() { return random_; }

 private:
  TimePoint now_{0};
  std::uint64_t next_sequence_ = 1;
  // Key: (due, sequence). The sequence doubles as the TimerId.
  std::map<std::pair<TimePoint, std::uint64_t>, Task> events_;
  std::map<TimerId, TimePoint> due_by_id_;
  Random random_;
};

}  // namespace synod::env
