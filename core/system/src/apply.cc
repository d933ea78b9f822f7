#include <algorithm>
#include <type_traits>

#include "ranges.h"
#include "synod/system/commands.h"
#include "synod/system/routing.h"

namespace synod::system {
namespace {

ApplyResult refuse(Status status, Version current) { return {status, 0, current}; }

bool bootstrapped(const SystemState& state) { return state.map.version != 0; }

bool is_routed(const Partition& p) { return p.mode == RoutingMode::HashRange; }

bool exhausted(std::uint64_t counter) { return counter >= kMaxCounter; }

// Applies the map commands. Each method checks before it changes anything, so a refusal
// leaves the map as it was.
class MapApplier {
 public:
  explicit MapApplier(PartitionMap& map) : map_(map) {}

  ApplyResult operator()(const CreatePartition& c) {
    if (auto st = check_version(c.expected_version); st != Status::Ok) return refuse(st);
    if (c.mode == RoutingMode::HashRange) {
      if (c.range.lo > c.range.hi) return refuse(Status::InvalidArgument);
      for (const auto& [id, p] : map_.partitions) {
        if (routes_keys(p) && overlaps(p.range, c.range)) return refuse(Status::Overlapping);
      }
    } else if (c.range != HashRange{}) {
      return refuse(Status::InvalidArgument);
    }
    if (no_room_for_one_more()) return refuse(Status::LimitReached);
    Partition p;
    p.id = map_.next_id++;
    p.mode = c.mode;
    p.range = c.range;
    map_.partitions.emplace(p.id, p);
    return done(p.id);
  }

  ApplyResult operator()(const RemovePartition& c) {
    if (auto st = check_version(c.expected_version); st != Status::Ok) return refuse(st);
    Partition* p = nullptr;
    if (auto st = find_idle(c.partition, p); st != Status::Ok) return refuse(st);
    if (is_routed(*p)) return refuse(Status::RoutedPartition);
    p->state = PartitionState::Removed;
    ++p->generation;
    return done();
  }

  ApplyResult operator()(const SplitBegin& c) {
    if (auto st = check_version(c.expected_version); st != Status::Ok) return refuse(st);
    Partition* source = nullptr;
    if (auto st = find_idle_routed(c.partition, source); st != Status::Ok) return refuse(st);
    const HashRange r = source->range;
    if (r.lo == r.hi) return refuse(Status::BoundaryOutsideRange);
    const std::uint64_t boundary = c.boundary.value_or(r.lo + (r.hi - r.lo) / 2 + 1);
    if (boundary <= r.lo || boundary > r.hi) return refuse(Status::BoundaryOutsideRange);
    if (no_room_for_one_more()) return refuse(Status::LimitReached);
    Partition fresh;
    fresh.id = map_.next_id++;
    fresh.state = PartitionState::Splitting;
    fresh.mode = RoutingMode::HashRange;
    fresh.range = {boundary, r.hi};
    fresh.peer = source->id;
    source->peer = fresh.id;
    ++source->generation;
    map_.partitions.emplace(fresh.id, fresh);
    return done(fresh.id);
  }

  ApplyResult operator()(const SplitComplete& c) {
    return finish_step(c.expected_version, c.partition, PartitionState::Splitting,
                       [](Partition& fresh, Partition& source) {
                         source.range.hi = fresh.range.lo - 1;
                         fresh.state = PartitionState::Active;
                       });
  }

  ApplyResult operator()(const SplitAbort& c) {
    return finish_step(c.expected_version, c.partition, PartitionState::Splitting,
                       [](Partition& fresh, Partition&) { fresh.state = PartitionState::Removed; });
  }

  ApplyResult operator()(const MergeBegin& c) {
    if (auto st = check_version(c.expected_version); st != Status::Ok) return refuse(st);
    Partition* source = nullptr;
    Partition* target = nullptr;
    if (auto st = find_idle_routed(c.source, source); st != Status::Ok) return refuse(st);
    if (auto st = find_idle_routed(c.target, target); st != Status::Ok) return refuse(st);
    if (source == target) return refuse(Status::Overlapping);
    if (!adjacent(source->range, target->range)) return refuse(Status::NotAdjacent);
    source->state = PartitionState::Draining;
    source->peer = target->id;
    target->peer = source->id;
    ++source->generation;
    ++target->generation;
    return done();
  }

  ApplyResult operator()(const MergeComplete& c) {
    return finish_step(c.expected_version, c.source, PartitionState::Draining,
                       [](Partition& source, Partition& target) {
                         target.range = {std::min(source.range.lo, target.range.lo),
                                         std::max(source.range.hi, target.range.hi)};
                         source.state = PartitionState::Removed;
                       });
  }

  ApplyResult operator()(const MergeAbort& c) {
    return finish_step(
        c.expected_version, c.source, PartitionState::Draining,
        [](Partition& source, Partition&) { source.state = PartitionState::Active; });
  }

 private:
  ApplyResult refuse(Status st) const { return system::refuse(st, map_.version); }

  ApplyResult done(PartitionId created = 0) {
    ++map_.version;
    return {Status::Ok, created, map_.version};
  }

  // Every command that succeeds increments the map version.
  Status check_version(Version expected) const {
    if (expected != 0 && expected != map_.version) return Status::StaleMapVersion;
    return exhausted(map_.version) ? Status::LimitReached : Status::Ok;
  }

  bool no_room_for_one_more() const {
    return map_.partitions.size() >= kMaxPartitions || exhausted(map_.next_id);
  }

  Status find(PartitionId id, Partition*& out) {
    if (id == kSystemPartition) return Status::SystemPartition;
    auto it = map_.partitions.find(id);
    if (it == map_.partitions.end()) return Status::UnknownPartition;
    if (it->second.state == PartitionState::Removed) return Status::PartitionRemoved;
    // Every command that finds a partition increments its generation.
    if (exhausted(it->second.generation)) return Status::LimitReached;
    out = &it->second;
    return Status::Ok;
  }

  // An existing partition taking part in no split or merge.
  Status find_idle(PartitionId id, Partition*& out) {
    if (auto st = find(id, out); st != Status::Ok) return st;
    if (out->state != PartitionState::Active || out->peer != 0) {
      return Status::OperationInProgress;
    }
    return Status::Ok;
  }

  Status find_idle_routed(PartitionId id, Partition*& out) {
    if (auto st = find(id, out); st != Status::Ok) return st;
    if (!is_routed(*out)) return Status::UnroutedPartition;
    return find_idle(id, out);
  }

  // Completes or aborts an operation: `id` must be in `step` (the new partition of a
  // split, the source of a merge); `change` gets it and the other partition of its
  // operation, which both leave the operation under a new generation.
  template <typename Change>
  ApplyResult finish_step(Version expected, PartitionId id, PartitionState step, Change change) {
    if (auto st = check_version(expected); st != Status::Ok) return refuse(st);
    Partition* self = nullptr;
    if (auto st = find(id, self); st != Status::Ok) return refuse(st);
    if (self->state != step) return refuse(Status::NoOperationInProgress);
    Partition& peer = map_.partitions.at(self->peer);
    if (exhausted(peer.generation)) return refuse(Status::LimitReached);
    change(*self, peer);
    self->peer = 0;
    peer.peer = 0;
    ++self->generation;
    ++peer.generation;
    return done();
  }

  PartitionMap& map_;
};

class RosterApplier {
 public:
  explicit RosterApplier(Roster& roster) : roster_(roster) {}

  ApplyResult operator()(const AddLearner& c) {
    if (auto st = check_version(c.expected_version); st != Status::Ok) return refuse(st);
    if (c.id == 0 || c.address.empty() || c.address.size() > kMaxAddressSize) {
      return refuse(Status::InvalidArgument);
    }
    if (roster_.members.contains(c.id)) return refuse(Status::MemberExists);
    if (std::binary_search(roster_.retired.begin(), roster_.retired.end(), c.id)) {
      return refuse(Status::MemberRetired);
    }
    if (roster_.members.size() >= kMaxMembers) return refuse(Status::LimitReached);
    roster_.members.emplace(c.id,
                            Member{c.id, c.address, MemberRole::Learner, roster_.version + 1});
    return done();
  }

  ApplyResult operator()(const PromoteMember& c) {
    Member* m = nullptr;
    if (auto st = find(c.expected_version, c.id, m); st != Status::Ok) return refuse(st);
    if (m->role != MemberRole::Learner) return refuse(Status::WrongRole);
    if (someone_leaving()) return refuse(Status::ChangeInProgress);
    m->role = MemberRole::Voter;
    return done();
  }

  ApplyResult operator()(const MarkLeaving& c) {
    Member* m = nullptr;
    if (auto st = find(c.expected_version, c.id, m); st != Status::Ok) return refuse(st);
    if (m->role == MemberRole::Leaving) return refuse(Status::WrongRole);
    if (someone_leaving()) return refuse(Status::ChangeInProgress);
    if (m->role == MemberRole::Voter && voters() == 1) return refuse(Status::NoQuorum);
    m->role = MemberRole::Leaving;
    return done();
  }

  ApplyResult operator()(const RemoveMember& c) {
    Member* m = nullptr;
    if (auto st = find(c.expected_version, c.id, m); st != Status::Ok) return refuse(st);
    if (m->role == MemberRole::Voter) return refuse(Status::WrongRole);
    if (roster_.retired.size() >= kMaxRetiredMembers) return refuse(Status::LimitReached);
    roster_.retired.insert(std::lower_bound(roster_.retired.begin(), roster_.retired.end(), c.id),
                           c.id);
    roster_.members.erase(c.id);
    return done();
  }

 private:
  ApplyResult refuse(Status st) const { return system::refuse(st, roster_.version); }

  ApplyResult done() {
    ++roster_.version;
    return {Status::Ok, 0, roster_.version};
  }

  // Every command that succeeds increments the roster version.
  Status check_version(Version expected) const {
    if (expected != roster_.version) return Status::StaleRosterVersion;
    return exhausted(roster_.version) ? Status::LimitReached : Status::Ok;
  }

  Status find(Version expected, NodeId id, Member*& out) {
    if (auto st = check_version(expected); st != Status::Ok) return st;
    auto it = roster_.members.find(id);
    if (it == roster_.members.end()) return Status::UnknownMember;
    out = &it->second;
    return Status::Ok;
  }

  bool someone_leaving() const {
    return std::any_of(roster_.members.begin(), roster_.members.end(),
                       [](const auto& m) { return m.second.role == MemberRole::Leaving; });
  }

  std::size_t voters() const {
    return static_cast<std::size_t>(
        std::count_if(roster_.members.begin(), roster_.members.end(),
                      [](const auto& m) { return m.second.role == MemberRole::Voter; }));
  }

  Roster& roster_;
};

ApplyResult apply_bootstrap(SystemState& state, const Bootstrap& c) {
  if (bootstrapped(state)) return refuse(Status::AlreadyBootstrapped, state.map.version);
  if (c.partitions > kMaxPartitions || c.members.size() > kMaxMembers) {
    return refuse(Status::InvalidArgument, 0);
  }
  Roster roster;
  roster.version = 1;
  for (const auto& f : c.members) {
    if (f.id == 0 || f.address.empty() || f.address.size() > kMaxAddressSize ||
        roster.members.contains(f.id)) {
      return refuse(Status::InvalidArgument, 0);
    }
    roster.members.emplace(f.id, Member{f.id, f.address, MemberRole::Voter, 1});
  }
  PartitionMap map;
  map.version = 1;
  for (std::uint32_t i = 0; i < c.partitions; ++i) {
    Partition p;
    p.id = map.next_id++;
    p.mode = RoutingMode::HashRange;
    p.range = bootstrap_range(i, c.partitions);
    map.partitions.emplace(p.id, p);
  }
  state.map = std::move(map);
  state.roster = std::move(roster);
  return {Status::Ok, 0, state.map.version};
}

}  // namespace

ApplyResult apply(SystemState& state, const Command& command) {
  return std::visit(
      [&state](const auto& c) -> ApplyResult {
        using C = std::decay_t<decltype(c)>;
        constexpr bool roster_command =
            std::is_same_v<C, AddLearner> || std::is_same_v<C, PromoteMember> ||
            std::is_same_v<C, MarkLeaving> || std::is_same_v<C, RemoveMember>;
        if constexpr (std::is_same_v<C, Bootstrap>) {
          return apply_bootstrap(state, c);
        } else if constexpr (roster_command) {
          if (!bootstrapped(state)) return refuse(Status::NotBootstrapped, 0);
          return RosterApplier(state.roster)(c);
        } else {
          if (!bootstrapped(state)) return refuse(Status::NotBootstrapped, 0);
          return MapApplier(state.map)(c);
        }
      },
      command);
}

}  // namespace synod::system
