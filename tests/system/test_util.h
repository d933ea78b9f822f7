// Helpers shared by the core/system tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "synod/system/commands.h"

namespace synod::system::testing {

// A state bootstrapped with `partitions` hash-range partitions and voters 1..voters
// (addresses "node-<id>").
inline SystemState bootstrapped(std::uint32_t partitions, NodeId voters = 3) {
  Bootstrap b;
  b.partitions = partitions;
  for (NodeId id = 1; id <= voters; ++id) b.members.push_back({id, "node-" + std::to_string(id)});
  SystemState state;
  const ApplyResult r = apply(state, b);
  EXPECT_EQ(r.status, Status::Ok);
  return state;
}

// Applies a command that must succeed; returns its result.
inline ApplyResult apply_ok(SystemState& state, const Command& command) {
  const ApplyResult r = apply(state, command);
  EXPECT_EQ(r.status, Status::Ok) << to_string(r.status);
  EXPECT_EQ(check_invariants(state), "");
  return r;
}

// Applies a command that must be refused with `want`, leaving the state as it was and
// reporting the current version.
inline void expect_refused(SystemState& state, const Command& command, Status want,
                           Version current) {
  const SystemState before = state;
  const ApplyResult r = apply(state, command);
  EXPECT_EQ(r.status, want) << "got " << to_string(r.status) << ", want " << to_string(want);
  EXPECT_EQ(r.created, 0u);
  EXPECT_EQ(r.version, current);
  EXPECT_TRUE(state == before) << "a refused command changed the state";
}

inline void expect_map_refused(SystemState& state, const Command& command, Status want) {
  expect_refused(state, command, want, state.map.version);
}

inline void expect_roster_refused(SystemState& state, const Command& command, Status want) {
  expect_refused(state, command, want, state.roster.version);
}

inline const Partition& part(const SystemState& state, PartitionId id) {
  return state.map.partitions.at(id);
}

}  // namespace synod::system::testing
