#include "kv_state.h"

#include <chrono>
#include <cstring>

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

namespace {

// A snapshot is a sequence of records, each a tag byte then strings (size as 4 bytes
// little-endian, then the bytes): kValue, key, value for each key of the map; kListItem,
// key, value for each value of each list, in the list's order.
constexpr char kValue = 'v';
constexpr char kListItem = 'l';

void put_string(std::string& out, const std::string& s) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(s.size() >> (8 * i)));
  out += s;
}

bool write_record(synod::node::SnapshotWriter& out, char tag, const std::string& key,
                  const std::string& value, std::string& record, std::string& why) {
  record.assign(1, tag);
  put_string(record, key);
  put_string(record, value);
  if (out.write(record.data(), record.size())) return true;
  why = out.why();
  return false;
}

// Reads exactly `size` bytes; false at a clean end (nothing read) or on damage (`why`).
bool read_exactly(synod::node::SnapshotReader& in, char* out, std::size_t size, std::string& why) {
  std::size_t at = 0;
  while (at < size) {
    const std::int64_t got = in.read(out + at, size - at);
    if (got < 0) {
      why = in.why();
      return false;
    }
    if (got == 0) {
      if (at != 0) why = "the snapshot ends inside a record";
      return false;
    }
    at += static_cast<std::size_t>(got);
  }
  return true;
}

// Reads a string inside a record, where the end of the data is damage.
bool read_string(synod::node::SnapshotReader& in, std::string& out, std::string& why) {
  unsigned char size[4];
  bool ok = read_exactly(in, reinterpret_cast<char*>(size), 4, why);
  if (ok) {
    out.resize(size[0] | size[1] << 8 | size[2] << 16 | static_cast<std::size_t>(size[3]) << 24);
    ok = out.empty() || read_exactly(in, out.data(), out.size(), why);
  }
  if (!ok && why.empty()) why = "the snapshot ends inside a record";
  return ok;
}

}  // namespace

bool KvState::save(std::uint64_t partition, synod::node::SnapshotWriter& out,
                   std::string& why) const {
  std::lock_guard lock(mu_);
  const auto p = partitions_.find(partition);
  if (p == partitions_.end()) return true;
  std::string record;
  for (const auto& [key, value] : p->second.data) {
    if (!write_record(out, kValue, key, value, record, why)) return false;
  }
  for (const auto& [key, list] : p->second.lists) {
    for (const auto& value : list) {
      if (!write_record(out, kListItem, key, value, record, why)) return false;
    }
  }
  return true;
}

bool KvState::install(std::uint64_t partition, std::uint64_t index,
                      synod::node::SnapshotReader& in, std::string& why) {
  std::map<std::string, std::string> data;
  std::map<std::string, std::vector<std::string>> lists;
  std::string key, value;
  char tag = 0;
  while (read_exactly(in, &tag, 1, why)) {
    if (tag != kValue && tag != kListItem) {
      why = "the snapshot holds a record of unknown kind " + std::to_string(static_cast<unsigned char>(tag));
      return false;
    }
    if (!read_string(in, key, why) || !read_string(in, value, why)) return false;
    if (tag == kValue) {
      data[key] = value;
    } else {
      lists[key].push_back(value);
    }
  }
  if (!why.empty()) return false;
  {
    std::lock_guard lock(mu_);
    Partition& p = partitions_[partition];
    p.data = std::move(data);
    p.lists = std::move(lists);
    p.applied = index;
    p.outcomes.clear();
  }
  applied_cv_.notify_all();
  return true;
}

}  // namespace synod_kv
