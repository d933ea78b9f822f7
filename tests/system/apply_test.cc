// Every command of core/system, and every refusal: a refused command names its reason,
// reports the current version and changes nothing.
#include <gtest/gtest.h>

#include "synod/system/commands.h"
#include "synod/system/routing.h"
#include "test_util.h"

namespace synod::system::testing {
namespace {

constexpr std::uint64_t kTop = ~std::uint64_t{0};

// --- bootstrap --------------------------------------------------------------------------

TEST(SystemBootstrap, CreatesUserPartitionsOneToNCoveringTheHashSpace) {
  const SystemState s = bootstrapped(4);
  EXPECT_EQ(s.map.version, 1u);
  EXPECT_EQ(s.map.next_id, 5u);
  ASSERT_EQ(s.map.partitions.size(), 4u);
  std::uint64_t next_lo = 0;
  for (PartitionId id = 1; id <= 4; ++id) {
    const Partition& p = part(s, id);
    EXPECT_EQ(p.id, id);
    EXPECT_EQ(p.state, PartitionState::Active);
    EXPECT_EQ(p.mode, RoutingMode::HashRange);
    EXPECT_EQ(p.generation, 1u);
    EXPECT_EQ(p.peer, 0u);
    EXPECT_EQ(p.range, bootstrap_range(static_cast<std::uint32_t>(id - 1), 4));
    EXPECT_EQ(p.range.lo, next_lo);
    next_lo = p.range.hi + 1;
  }
  EXPECT_EQ(part(s, 4).range.hi, kTop);
  EXPECT_EQ(part(s, 2).range, (HashRange{0x4000000000000000ULL, 0x7fffffffffffffffULL}));
  EXPECT_EQ(s.roster.version, 1u);
  ASSERT_EQ(s.roster.members.size(), 3u);
  EXPECT_EQ(s.roster.members.at(2), (Member{2, "node-2", MemberRole::Voter, 1}));
  EXPECT_EQ(check_invariants(s), "");
}

TEST(SystemBootstrap, ZeroPartitionsLeavesTheSpaceUnowned) {
  const SystemState s = bootstrapped(0, 1);
  EXPECT_EQ(s.map.version, 1u);
  EXPECT_TRUE(s.map.partitions.empty());
  EXPECT_EQ(s.map.next_id, 1u);
  EXPECT_FALSE(Router(s.map).route_hash(0).has_value());
}

TEST(SystemBootstrap, Refusals) {
  SystemState s = bootstrapped(2);
  expect_map_refused(s, Bootstrap{2, {}}, Status::AlreadyBootstrapped);

  SystemState empty;
  expect_refused(empty, Bootstrap{1, {{0, "a"}}}, Status::InvalidArgument, 0);
  expect_refused(empty, Bootstrap{1, {{1, ""}}}, Status::InvalidArgument, 0);
  expect_refused(empty, Bootstrap{1, {{1, std::string(kMaxAddressSize + 1, 'a')}}},
                 Status::InvalidArgument, 0);
  expect_refused(empty, Bootstrap{1, {{1, "a"}, {1, "b"}}}, Status::InvalidArgument, 0);
  expect_refused(empty, Bootstrap{static_cast<std::uint32_t>(kMaxPartitions + 1), {}},
                 Status::InvalidArgument, 0);
}

TEST(SystemBootstrap, EveryOtherCommandWaitsForIt) {
  SystemState s;
  const Command commands[] = {CreatePartition{},   RemovePartition{0, 1}, SplitBegin{0, 1, {}},
                              SplitComplete{0, 1}, SplitAbort{0, 1},      MergeBegin{0, 1, 2},
                              MergeComplete{0, 1}, MergeAbort{0, 1},      AddLearner{0, 4, "x"},
                              PromoteMember{0, 1}, MarkLeaving{0, 1},     RemoveMember{0, 1}};
  for (const Command& c : commands) expect_refused(s, c, Status::NotBootstrapped, 0);
}

// --- create and remove ------------------------------------------------------------------

TEST(SystemCreate, UnroutedGetsTheNextIdAndBumpsTheVersion) {
  SystemState s = bootstrapped(2);
  const ApplyResult r = apply_ok(s, CreatePartition{1, RoutingMode::Unrouted, {}});
  EXPECT_EQ(r.created, 3u);
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(s.map.version, 2u);
  EXPECT_EQ(s.map.next_id, 4u);
  EXPECT_EQ(part(s, 3), (Partition{3, PartitionState::Active, RoutingMode::Unrouted, {}, 1, 0}));
}

TEST(SystemCreate, HashRangeFillsAGapOnly) {
  SystemState s = bootstrapped(0);
  const ApplyResult a = apply_ok(s, CreatePartition{0, RoutingMode::HashRange, {100, 200}});
  EXPECT_EQ(a.created, 1u);
  EXPECT_EQ(part(s, 1).range, (HashRange{100, 200}));
  // Touching ranges on both sides are fine; any shared hash is not.
  apply_ok(s, CreatePartition{0, RoutingMode::HashRange, {0, 99}});
  apply_ok(s, CreatePartition{0, RoutingMode::HashRange, {201, 201}});
  expect_map_refused(s, CreatePartition{0, RoutingMode::HashRange, {150, 160}},
                     Status::Overlapping);
  expect_map_refused(s, CreatePartition{0, RoutingMode::HashRange, {201, kTop}},
                     Status::Overlapping);
  expect_map_refused(s, CreatePartition{0, RoutingMode::HashRange, {0, kTop}}, Status::Overlapping);

  SystemState full = bootstrapped(3);
  expect_map_refused(full, CreatePartition{0, RoutingMode::HashRange, {kTop, kTop}},
                     Status::Overlapping);
}

TEST(SystemCreate, Refusals) {
  SystemState s = bootstrapped(0);
  expect_map_refused(s, CreatePartition{0, RoutingMode::HashRange, {5, 4}},
                     Status::InvalidArgument);
  expect_map_refused(s, CreatePartition{0, RoutingMode::Unrouted, {1, 2}}, Status::InvalidArgument);
  expect_map_refused(s, CreatePartition{2, RoutingMode::Unrouted, {}}, Status::StaleMapVersion);
  apply_ok(s, CreatePartition{1, RoutingMode::Unrouted, {}});
  // Version 1 is now stale; 0 means "whatever the version".
  expect_map_refused(s, CreatePartition{1, RoutingMode::Unrouted, {}}, Status::StaleMapVersion);
  apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}});
}

TEST(SystemCreate, LimitReached) {
  SystemState s = bootstrapped(static_cast<std::uint32_t>(kMaxPartitions));
  expect_map_refused(s, CreatePartition{0, RoutingMode::Unrouted, {}}, Status::LimitReached);
  apply_ok(s, MergeBegin{0, 1, 2});
  apply_ok(s, MergeComplete{0, 1});
  // A removed partition still counts: its id stays reserved.
  expect_map_refused(s, SplitBegin{0, 2, {}}, Status::LimitReached);
}

// Counters stop at kMaxCounter instead of wrapping to 0 (found by the codec fuzzer: a
// decoded state with a generation of 2^64-1 split into generation 0).
TEST(SystemCreate, CountersStopAtTheirLimit) {
  SystemState s = bootstrapped(2);
  s.map.partitions.at(1).generation = kMaxCounter;
  expect_map_refused(s, SplitBegin{0, 1, {}}, Status::LimitReached);
  expect_map_refused(s, MergeBegin{0, 2, 1}, Status::LimitReached);
  apply_ok(s, SplitBegin{0, 2, {}});

  s = bootstrapped(2);
  s.map.next_id = kMaxCounter;
  expect_map_refused(s, CreatePartition{0, RoutingMode::Unrouted, {}}, Status::LimitReached);
  expect_map_refused(s, SplitBegin{0, 1, {}}, Status::LimitReached);

  s = bootstrapped(2);
  s.map.version = kMaxCounter;
  expect_map_refused(s, MergeBegin{0, 1, 2}, Status::LimitReached);
  s.roster.version = kMaxCounter;
  expect_roster_refused(s, AddLearner{kMaxCounter, 9, "n9"}, Status::LimitReached);

  s.map.version = kMaxCounter + 1;
  EXPECT_NE(check_invariants(s), "");
}

TEST(SystemRemove, RemovesAnUnroutedPartitionAndNeverReusesItsId) {
  SystemState s = bootstrapped(1);
  const PartitionId id = apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}}).created;
  const ApplyResult r = apply_ok(s, RemovePartition{s.map.version, id});
  EXPECT_EQ(r.version, 3u);
  EXPECT_EQ(part(s, id).state, PartitionState::Removed);
  EXPECT_EQ(part(s, id).generation, 2u);
  EXPECT_EQ(apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}}).created, id + 1);
}

TEST(SystemRemove, Refusals) {
  SystemState s = bootstrapped(2);
  const PartitionId id = apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}}).created;
  expect_map_refused(s, RemovePartition{0, kSystemPartition}, Status::SystemPartition);
  expect_map_refused(s, RemovePartition{0, 99}, Status::UnknownPartition);
  expect_map_refused(s, RemovePartition{0, 1}, Status::RoutedPartition);
  expect_map_refused(s, RemovePartition{1, id}, Status::StaleMapVersion);
  apply_ok(s, RemovePartition{0, id});
  expect_map_refused(s, RemovePartition{0, id}, Status::PartitionRemoved);
  // Partitions in a split or merge are busy, whatever their routing.
  const PartitionId fresh = apply_ok(s, SplitBegin{0, 1, {}}).created;
  expect_map_refused(s, RemovePartition{0, fresh}, Status::OperationInProgress);
  expect_map_refused(s, RemovePartition{0, 1}, Status::OperationInProgress);
}

// --- split ------------------------------------------------------------------------------

TEST(SystemSplit, AtTheMidpointThroughBeginAndComplete) {
  SystemState s = bootstrapped(2);  // 1: [0, 2^63 - 1], 2: [2^63, 2^64 - 1]
  const ApplyResult begun = apply_ok(s, SplitBegin{1, 2, {}});
  EXPECT_EQ(begun.created, 3u);
  EXPECT_EQ(begun.version, 2u);
  constexpr std::uint64_t kMid = 0xc000000000000000ULL;
  // The source keeps its whole range and keeps serving; the new partition waits.
  EXPECT_EQ(
      part(s, 2),
      (Partition{
          2, PartitionState::Active, RoutingMode::HashRange, {0x8000000000000000ULL, kTop}, 2, 3}));
  EXPECT_EQ(part(s, 3),
            (Partition{3, PartitionState::Splitting, RoutingMode::HashRange, {kMid, kTop}, 1, 2}));
  EXPECT_EQ(Router(s.map).route_hash(kTop)->partition, 2u);

  const ApplyResult done = apply_ok(s, SplitComplete{2, 3});
  EXPECT_EQ(done.version, 3u);
  EXPECT_EQ(part(s, 2), (Partition{2,
                                   PartitionState::Active,
                                   RoutingMode::HashRange,
                                   {0x8000000000000000ULL, kMid - 1},
                                   3,
                                   0}));
  EXPECT_EQ(part(s, 3),
            (Partition{3, PartitionState::Active, RoutingMode::HashRange, {kMid, kTop}, 2, 0}));
  const Router router(s.map);
  EXPECT_EQ(router.route_hash(kMid)->partition, 3u);
  EXPECT_EQ(router.route_hash(kMid - 1)->partition, 2u);
  // Partition 1 was not touched.
  EXPECT_EQ(part(s, 1).generation, 1u);
}

TEST(SystemSplit, AtAGivenBoundaryIncludingBothEnds) {
  SystemState s = bootstrapped(0);
  apply_ok(s, CreatePartition{0, RoutingMode::HashRange, {10, 20}});
  // The highest boundary leaves the new partition one hash.
  PartitionId fresh = apply_ok(s, SplitBegin{0, 1, 20}).created;
  apply_ok(s, SplitComplete{0, fresh});
  EXPECT_EQ(part(s, 1).range, (HashRange{10, 19}));
  EXPECT_EQ(part(s, fresh).range, (HashRange{20, 20}));
  // The lowest leaves the source one hash.
  fresh = apply_ok(s, SplitBegin{0, 1, 11}).created;
  apply_ok(s, SplitComplete{0, fresh});
  EXPECT_EQ(part(s, 1).range, (HashRange{10, 10}));
  EXPECT_EQ(part(s, fresh).range, (HashRange{11, 19}));
  // The midpoint of an odd-sized range leaves the larger part to the source; a range of
  // two hashes splits into two of one.
  fresh = apply_ok(s, SplitBegin{0, fresh, {}}).created;
  EXPECT_EQ(part(s, fresh).range, (HashRange{16, 19}));
  const PartitionId pair =
      apply_ok(s, CreatePartition{0, RoutingMode::HashRange, {30, 31}}).created;
  EXPECT_EQ(part(s, apply_ok(s, SplitBegin{0, pair, {}}).created).range, (HashRange{31, 31}));
}

TEST(SystemSplit, AbortRemovesTheNewPartitionAndKeepsTheSourceRange) {
  SystemState s = bootstrapped(1);
  const PartitionId fresh = apply_ok(s, SplitBegin{0, 1, 1000}).created;
  apply_ok(s, SplitAbort{0, fresh});
  EXPECT_EQ(part(s, 1),
            (Partition{1, PartitionState::Active, RoutingMode::HashRange, {0, kTop}, 3, 0}));
  EXPECT_EQ(part(s, fresh).state, PartitionState::Removed);
  EXPECT_EQ(part(s, fresh).generation, 2u);
  EXPECT_EQ(part(s, fresh).peer, 0u);
  // The id is spent; the next split gets a new one.
  EXPECT_EQ(apply_ok(s, SplitBegin{0, 1, {}}).created, fresh + 1);
}

TEST(SystemSplit, Refusals) {
  SystemState s = bootstrapped(2);
  const PartitionId unrouted = apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}}).created;
  expect_map_refused(s, SplitBegin{0, kSystemPartition, {}}, Status::SystemPartition);
  expect_map_refused(s, SplitBegin{0, 42, {}}, Status::UnknownPartition);
  expect_map_refused(s, SplitBegin{0, unrouted, {}}, Status::UnroutedPartition);
  expect_map_refused(s, SplitBegin{1, 1, {}}, Status::StaleMapVersion);
  const HashRange r = part(s, 1).range;
  expect_map_refused(s, SplitBegin{0, 1, r.lo}, Status::BoundaryOutsideRange);
  expect_map_refused(s, SplitBegin{0, 1, r.hi + 1}, Status::BoundaryOutsideRange);
  expect_map_refused(s, SplitBegin{0, 2, 0}, Status::BoundaryOutsideRange);

  const PartitionId fresh = apply_ok(s, SplitBegin{0, 1, {}}).created;
  expect_map_refused(s, SplitBegin{0, 1, {}}, Status::OperationInProgress);
  expect_map_refused(s, SplitBegin{0, fresh, {}}, Status::OperationInProgress);
  expect_map_refused(s, SplitComplete{0, 1}, Status::NoOperationInProgress);
  expect_map_refused(s, SplitAbort{0, 2}, Status::NoOperationInProgress);
  expect_map_refused(s, SplitComplete{0, 0}, Status::SystemPartition);
  expect_map_refused(s, SplitComplete{0, 77}, Status::UnknownPartition);
  expect_map_refused(s, SplitComplete{1, fresh}, Status::StaleMapVersion);
  expect_map_refused(s, MergeComplete{0, fresh}, Status::NoOperationInProgress);
  apply_ok(s, SplitComplete{0, fresh});
  expect_map_refused(s, SplitComplete{0, fresh}, Status::NoOperationInProgress);
  expect_map_refused(s, SplitAbort{0, fresh}, Status::NoOperationInProgress);

  SystemState one_hash = bootstrapped(0);
  apply_ok(one_hash, CreatePartition{0, RoutingMode::HashRange, {7, 7}});
  expect_map_refused(one_hash, SplitBegin{0, 1, {}}, Status::BoundaryOutsideRange);
  expect_map_refused(one_hash, SplitBegin{0, 1, 7}, Status::BoundaryOutsideRange);

  SystemState aborted = bootstrapped(1);
  const PartitionId gone = apply_ok(aborted, SplitBegin{0, 1, {}}).created;
  apply_ok(aborted, SplitAbort{0, gone});
  expect_map_refused(aborted, SplitComplete{0, gone}, Status::PartitionRemoved);
  expect_map_refused(aborted, SplitBegin{0, gone, {}}, Status::PartitionRemoved);
}

// --- merge ------------------------------------------------------------------------------

TEST(SystemMerge, AdjacentRangesThroughBeginAndComplete) {
  SystemState s = bootstrapped(3);
  const HashRange r2 = part(s, 2).range;
  const HashRange r3 = part(s, 3).range;
  // The source may lie above the target or below it.
  apply_ok(s, MergeBegin{1, 3, 2});
  EXPECT_EQ(part(s, 3), (Partition{3, PartitionState::Draining, RoutingMode::HashRange, r3, 2, 2}));
  EXPECT_EQ(part(s, 2), (Partition{2, PartitionState::Active, RoutingMode::HashRange, r2, 2, 3}));
  // The draining source still owns its keys until the merge completes.
  EXPECT_EQ(Router(s.map).route_hash(r3.hi)->partition, 3u);
  EXPECT_EQ(Router(s.map).route_hash(r3.hi)->state, PartitionState::Draining);

  apply_ok(s, MergeComplete{2, 3});
  EXPECT_EQ(part(s, 2),
            (Partition{2, PartitionState::Active, RoutingMode::HashRange, {r2.lo, r3.hi}, 3, 0}));
  EXPECT_EQ(part(s, 3), (Partition{3, PartitionState::Removed, RoutingMode::HashRange, r3, 3, 0}));
  EXPECT_EQ(s.map.version, 3u);

  apply_ok(s, MergeBegin{0, 1, 2});
  apply_ok(s, MergeComplete{0, 1});
  EXPECT_EQ(part(s, 2).range, (HashRange{0, kTop}));
}

TEST(SystemMerge, AbortReactivatesTheSource) {
  SystemState s = bootstrapped(2);
  apply_ok(s, MergeBegin{0, 1, 2});
  apply_ok(s, MergeAbort{0, 1});
  EXPECT_EQ(part(s, 1), (Partition{1, PartitionState::Active, RoutingMode::HashRange,
                                   bootstrap_range(0, 2), 3, 0}));
  EXPECT_EQ(part(s, 2).generation, 3u);
  EXPECT_EQ(part(s, 2).peer, 0u);
}

TEST(SystemMerge, Refusals) {
  SystemState s = bootstrapped(4);
  const PartitionId unrouted = apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}}).created;
  expect_map_refused(s, MergeBegin{0, 1, 3}, Status::NotAdjacent);
  expect_map_refused(s, MergeBegin{0, 4, 1}, Status::NotAdjacent);  // no wrap-around
  expect_map_refused(s, MergeBegin{0, 2, 2}, Status::Overlapping);
  expect_map_refused(s, MergeBegin{0, 0, 1}, Status::SystemPartition);
  expect_map_refused(s, MergeBegin{0, 1, 0}, Status::SystemPartition);
  expect_map_refused(s, MergeBegin{0, 1, 99}, Status::UnknownPartition);
  expect_map_refused(s, MergeBegin{0, unrouted, 1}, Status::UnroutedPartition);
  expect_map_refused(s, MergeBegin{0, 1, unrouted}, Status::UnroutedPartition);
  expect_map_refused(s, MergeBegin{1, 1, 2}, Status::StaleMapVersion);

  apply_ok(s, MergeBegin{0, 1, 2});
  expect_map_refused(s, MergeBegin{0, 3, 2}, Status::OperationInProgress);
  expect_map_refused(s, MergeBegin{0, 2, 3}, Status::OperationInProgress);
  expect_map_refused(s, SplitBegin{0, 1, {}}, Status::OperationInProgress);
  expect_map_refused(s, SplitBegin{0, 2, {}}, Status::OperationInProgress);
  expect_map_refused(s, MergeComplete{0, 2}, Status::NoOperationInProgress);  // the target
  expect_map_refused(s, MergeAbort{0, 3}, Status::NoOperationInProgress);
  expect_map_refused(s, SplitComplete{0, 1}, Status::NoOperationInProgress);
  expect_map_refused(s, MergeComplete{1, 1}, Status::StaleMapVersion);
  apply_ok(s, MergeComplete{0, 1});
  expect_map_refused(s, MergeComplete{0, 1}, Status::PartitionRemoved);
  expect_map_refused(s, MergeBegin{0, 1, 2}, Status::PartitionRemoved);
  expect_map_refused(s, MergeBegin{0, 2, 1}, Status::PartitionRemoved);
}

// --- roster -----------------------------------------------------------------------------

TEST(SystemRoster, AddPromoteLeaveRemove) {
  SystemState s = bootstrapped(1, 2);
  const ApplyResult added = apply_ok(s, AddLearner{1, 7, "10.0.0.7:7000"});
  EXPECT_EQ(added.version, 2u);
  EXPECT_EQ(s.roster.members.at(7), (Member{7, "10.0.0.7:7000", MemberRole::Learner, 2}));
  apply_ok(s, PromoteMember{2, 7});
  EXPECT_EQ(s.roster.members.at(7).role, MemberRole::Voter);
  apply_ok(s, MarkLeaving{3, 1});
  EXPECT_EQ(s.roster.members.at(1).role, MemberRole::Leaving);
  const ApplyResult removed = apply_ok(s, RemoveMember{4, 1});
  EXPECT_EQ(removed.version, 5u);
  EXPECT_FALSE(s.roster.members.contains(1));
  EXPECT_EQ(s.roster.retired, std::vector<NodeId>{1});
  // A learner may be removed directly (a join that never caught up).
  apply_ok(s, AddLearner{5, 9, "n9"});
  apply_ok(s, RemoveMember{6, 9});
  EXPECT_EQ(s.roster.retired, (std::vector<NodeId>{1, 9}));
  // Map commands leave the roster version alone, and roster commands the map's.
  EXPECT_EQ(s.map.version, 1u);
  apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}});
  EXPECT_EQ(s.roster.version, 7u);
}

TEST(SystemRoster, Refusals) {
  SystemState s = bootstrapped(1, 2);
  // Compare-and-set: the exact version, no wildcard.
  expect_roster_refused(s, AddLearner{0, 5, "n5"}, Status::StaleRosterVersion);
  expect_roster_refused(s, AddLearner{2, 5, "n5"}, Status::StaleRosterVersion);
  expect_roster_refused(s, AddLearner{1, 0, "n0"}, Status::InvalidArgument);
  expect_roster_refused(s, AddLearner{1, 5, ""}, Status::InvalidArgument);
  expect_roster_refused(s, AddLearner{1, 5, std::string(kMaxAddressSize + 1, 'a')},
                        Status::InvalidArgument);
  expect_roster_refused(s, AddLearner{1, 2, "n2"}, Status::MemberExists);
  expect_roster_refused(s, PromoteMember{1, 5}, Status::UnknownMember);
  expect_roster_refused(s, PromoteMember{1, 1}, Status::WrongRole);
  expect_roster_refused(s, RemoveMember{1, 1}, Status::WrongRole);  // a voter: leave first
  expect_roster_refused(s, MarkLeaving{1, 5}, Status::UnknownMember);
  expect_roster_refused(s, RemoveMember{1, 5}, Status::UnknownMember);
  expect_roster_refused(s, PromoteMember{0, 1}, Status::StaleRosterVersion);
  expect_roster_refused(s, MarkLeaving{0, 1}, Status::StaleRosterVersion);
  expect_roster_refused(s, RemoveMember{0, 1}, Status::StaleRosterVersion);

  apply_ok(s, AddLearner{1, 5, "n5"});
  apply_ok(s, MarkLeaving{2, 1});
  expect_roster_refused(s, MarkLeaving{3, 1}, Status::WrongRole);
  expect_roster_refused(s, PromoteMember{3, 1}, Status::WrongRole);
  // One voter change at a time.
  expect_roster_refused(s, MarkLeaving{3, 2}, Status::ChangeInProgress);
  expect_roster_refused(s, PromoteMember{3, 5}, Status::ChangeInProgress);
  // Node 2 is now the only voter.
  apply_ok(s, RemoveMember{3, 1});
  expect_roster_refused(s, MarkLeaving{4, 2}, Status::NoQuorum);
  expect_roster_refused(s, AddLearner{4, 1, "n1-again"}, Status::MemberRetired);
  // A learner may leave even when one voter remains.
  apply_ok(s, MarkLeaving{4, 5});
}

TEST(SystemRoster, LimitReached) {
  SystemState s = bootstrapped(1, 1);
  for (NodeId id = 2; id <= kMaxMembers; ++id) {
    ASSERT_EQ(apply(s, AddLearner{s.roster.version, id, "n"}).status, Status::Ok);
  }
  expect_roster_refused(s, AddLearner{s.roster.version, kMaxMembers + 1, "n"},
                        Status::LimitReached);
}

TEST(SystemStatus, EveryValueHasAName) {
  for (int v = 0; v <= static_cast<int>(Status::ChangeInProgress); ++v) {
    EXPECT_STRNE(to_string(static_cast<Status>(v)), "?") << v;
  }
}

}  // namespace
}  // namespace synod::system::testing
