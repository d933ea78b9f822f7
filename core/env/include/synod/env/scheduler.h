// Deferred work: run a function after a delay, or as soon as possible. The runtime's
// timers (ticks, proposal timeouts, reconnect back-off) and its work queue go through
// these interfaces, so the simulator can run the same code on virtual time.
#pragma once

#include <cstdint>
#include <functional>

#include "synod/env/clock.h"

namespace synod::env {

using TimerId = std::uint64_t;
using Task = std::function<void()>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `task` soon, on some thread of this executor. Never runs it inline.
  virtual void post(Task task) = 0;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs `task` once `delay` has passed. Returns an id for cancel().
  virtual TimerId after(Duration delay, Task task) = 0;
  // Cancels a timer that has not fired; returns whether it was still pending.
  virtual bool cancel(TimerId id) = 0;
};

}  // namespace synod::env
