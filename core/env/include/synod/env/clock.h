// Time as the engine sees it. Production reads the steady clock; the simulator advances a
// virtual one. Nothing in the engine reads a clock except through this interface.
#pragma once

#include <chrono>

namespace synod::env {

using Duration = std::chrono::nanoseconds;
// Time since an arbitrary, fixed epoch of the clock that produced it.
using TimePoint = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// std::chrono::steady_clock: monotonic, unaffected by wall-clock changes.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override;
};

}  // namespace synod::env
