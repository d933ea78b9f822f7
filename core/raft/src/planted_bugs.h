// Bugs planted on purpose, to show that the fault harness (tests/faults) catches them.
// They are compiled in only with the CMake option SYNOD_PLANT_BUGS (off by default, never
// in a release build), and even then a bug is live only in a process whose environment
// variable SYNOD_PLANTED_BUG names it. In every other build SYNOD_PLANTED(name) is the
// constant false and the planted branches compile away.
//
//   commit-without-quorum  the leader commits (and answers proposals) on its own copy alone
//   read-without-quorum    the leader answers ReadIndex at once, without a heartbeat round
//   apply-uncommitted      a follower commits whatever it has appended from the leader
#pragma once

#ifdef SYNOD_PLANT_BUGS
#include <cstdlib>
#include <cstring>

namespace synod::raft::planted {
inline bool active(const char* name) {
  static const char* const chosen = std::getenv("SYNOD_PLANTED_BUG");
  return chosen != nullptr && std::strcmp(chosen, name) == 0;
}
}  // namespace synod::raft::planted

#define SYNOD_PLANTED(name) (::synod::raft::planted::active(name))
#else
#define SYNOD_PLANTED(name) false
#endif
