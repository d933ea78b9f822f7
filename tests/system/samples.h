// Sample commands and states, shared by the codec tests and the fuzz target's seeds
// (tests/fuzz/system_*): plain C++, no GoogleTest.
#pragma once

#include <string>
#include <vector>

#include "synod/system/commands.h"

namespace synod::system::samples {

// Every kind of command, with and without its optional fields, and extreme values.
inline std::vector<Command> commands() {
  constexpr std::uint64_t kTop = ~std::uint64_t{0};
  return {Bootstrap{3, {{1, "a:1"}, {kTop, std::string(kMaxAddressSize, 'x')}}},
          Bootstrap{0, {}},
          CreatePartition{7, RoutingMode::Unrouted, {}},
          CreatePartition{0, RoutingMode::HashRange, {0, kTop}},
          RemovePartition{1, 2},
          SplitBegin{kTop, 3, {}},
          SplitBegin{4, 5, 0},
          SplitBegin{4, 5, kTop},
          SplitComplete{6, 7},
          SplitAbort{8, 9},
          MergeBegin{10, 11, 12},
          MergeComplete{13, 14},
          MergeAbort{15, 16},
          AddLearner{17, 18, "host:9"},
          PromoteMember{19, 20},
          MarkLeaving{21, 22},
          RemoveMember{23, kTop}};
}

// A state with a split and a merge in progress, an unrouted and a removed partition, a
// learner, a leaving voter and a retired member id; built with apply(), so reachable.
inline SystemState busy_state() {
  SystemState s;
  const Command steps[] = {Bootstrap{4, {{1, "a"}, {2, "b"}, {3, "c"}}},
                           CreatePartition{0, RoutingMode::Unrouted, {}},
                           CreatePartition{0, RoutingMode::Unrouted, {}},
                           RemovePartition{0, 6},
                           SplitBegin{0, 1, 12345},
                           MergeBegin{0, 3, 4},
                           AddLearner{1, 9, "learner:9"},
                           AddLearner{2, 10, "gone:10"},
                           RemoveMember{3, 10},
                           MarkLeaving{4, 2}};
  for (const Command& c : steps) apply(s, c);
  return s;
}

// Not bootstrapped, freshly bootstrapped, and busy.
inline std::vector<SystemState> states() {
  SystemState fresh;
  apply(fresh, Bootstrap{3, {{1, "a"}, {2, "b"}, {3, "c"}}});
  // Every counter at its limit: each command that would pass one is refused.
  SystemState worn = fresh;
  worn.map.version = worn.map.next_id = worn.roster.version = kMaxCounter;
  for (auto& [id, p] : worn.map.partitions) p.generation = kMaxCounter;
  return {SystemState{}, fresh, busy_state(), worn};
}

}  // namespace synod::system::samples
