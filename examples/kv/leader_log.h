// The last leader changes a synod-kv node saw, kept for its status page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "synod/node/node_host.h"

namespace synod_kv {

class LeaderLog {
 public:
  explicit LeaderLog(std::size_t capacity = 64) : capacity_(capacity) {}

  // Called from the engine's leader handler, on any of its threads.
  void record(const synod::node::LeaderChange& change);
  // The changes as a JSON array, oldest first: {"at_ms" (wall clock, so that the page can
  // merge what several nodes saw), "partition", "leader" (0: none known), "term"}.
  std::string json() const;

 private:
  struct Change {
    std::int64_t at_ms;
    synod::node::LeaderChange change;
  };
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<Change> changes_;
};

}  // namespace synod_kv
