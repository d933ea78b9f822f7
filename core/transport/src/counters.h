// The TransportStats of one network endpoint, updated from many threads. A lock of its
// own, held only for the increments, so that counting never waits for a peer.
#pragma once

#include <cstdint>
#include <mutex>

#include "synod/transport/transport.h"

namespace synod::transport {

using Counter = std::uint64_t TransportStats::*;

class Counters {
 public:
  void add(Counter counter, std::uint64_t n = 1) {
    std::lock_guard lock(mu_);
    stats_.*counter += n;
  }
  // Several counters at once, so that stats() never shows one without the others.
  template <typename Update>
  void update(Update&& update) {
    std::lock_guard lock(mu_);
    update(stats_);
  }
  TransportStats snapshot() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  mutable std::mutex mu_;
  TransportStats stats_;
};

}  // namespace synod::transport
