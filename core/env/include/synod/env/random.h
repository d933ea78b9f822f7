// A small, fast, seedable generator (xoshiro256**). Every random choice in the engine
// (election jitter, fault injection, back-off) draws from one of these, so a simulation
// replays exactly from its seed.
#pragma once

#include <cstdint>

namespace synod::env {

class Random {
 public:
  explicit Random(std::uint64_t seed);
  // A generator seeded from the operating system, for production use.
  static Random from_entropy();

  std::uint64_t next();
  // Uniform in [0, bound); bound must be positive.
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [lo, hi]; requires lo <= hi.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi);
  // Uniform in [0, 1).
  double unit();
  // True with probability p (p <= 0: never; p >= 1: always).
  bool chance(double p);

 private:
  std::uint64_t state_[4];
};

}  // namespace synod::env
