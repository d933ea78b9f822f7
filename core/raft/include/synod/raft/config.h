// Configuration of one Raft group member. Times are counted in ticks: the runtime calls
// RawNode::tick() at a fixed interval and chooses that interval.
#pragma once

#include <cstddef>
#include <cstdint>

#include "synod/raft/types.h"

namespace synod::raft {

class LogStorage;

struct Config {
  NodeId id = kNoNode;
  // A follower that hears nothing from a leader for a random number of ticks in
  // [election_ticks, 2 * election_ticks) starts an election.
  int election_ticks = 10;
  // The leader sends heartbeats every heartbeat_ticks. Must be < election_ticks.
  int heartbeat_ticks = 1;
  // Seed of the randomized election timeout; distinct seeds per node avoid split votes.
  std::uint64_t seed = 0;
  // Ask for a pre-vote round before raising the term (thesis §9.6).
  bool pre_vote = true;
  // The leader steps down when it has not heard from a quorum for an election timeout.
  bool check_quorum = true;
  // Serve reads from the leader lease without a quorum round. Requires check_quorum,
  // and bounded clock drift between nodes.
  bool lease_reads = false;
  // Largest total entry bytes in one Append message (at least one entry is always sent).
  std::size_t max_append_bytes = 1 << 20;
  // Most Append messages in flight to one follower in the replicate state.
  std::size_t max_inflight_messages = 256;
  // Most entry bytes in flight to one follower (0: no bound besides the message count).
  std::size_t max_inflight_bytes = 0;
  // Bound on the bytes of proposed but uncommitted entries held by the leader (0: none).
  // A proposal over the bound is refused so that a stalled quorum cannot grow the log
  // without limit.
  std::size_t max_uncommitted_bytes = 0;
  // Most bytes of committed entries handed out in one Ready.
  std::size_t max_committed_bytes_per_ready = 16 << 20;
  // Most ReadIndex requests one node keeps track of: on a leader, those waiting for a
  // heartbeat quorum or for the first commit of its term (its own and forwarded ones); on
  // a follower, those forwarded to the leader and not yet answered. Beyond it, the node's
  // own read_index() is refused with ReadLimit and a leader drops forwarded requests (the
  // follower's caller times out). Independently, a read left unanswered for an election
  // timeout is forgotten, so a leader that never answers cannot pin memory either.
  std::size_t max_pending_reads = 4096;
  // Applied index to resume from after a restart (entries up to it are not re-delivered).
  Index applied = 0;

  // Returns an empty string when the configuration is usable, otherwise why not.
  const char* validate() const;
};

}  // namespace synod::raft
