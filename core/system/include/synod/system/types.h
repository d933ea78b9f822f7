// The replicated state of the system partition (partition 0): the partition map and the
// cluster roster. Plain values; nothing here performs I/O. Every change goes through
// apply() (commands.h), so these types only describe state, they never enforce it; the
// rules a valid state keeps are listed at check_invariants() (commands.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "synod/raft/types.h"

namespace synod::system {

using PartitionId = std::uint64_t;
using NodeId = raft::NodeId;
// Counts the routing-relevant changes of one partition; starts at 1, never decreases.
using Generation = std::uint64_t;
// Counts the successful commands of the map (or of the roster); 0 before bootstrap.
using Version = std::uint64_t;

// The system partition itself: never in the map, never split, merged or removed.
inline constexpr PartitionId kSystemPartition = 0;

// Bounds on what one state may hold, so that a decoder can refuse absurd counts before
// allocating. Far beyond any real cluster; apply() refuses a command that would pass them.
inline constexpr std::size_t kMaxPartitions = 1'000'000;  // removed ones included
inline constexpr std::size_t kMaxMembers = 10'000;
inline constexpr std::size_t kMaxRetiredMembers = 1'000'000;
inline constexpr std::size_t kMaxAddressSize = 1024;
// Versions, partition ids and generations only grow, one step per command; apply() stops
// them here so that no increment wraps to 0 (which means "not bootstrapped" or "no
// partition"). 2^62 commands is out of reach; a decoded state above it is refused.
inline constexpr std::uint64_t kMaxCounter = std::uint64_t{1} << 62;

enum class PartitionState : std::uint8_t {
  // Serving; the source of a split stays active (and keeps its whole range) until the
  // split completes.
  Active = 0,
  // The new partition of a split that has begun and not completed: it exists (replicas
  // are created, the host imports its range) but is not routed and refuses proposals.
  Splitting = 1,
  // The source of a merge that has begun: still routed, but it refuses new proposals
  // while the host moves its data to the target.
  Draining = 2,
  // Gone: kept as a tombstone so that its id is never reused and late callers learn why.
  Removed = 3,
};

enum class RoutingMode : std::uint8_t {
  // Addressed by id only; owns no keys.
  Unrouted = 0,
  // Owns the key hashes in [range.lo, range.hi].
  HashRange = 1,
};

// An inclusive range of the 64-bit key-hash space (routing.h); lo <= hi.
struct HashRange {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  friend bool operator==(const HashRange&, const HashRange&) = default;
};

struct Partition {
  PartitionId id = 0;
  PartitionState state = PartitionState::Active;
  RoutingMode mode = RoutingMode::Unrouted;
  // Meaningful for HashRange only (zero otherwise). For a Splitting partition: the range
  // it will own once the split completes (the upper part of its source's range). For a
  // Removed one: the range it owned last.
  HashRange range;
  Generation generation = 1;
  // The other partition of the split or merge in progress, 0 when none: on both the
  // source and the new partition of a split, on both the source and target of a merge.
  PartitionId peer = 0;
  friend bool operator==(const Partition&, const Partition&) = default;
};

struct PartitionMap {
  Version version = 0;
  // The id the next created partition gets; ids below it are never handed out again.
  PartitionId next_id = 1;
  // Every partition ever created, removed ones included, by id.
  std::map<PartitionId, Partition> partitions;
  friend bool operator==(const PartitionMap&, const PartitionMap&) = default;
};

enum class MemberRole : std::uint8_t {
  // Receives every partition's log, counts toward no quorum.
  Learner = 0,
  Voter = 1,
  // On its way out: removed from every partition's configuration, then from the roster.
  Leaving = 2,
};

struct Member {
  NodeId id = 0;
  // Where peers reach it (host:port or a URL; opaque here).
  std::string address;
  MemberRole role = MemberRole::Learner;
  // The roster version at which it was added.
  Version joined_at = 0;
  friend bool operator==(const Member&, const Member&) = default;
};

struct Roster {
  // A compare-and-set fence: every roster command names the version it was prepared
  // against and is refused if the roster has changed since.
  Version version = 0;
  std::map<NodeId, Member> members;
  // Ids of removed members: never admitted again, so that a message from an old
  // incarnation cannot be mistaken for the new one.
  std::vector<NodeId> retired;  // ascending
  friend bool operator==(const Roster&, const Roster&) = default;
};

struct SystemState {
  PartitionMap map;
  Roster roster;
  friend bool operator==(const SystemState&, const SystemState&) = default;
};

// Whether keys route to `p`: a hash-range partition that is active or draining. (A
// splitting partition's future range still routes to its source.)
inline bool routes_keys(const Partition& p) {
  return p.mode == RoutingMode::HashRange &&
         (p.state == PartitionState::Active || p.state == PartitionState::Draining);
}

const char* to_string(PartitionState state);
const char* to_string(RoutingMode mode);
const char* to_string(MemberRole role);

}  // namespace synod::system
