#include "leader_log.h"

#include <chrono>

namespace synod_kv {

void LeaderLog::record(const synod::node::LeaderChange& change) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::int64_t at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  std::lock_guard lock(mutex_);
  changes_.push_back({at_ms, change});
  if (changes_.size() > capacity_) changes_.pop_front();
}

std::string LeaderLog::json() const {
  std::lock_guard lock(mutex_);
  std::string out = "[";
  for (const auto& [at_ms, c] : changes_) {
    if (out.size() > 1) out += ',';
    out += "{\"at_ms\":" + std::to_string(at_ms) + ",\"partition\":" + std::to_string(c.partition) +
           ",\"leader\":" + std::to_string(c.leader) + ",\"term\":" + std::to_string(c.term) + "}";
  }
  return out + "]";
}

}  // namespace synod_kv
