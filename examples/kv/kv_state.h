// The key-value state machine of one synod-kv node: one map per partition, changed only
// by committed commands, in log order. It remembers the outcome of recent commands by
// log index so the node that proposed one can answer its client.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "command.h"
#include "synod/node/snapshots.h"

namespace synod_kv {

struct Outcome {
  // CompareAndSet: whether the value was swapped; Put and Delete always apply.
  bool applied = true;
  // The key's value before the command (nullopt: it was absent).
  std::optional<std::string> previous;
  // Append: the position (from 0) the value took in the key's list.
  std::uint64_t position = 0;
};

class KvState {
 public:
  // Applies the committed entry at `index` of `partition`.
  void apply(std::uint64_t partition, std::uint64_t index, std::string_view entry);
  // Waits until `index` of `partition` is applied (at most `timeout_ms`) and returns its
  // outcome; nullopt on timeout or when the outcome is no longer remembered.
  std::optional<Outcome> await_outcome(std::uint64_t partition, std::uint64_t index,
                                       int timeout_ms);
  std::optional<std::string> get(std::uint64_t partition, const std::string& key) const;
  std::uint64_t applied(std::uint64_t partition) const;
  // The key's list (empty when nothing was appended to it).
  std::vector<std::string> list(std::uint64_t partition, const std::string& key) const;

  // Snapshots (synod/node/snapshots.h): the partition's map and lists, written as they
  // stand (the engine asks right after the entry at the snapshot's index), or replaced by
  // one read back. The remembered outcomes are this node's own bookkeeping and are not saved.
  bool save(std::uint64_t partition, synod::node::SnapshotWriter& out, std::string& why) const;
  bool install(std::uint64_t partition, std::uint64_t index, synod::node::SnapshotReader& in,
               std::string& why);

 private:
  struct Partition {
    std::map<std::string, std::string> data;
    std::map<std::string, std::vector<std::string>> lists;
    std::uint64_t applied = 0;
    // Outcomes of the most recent commands, by index.
    std::map<std::uint64_t, Outcome> outcomes;
  };
  static constexpr std::size_t kRememberedOutcomes = 100'000;

  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  std::unordered_map<std::uint64_t, Partition> partitions_;
};

}  // namespace synod_kv
