// A linearizability checker for the client history of a key-value store, in the style of
// Wing & Gong's search with Lowe's memoization (the approach Porcupine popularized).
//
// Each key is a register checked on its own (linearizability is compositional). An
// operation was invoked at one time and answered at a later one; the checker searches
// for an order of the operations, consistent with real time (an operation answered
// before another was invoked comes first), in which every answer is what a single
// register would have given. Operations whose outcome the client never learned (a
// timed-out write) may take effect at any point after their invocation, or never.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synod::sim {

enum class OpKind : std::uint8_t {
  Put,             // value := argument
  Get,             // answers the current value (nullopt: absent)
  CompareAndSwap,  // if value == expected then value := argument; answers whether it did
  Delete,          // value := absent
};

struct Operation {
  std::string key;
  OpKind kind = OpKind::Get;
  std::optional<std::string> expected;  // CompareAndSwap: the value required (nullopt: absent)
  std::string argument;                 // Put, CompareAndSwap: the value written
  // The answer: for Get the value read; for CompareAndSwap whether it swapped.
  std::optional<std::string> read;
  bool swapped = false;
  // Times on one clock. An operation whose outcome is unknown has no answer time.
  std::uint64_t invoked_at = 0;
  std::optional<std::uint64_t> answered_at;
  std::uint64_t client = 0;
};

enum class Verdict : std::uint8_t { Linearizable, NotLinearizable, GaveUp };

struct CheckResult {
  Verdict verdict = Verdict::Linearizable;
  // For NotLinearizable: the key whose history has no valid order, and a description of
  // the longest prefix of it that could be ordered.
  std::string key;
  std::string explanation;
};

// Checks a whole history. `max_steps_per_key` bounds the search of each key (the problem
// is NP-complete in general); a key that exceeds it yields GaveUp, never a false verdict.
CheckResult check_history(const std::vector<Operation>& history,
                          std::size_t max_steps_per_key = 2'000'000);

const char* to_string(Verdict verdict);

}  // namespace synod::sim
