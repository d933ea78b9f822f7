// The replicated commands of synod-kv and their encoding in log entries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synod_kv {

// Append adds `value` at the end of the key's list; lists and plain values are separate
// namespaces (a key may name both).
enum class Op : std::uint8_t { Put = 1, Delete = 2, CompareAndSet = 3, Append = 4 };

struct Command {
  Op op = Op::Put;
  std::string key;
  std::string value;
  // CompareAndSet only: the value the key must hold, or nullopt for "must be absent".
  std::optional<std::string> expected;
};

// The entry type every command is proposed with.
inline constexpr std::uint32_t kCommandEntryType = 1;

std::string encode(const Command& command);
// nullopt for bytes that are not a command (the state machine skips them).
std::optional<Command> decode(std::string_view bytes);

// The partition (1..partitions) that owns `key`: FNV-1a, stable across processes.
std::uint64_t partition_of(std::string_view key, std::uint32_t partitions);

}  // namespace synod_kv
