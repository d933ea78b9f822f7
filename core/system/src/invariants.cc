// check_invariants(): the rules of a valid state, stated once, used by decode_state()
// and by the tests after every apply().
#include <algorithm>
#include <string>
#include <vector>

#include "ranges.h"
#include "synod/system/commands.h"

namespace synod::system {
namespace {

std::string partition_rule(const PartitionMap& map, const Partition& p) {
  const std::string who = "partition " + std::to_string(p.id) + ": ";
  if (p.id == kSystemPartition || p.id >= map.next_id) return who + "id not in 1..next_id-1";
  if (p.generation == 0 || p.generation > kMaxCounter)
    return who + "generation 0 or past kMaxCounter";
  if (p.mode == RoutingMode::Unrouted) {
    if (p.range != HashRange{}) return who + "unrouted with a range";
    if (p.state != PartitionState::Active && p.state != PartitionState::Removed) {
      return who + "unrouted in a split or merge";
    }
  } else if (p.range.lo > p.range.hi) {
    return who + "range with lo > hi";
  }
  if (p.state == PartitionState::Removed) {
    return p.peer == 0 ? "" : who + "removed with a peer";
  }
  if (p.peer == 0) {
    return p.state == PartitionState::Active
               ? ""
               : who + std::string(to_string(p.state)) + " with no peer";
  }
  const auto it = map.partitions.find(p.peer);
  if (it == map.partitions.end() || it->second.peer != p.id ||
      it->second.mode != RoutingMode::HashRange || p.mode != RoutingMode::HashRange) {
    return who + "peer does not name it back";
  }
  const Partition& q = it->second;
  // Exactly one of the two is Splitting (the new partition: its range is the upper part
  // of the active source's) or Draining (the source of a merge into an adjacent, active
  // target).
  const Partition* moving = p.state != PartitionState::Active ? &p : &q;
  const Partition* other = moving == &p ? &q : &p;
  const bool moving_ok =
      moving->state == PartitionState::Splitting || moving->state == PartitionState::Draining;
  if (!moving_ok || other->state != PartitionState::Active) {
    return who + "peers in states " + to_string(p.state) + " and " + to_string(q.state);
  }
  if (moving->state == PartitionState::Splitting) {
    if (moving->range.hi != other->range.hi || moving->range.lo <= other->range.lo) {
      return who + "split range not the upper part of its source's";
    }
  } else if (!adjacent(moving->range, other->range)) {
    return who + "merging a range that is not adjacent";
  }
  return "";
}

std::string map_rules(const PartitionMap& map) {
  if (map.partitions.size() > kMaxPartitions) return "more than kMaxPartitions partitions";
  if (map.version == 0 && (map.next_id != 1 || !map.partitions.empty())) {
    return "map not bootstrapped but not empty";
  }
  if (map.next_id == 0) return "next_id 0";
  if (map.version > kMaxCounter || map.next_id > kMaxCounter) {
    return "version or next_id past kMaxCounter";
  }
  std::vector<HashRange> owned;
  for (const auto& [id, p] : map.partitions) {
    if (id != p.id)
      return "partition " + std::to_string(p.id) + " filed under " + std::to_string(id);
    if (std::string broken = partition_rule(map, p); !broken.empty()) return broken;
    if (routes_keys(p)) owned.push_back(p.range);
  }
  std::sort(owned.begin(), owned.end(),
            [](const HashRange& a, const HashRange& b) { return a.lo < b.lo; });
  for (std::size_t i = 1; i < owned.size(); ++i) {
    if (owned[i].lo <= owned[i - 1].hi) {
      return "ranges overlap at " + std::to_string(owned[i].lo);
    }
  }
  return "";
}

std::string roster_rules(const Roster& roster) {
  if (roster.members.size() > kMaxMembers) return "more than kMaxMembers members";
  if (roster.retired.size() > kMaxRetiredMembers) return "more than kMaxRetiredMembers retired";
  if (roster.version > kMaxCounter) return "version past kMaxCounter";
  if (roster.version == 0 && (!roster.members.empty() || !roster.retired.empty())) {
    return "roster not bootstrapped but not empty";
  }
  int leaving = 0;
  for (const auto& [id, m] : roster.members) {
    const std::string who = "member " + std::to_string(m.id) + ": ";
    if (id != m.id || m.id == 0) return who + "id 0 or filed under another";
    if (m.address.empty() || m.address.size() > kMaxAddressSize) return who + "address size";
    if (m.joined_at == 0 || m.joined_at > roster.version) return who + "joined_at";
    if (std::binary_search(roster.retired.begin(), roster.retired.end(), m.id)) {
      return who + "retired";
    }
    if (m.role == MemberRole::Leaving && ++leaving > 1) return "more than one member leaving";
  }
  for (std::size_t i = 0; i < roster.retired.size(); ++i) {
    if (roster.retired[i] == 0 || (i > 0 && roster.retired[i] <= roster.retired[i - 1])) {
      return "retired ids not ascending and non-zero";
    }
  }
  return "";
}

}  // namespace

std::string check_invariants(const SystemState& state) {
  if ((state.map.version == 0) != (state.roster.version == 0)) {
    return "map and roster not bootstrapped together";
  }
  if (std::string broken = map_rules(state.map); !broken.empty()) return broken;
  return roster_rules(state.roster);
}

}  // namespace synod::system
