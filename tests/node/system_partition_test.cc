// The system partition (0) in running NodeHosts, in the simulated world: its entries are
// the engine's (applied to the partition map and roster, never handed to the host), a new
// cluster's map comes from the Bootstrap command in partition 0's founding log, and
// partitions created and removed through the map appear and disappear on every node,
// also across restarts (log replay, and replay above a snapshot of partition 0).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "sim_cluster.h"

namespace synod::node::testing {
namespace {

using system::HashRange;
using system::PartitionState;
using system::RoutingMode;

bool stored(SimNode& node, PartitionId id) {
  const auto ids = node.store->partitions();
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool runs(NodeHost& host, PartitionId id) {
  const auto ids = host.partitions();
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Every node has applied the map through `version`.
bool maps_at(SimCluster& cluster, std::uint64_t version) {
  for (NodeId id : cluster.members()) {
    if (cluster.host(id).partition_map().version < version) return false;
  }
  return true;
}

MapChangeResult create(SimCluster& cluster, NodeId node, RoutingMode mode, HashRange range,
                       std::uint64_t expected) {
  std::optional<MapChangeResult> result;
  cluster.host(node).create_partition(mode, range, expected,
                                      [&](const MapChangeResult& r) { result = r; });
  cluster.run_until([&] { return result.has_value(); });
  return result.value_or(MapChangeResult{Status::Timeout});
}

MapChangeResult remove(SimCluster& cluster, NodeId node, PartitionId id, std::uint64_t expected) {
  std::optional<MapChangeResult> result;
  cluster.host(node).remove_partition(id, expected, [&](const MapChangeResult& r) { result = r; });
  cluster.run_until([&] { return result.has_value(); });
  return result.value_or(MapChangeResult{Status::Timeout});
}

NodeId system_leader(SimCluster& cluster) {
  cluster.run_until([&] { return cluster.agreed_leader(kSystemPartition) != raft::kNoNode; });
  return cluster.agreed_leader(kSystemPartition);
}

TEST(SystemPartition, ANewClusterBootstrapsTheMapAndRosterOnEveryNode) {
  SimCluster cluster({1, 2, 3}, 3);
  ASSERT_TRUE(cluster.run_until([&] { return maps_at(cluster, 1); }));
  for (NodeId id : cluster.members()) {
    const system::SystemState s = cluster.host(id).system_state();
    EXPECT_EQ(s.map.version, 1u);
    EXPECT_EQ(s.map.next_id, 4u);
    ASSERT_EQ(s.map.partitions.size(), 3u);
    std::uint64_t next_lo = 0;
    for (const auto& [pid, p] : s.map.partitions) {
      EXPECT_EQ(p.mode, RoutingMode::HashRange);
      EXPECT_EQ(p.state, PartitionState::Active);
      EXPECT_EQ(p.generation, 1u);
      EXPECT_EQ(p.range.lo, next_lo);
      next_lo = p.range.hi + 1;
    }
    EXPECT_EQ(next_lo, 0u);  // the last range ends at 2^64 - 1
    ASSERT_EQ(s.roster.members.size(), 3u);
    for (const auto& [mid, m] : s.roster.members) {
      EXPECT_EQ(m.role, system::MemberRole::Voter);
    }
    EXPECT_EQ(s.map, cluster.host(1).partition_map());
    // Routing follows the map: the key's hash is inside the range of its partition.
    for (const std::string key : {"a", "b", "hello", "synod"}) {
      const auto route = cluster.host(id).route(key);
      ASSERT_TRUE(route.has_value());
      const auto& range = s.map.partitions.at(route->partition).range;
      const std::uint64_t h = system::key_hash(key);
      EXPECT_TRUE(range.lo <= h && h <= range.hi) << key;
      EXPECT_EQ(route->generation, 1u);
      EXPECT_EQ(cluster.host(id).route_hash(h), route);
    }
  }
}

TEST(SystemPartition, TheHostCannotProposeToPartitionZeroAndNeverSeesItsEntries) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = system_leader(cluster);
  std::optional<ReplicationResult> r;
  cluster.host(leader).replicate(kSystemPartition, 1, raft::Bytes("x"),
                                 [&](const ReplicationResult& x) { r = x; });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, Status::SystemPartition);
  std::optional<std::vector<ReplicationResult>> batch;
  cluster.host(leader).replicate_batch(kSystemPartition, {{1, raft::Bytes("y")}},
                                       [&](const std::vector<ReplicationResult>& x) { batch = x; });
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->at(0).status, Status::SystemPartition);
  EXPECT_EQ(cluster.host(leader).report_applied(kSystemPartition, 1), Status::SystemPartition);
  ASSERT_EQ(create(cluster, leader, RoutingMode::Unrouted, {}, 0).status, Status::Ok);
  for (NodeId id : cluster.members()) {
    EXPECT_TRUE(cluster.node(id).applied[kSystemPartition].empty()) << "node " << id;
  }
}

TEST(SystemPartition, CreatedPartitionsRunOnEveryNodeAndRemovedOnesAreDeleted) {
  SimCluster cluster({1, 2, 3}, 2);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = system_leader(cluster);

  const MapChangeResult made = create(cluster, leader, RoutingMode::Unrouted, {}, 1);
  ASSERT_EQ(made.status, Status::Ok);
  EXPECT_EQ(made.detail, system::Status::Ok);
  EXPECT_EQ(made.partition, 3u);
  EXPECT_EQ(made.map_version, 2u);
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (!runs(cluster.host(id), 3)) return false;
    }
    return cluster.agreed_leader(3) != raft::kNoNode;
  }));
  const NodeId leader3 = cluster.agreed_leader(3);
  EXPECT_EQ(put(cluster, leader3, 3, "three").status, Status::Ok);
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (cluster.node(id).applied[3].empty()) return false;
    }
    return true;
  }));
  for (NodeId id : cluster.members()) {
    const auto map = cluster.host(id).partition_map();
    ASSERT_TRUE(map.partitions.count(3));
    EXPECT_EQ(map.partitions.at(3).mode, RoutingMode::Unrouted);
    EXPECT_EQ(map.partitions.at(3).state, PartitionState::Active);
  }

  const MapChangeResult gone = remove(cluster, leader, 3, 2);
  ASSERT_EQ(gone.status, Status::Ok);
  EXPECT_EQ(gone.map_version, 3u);
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (runs(cluster.host(id), 3) || stored(cluster.node(id), 3)) return false;
    }
    return true;
  }));
  for (NodeId id : cluster.members()) {
    EXPECT_EQ(cluster.host(id).partition_map().partitions.at(3).state, PartitionState::Removed);
    EXPECT_EQ(cluster.host(id).partitions(), (std::vector<PartitionId>{0, 1, 2}));
  }
  EXPECT_EQ(put(cluster, leader3, 3, "late").status, Status::UnknownPartition);
  // Ids are never reused.
  const MapChangeResult again = create(cluster, leader, RoutingMode::Unrouted, {}, 0);
  ASSERT_EQ(again.status, Status::Ok);
  EXPECT_EQ(again.partition, 4u);
}

TEST(SystemPartition, MapChangesRefuseWhatCannotBeDoneAndChangeNothing) {
  SimCluster cluster({1, 2, 3}, 2);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = system_leader(cluster);
  const auto before = cluster.host(leader).partition_map();

  MapChangeResult r = create(cluster, leader, RoutingMode::Unrouted, {}, 7);
  EXPECT_EQ(r.status, Status::StaleMapVersion);
  EXPECT_EQ(r.detail, system::Status::StaleMapVersion);
  EXPECT_EQ(r.map_version, 1u);  // the current one, to read again
  r = create(cluster, leader, RoutingMode::HashRange, {10, 20}, 0);
  EXPECT_EQ(r.status, Status::MapConflict);
  EXPECT_EQ(r.detail, system::Status::Overlapping);
  r = create(cluster, leader, RoutingMode::HashRange, {20, 10}, 0);
  EXPECT_EQ(r.status, Status::InvalidArgument);
  r = remove(cluster, leader, 1, 0);
  EXPECT_EQ(r.status, Status::MapConflict);
  EXPECT_EQ(r.detail, system::Status::RoutedPartition);
  r = remove(cluster, leader, kSystemPartition, 0);
  EXPECT_EQ(r.status, Status::SystemPartition);
  r = remove(cluster, leader, 99, 0);
  EXPECT_EQ(r.status, Status::UnknownPartition);
  EXPECT_EQ(r.detail, system::Status::UnknownPartition);

  // Not the leader of partition 0: refused before the log, with a hint.
  const NodeId follower = leader == 1 ? 2 : 1;
  r = create(cluster, follower, RoutingMode::Unrouted, {}, 0);
  EXPECT_EQ(r.status, Status::NotLeader);
  EXPECT_EQ(r.leader_hint, leader);

  cluster.run_for(milliseconds(200));
  for (NodeId id : cluster.members()) {
    EXPECT_EQ(cluster.host(id).partition_map(), before) << "node " << id;
    EXPECT_EQ(cluster.host(id).partitions(), (std::vector<PartitionId>{0, 1, 2}));
  }
}

TEST(SystemPartition, AHashRangePartitionCreatedInAGapTakesItsKeys) {
  SimCluster cluster({1, 2, 3}, 0);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = system_leader(cluster);
  EXPECT_FALSE(cluster.host(leader).route("k").has_value());  // no partition owns keys yet
  const HashRange lower{0, (std::uint64_t{1} << 63) - 1};
  const HashRange upper{std::uint64_t{1} << 63, ~std::uint64_t{0}};
  ASSERT_EQ(create(cluster, leader, RoutingMode::HashRange, lower, 1).status, Status::Ok);
  ASSERT_EQ(create(cluster, leader, RoutingMode::HashRange, upper, 2).status, Status::Ok);
  ASSERT_TRUE(cluster.run_until([&] { return maps_at(cluster, 3); }));
  for (NodeId id : cluster.members()) {
    EXPECT_EQ(cluster.host(id).route_hash(5)->partition, 1u);
    EXPECT_EQ(cluster.host(id).route_hash(~std::uint64_t{0})->partition, 2u);
  }
}

// Creates 2, removes it, creates 3: a node that restarts must end with partitions
// 0, 1, 3 (2 not founded again) and the same map as the others.
void change_then_restart(bool snapshot_first) {
  SimCluster cluster({1, 2, 3}, 1, 7, [](NodeHostConfig& c) { c.snapshots.keep_entries = 0; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = system_leader(cluster);
  ASSERT_EQ(create(cluster, leader, RoutingMode::Unrouted, {}, 0).partition, 2u);
  ASSERT_EQ(remove(cluster, leader, 2, 0).status, Status::Ok);
  ASSERT_EQ(create(cluster, leader, RoutingMode::Unrouted, {}, 0).partition, 3u);
  ASSERT_TRUE(cluster.run_until([&] { return maps_at(cluster, 4); }));
  const NodeId restarted = leader == 3 ? 2 : 3;
  if (snapshot_first) {
    std::optional<Status> saved;
    Index at = 0;
    cluster.host(restarted).request_snapshot(kSystemPartition, [&](Status s, Index i) {
      saved = s;
      at = i;
    });
    ASSERT_TRUE(cluster.run_until([&] { return saved.has_value(); }));
    ASSERT_EQ(*saved, Status::Ok);
    EXPECT_GT(at, 2u);
    // The host's snapshot handler was not asked: partition 0's state is the engine's.
    for (const auto& line : cluster.node(restarted).snapshot_log) {
      EXPECT_NE(line.rfind("save 0@", 0), 0u) << line;
    }
    // A synced write on the node makes the snapshot's record and the compaction durable.
    ASSERT_TRUE(cluster.run_until([&] { return cluster.agreed_leader(1) != raft::kNoNode; }));
    ASSERT_EQ(put(cluster, cluster.agreed_leader(1), 1, "sync").status, Status::Ok);
    ASSERT_TRUE(cluster.run_until([&] { return !cluster.node(restarted).applied[1].empty(); }));
  }
  const auto expected = cluster.host(leader).system_state();
  cluster.crash(restarted);
  cluster.start(restarted);
  ASSERT_TRUE(cluster.run_until([&] {
    return cluster.host(restarted).system_state() == expected && runs(cluster.host(restarted), 3);
  }));
  cluster.run_for(milliseconds(500));
  if (snapshot_first) {
    // Partition 0's log was compacted behind the snapshot the restart installed.
    for (const auto& st : cluster.host(restarted).status()) {
      if (st.partition == kSystemPartition) {
        EXPECT_GT(st.raft.first_index, 3u);
      }
    }
  }
  EXPECT_EQ(cluster.host(restarted).partitions(), (std::vector<PartitionId>{0, 1, 3}));
  EXPECT_FALSE(stored(cluster.node(restarted), 2));
  EXPECT_TRUE(cluster.halted().empty());
  // The map keeps working after the restart.
  const NodeId leader_now = system_leader(cluster);
  const MapChangeResult next = create(cluster, leader_now, RoutingMode::Unrouted, {}, 4);
  EXPECT_EQ(next.status, Status::Ok);
  EXPECT_EQ(next.partition, 4u);
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (!runs(cluster.host(id), 4)) return false;
    }
    return true;
  }));
}

TEST(SystemPartition, ARestartReplaysTheLogIntoTheMap) { change_then_restart(false); }

TEST(SystemPartition, ARestartInstallsPartitionZerosSnapshotThenReplaysAboveIt) {
  change_then_restart(true);
}

TEST(SystemPartition, AWipedNodeCatchesUpTheMapFromTheLeadersSnapshot) {
  SimCluster cluster({1, 2, 3}, 1, 3, [](NodeHostConfig& c) { c.snapshots.keep_entries = 0; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = system_leader(cluster);
  ASSERT_EQ(create(cluster, leader, RoutingMode::Unrouted, {}, 0).partition, 2u);
  ASSERT_EQ(create(cluster, leader, RoutingMode::Unrouted, {}, 0).partition, 3u);
  ASSERT_EQ(remove(cluster, leader, 2, 0).status, Status::Ok);
  // The leader compacts partition 0's log behind a snapshot of the map.
  std::optional<Status> saved;
  cluster.host(leader).request_snapshot(kSystemPartition, [&](Status s, Index) { saved = s; });
  ASSERT_TRUE(cluster.run_until([&] { return saved.has_value(); }));
  ASSERT_EQ(*saved, Status::Ok);
  const NodeId wiped = leader == 3 ? 2 : 3;
  cluster.wipe(wiped);
  cluster.start(wiped);
  const auto expected = cluster.host(leader).system_state();
  ASSERT_TRUE(cluster.run_until([&] {
    return cluster.host(wiped).system_state() == expected && runs(cluster.host(wiped), 3);
  }));
  EXPECT_FALSE(runs(cluster.host(wiped), 2));
  EXPECT_TRUE(cluster.halted().empty());
  // It got there through the leader's snapshot of partition 0: its log starts above it.
  for (const auto& st : cluster.host(wiped).status()) {
    if (st.partition == kSystemPartition) {
      EXPECT_GT(st.raft.first_index, 3u);
    }
  }
}

}  // namespace
}  // namespace synod::node::testing
