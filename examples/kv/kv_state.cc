#include "kv_state.h"

#include <chrono>

namespace synod_kv {

void KvState::apply(std::uint64_t partition, std::uint64_t index, std::string_view entry) {
  {
    std::lock_guard lock(mu_);
    Partition& p = partitions_[partition];
    p.applied = index;
    Outcome outcome;
    if (const auto command = decode(entry)) {
      const auto it = p.data.find(command->key);
      if (it != p.data.end()) outcome.previous = it->second;
      switch (command->op) {
        case Op::Put:
          p.data[command->key] = command->value;
          break;
        case Op::Delete:
          if (it != p.data.end()) p.data.erase(it);
          break;
        case Op::CompareAndSet:
          outcome.applied = outcome.previous == command->expected;
          if (outcome.applied) p.data[command->key] = command->value;
          break;
        case Op::Append: {
          auto& list = p.lists[command->key];
          outcome.previous.reset();
          outcome.position = list.size();
          list.push_back(command->value);
          break;
        }
      }
    } else {
      outcome.applied = false;
    }
    p.outcomes.emplace(index, std::move(outcome));
    if (p.outcomes.size() > kRememberedOutcomes) p.outcomes.erase(p.outcomes.begin());
  }
  applied_cv_.notify_all();
}

std::optional<Outcome> KvState::await_outcome(std::uint64_t partition, std::uint64_t index,
                                              int timeout_ms) {
  std::unique_lock lock(mu_);
  const bool reached = applied_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return partitions_[partition].applied >= index;
  });
  if (!reached) return std::nullopt;
  const auto& outcomes = partitions_[partition].outcomes;
  const auto it = outcomes.find(index);
  if (it == outcomes.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> KvState::get(std::uint64_t partition, const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto p = partitions_.find(partition);
  if (p == partitions_.end()) return std::nullopt;
  const auto it = p->second.data.find(key);
  if (it == p->second.data.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> KvState::list(std::uint64_t partition, const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto p = partitions_.find(partition);
  if (p == partitions_.end()) return {};
  const auto it = p->second.lists.find(key);
  return it == p->second.lists.end() ? std::vector<std::string>{} : it->second;
}

std::uint64_t KvState::applied(std::uint64_t partition) const {
  std::lock_guard lock(mu_);
  const auto p = partitions_.find(partition);
  return p == partitions_.end() ? 0 : p->second.applied;
}

}  // namespace synod_kv
