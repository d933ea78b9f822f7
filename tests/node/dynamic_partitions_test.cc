// Partitions added to and removed from running NodeHosts, in the simulated world.
//
// The randomized case adds and removes partitions on every node while proposals, reads,
// ticks and messages hit them, and checks that every request is answered exactly once,
// that a removed partition answers UnknownPartition and its storage is gone, and that the
// partitions left keep working. Environment:
//   SYNOD_RESHAPE_SEEDS=<count>  seeds to run (default 8)
//   SYNOD_RESHAPE_SEED=<n>       run only seed n (a failure prints this replay line)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim_cluster.h"
#include "synod/env/random.h"

namespace synod::node::testing {
namespace {

bool stored(SimNode& node, PartitionId id) {
  const auto ids = node.store->partitions();
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::optional<Status> remove(SimCluster& cluster, NodeId node, PartitionId id) {
  std::optional<Status> result;
  cluster.host(node).remove_partition(id, [&](Status s) { result = s; });
  cluster.run_until([&] { return result.has_value(); });
  return result;
}

TEST(DynamicPartitions, AnAddedPartitionElectsAndReplicatesOnEveryNode) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  for (NodeId id : cluster.members()) {
    ASSERT_EQ(cluster.host(id).add_partition(7, {1, 2, 3}), Status::Ok);
  }
  ASSERT_TRUE(cluster.run_until([&] { return cluster.agreed_leader(7) != raft::kNoNode; }));
  const NodeId leader = cluster.agreed_leader(7);
  std::optional<ReplicationResult> put;
  cluster.host(leader).replicate(7, 1, raft::Bytes("seven"),
                                 [&](const ReplicationResult& r) { put = r; });
  ASSERT_TRUE(cluster.run_until([&] {
    if (!put) return false;
    for (NodeId id : cluster.members()) {
      if (cluster.node(id).applied[7].empty()) return false;
    }
    return true;
  }));
  EXPECT_EQ(put->status, Status::Ok);
  for (NodeId id : cluster.members()) {
    EXPECT_EQ(cluster.node(id).applied[7].back().payload, raft::Bytes("seven"));
    const auto ids = cluster.host(id).partitions();
    EXPECT_EQ(ids, (std::vector<PartitionId>{0, 1, 7}));
  }
}

TEST(DynamicPartitions, ARemovedPartitionAnswersUnknownPartitionAndItsStorageIsDeleted) {
  SimCluster cluster({1, 2, 3}, 2);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  // Requests queued and in flight when the partition goes: each is answered.
  std::vector<std::optional<ReplicationResult>> puts(20);
  for (auto& put : puts) {
    cluster.host(leader).replicate(1, 1, raft::Bytes("p"),
                                   [&put](const ReplicationResult& r) { put = r; });
  }
  std::optional<ReadResult> read;
  cluster.host(leader).read_index(1, [&](const ReadResult& r) { read = r; });
  std::optional<Status> removed;
  cluster.host(leader).remove_partition(1, [&](Status s) { removed = s; });
  ASSERT_TRUE(cluster.run_until([&] { return removed.has_value(); }));
  EXPECT_EQ(*removed, Status::Ok);
  for (const auto& put : puts) {
    ASSERT_TRUE(put.has_value());
    EXPECT_EQ(put->status, Status::UnknownPartition);
  }
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status, Status::UnknownPartition);

  SimNode& node = cluster.node(leader);
  EXPECT_FALSE(stored(node, 1));
  EXPECT_TRUE(stored(node, 2));
  EXPECT_EQ(cluster.host(leader).partitions(), (std::vector<PartitionId>{0, 2}));
  std::optional<ReplicationResult> later;
  cluster.host(leader).replicate(1, 1, raft::Bytes("q"),
                                 [&](const ReplicationResult& r) { later = r; });
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->status, Status::UnknownPartition);
  EXPECT_EQ(cluster.host(leader).report_applied(1, 1), Status::UnknownPartition);
  EXPECT_EQ(cluster.host(leader).transfer_leadership(1, 2), Status::UnknownPartition);

  // The two other nodes still form a quorum for partition 1; partition 2 is untouched.
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (id != leader && cluster.host(id).is_leader(1)) return true;
    }
    return false;
  }));
  NodeId other = raft::kNoNode;
  for (NodeId id : cluster.members()) {
    if (id != leader && cluster.host(id).is_leader(1)) other = id;
  }
  EXPECT_EQ(put(cluster, other, 1, "r").status, Status::Ok);
}

TEST(DynamicPartitions, AddAndRemoveRefuseWhatCannotBeDone) {
  SimCluster cluster({1, 2, 3}, 1);
  NodeHost& host = cluster.host(1);
  EXPECT_EQ(host.add_partition(1, {1, 2, 3}), Status::InvalidArgument);  // taken
  EXPECT_EQ(host.add_partition(5, {2, 3}), Status::InvalidArgument);     // not a voter
  EXPECT_EQ(host.add_partition(5, {}), Status::InvalidArgument);
  EXPECT_EQ(host.add_partition(5, {1, 0}), Status::InvalidArgument);
  EXPECT_EQ(remove(cluster, 1, 99), Status::UnknownPartition);
  EXPECT_FALSE(stored(cluster.node(1), 5));

  // Removing, then adding the id again once the removal is done: a fresh partition.
  ASSERT_EQ(host.add_partition(5, {1}), Status::Ok);
  std::optional<Status> removed;
  host.remove_partition(5, [&](Status s) { removed = s; });
  EXPECT_EQ(host.add_partition(5, {1}), Status::InvalidArgument);  // still being removed
  ASSERT_TRUE(cluster.run_until([&] { return removed.has_value(); }));
  EXPECT_EQ(*removed, Status::Ok);
  ASSERT_EQ(host.add_partition(5, {1}), Status::Ok);
  ASSERT_TRUE(cluster.run_until([&] { return host.is_leader(5); }));
  const ReplicationResult fresh = put(cluster, 1, 5, "x");
  EXPECT_EQ(fresh.status, Status::Ok);
  EXPECT_EQ(fresh.index, 3u);  // after the bootstrap entry and the new leader's empty entry

  host.stop();
  EXPECT_EQ(host.add_partition(6, {1}), Status::ShuttingDown);
  EXPECT_EQ(remove(cluster, 1, 5), Status::ShuttingDown);
}

TEST(DynamicPartitions, AnAddedPartitionIsFoundAgainAfterARestart) {
  SimCluster cluster({1}, 0);
  ASSERT_EQ(cluster.host(1).add_partition(9, {1}), Status::Ok);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.host(1).is_leader(9); }));
  ASSERT_EQ(put(cluster, 1, 9, "kept").status, Status::Ok);
  ASSERT_EQ(remove(cluster, 1, 0), Status::Ok);
  cluster.crash(1);
  cluster.start(1);
  EXPECT_EQ(cluster.host(1).partitions(), (std::vector<PartitionId>{9}));
  ASSERT_TRUE(cluster.run_until([&] { return !cluster.node(1).applied[9].empty(); }));
  EXPECT_EQ(cluster.node(1).applied[9].back().payload, raft::Bytes("kept"));
}

// --- randomized --------------------------------------------------------------------

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

void reshape_under_load(std::uint64_t seed) {
  SimCluster cluster({1, 2, 3}, 3, seed);
  env::Random random(seed);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  // Answers per request id: each must be 1 at the end.
  std::map<std::uint64_t, int> answers;
  std::uint64_t next_request = 0;
  std::map<NodeId, std::map<PartitionId, std::optional<Status>>> removals;
  const std::vector<PartitionId> dynamic = {1, 2, 3, 10, 11, 12, 13};
  // A node never adds back a partition it removed while the others still run it: it would
  // rejoin with an empty log and no memory of its votes, which Raft's safety forbids.
  std::map<NodeId, std::set<PartitionId>> removed_here;
  for (int step = 0; step < 400; ++step) {
    const NodeId node = 1 + random.below(3);
    const PartitionId partition = dynamic[random.below(dynamic.size())];
    NodeHost& host = cluster.host(node);
    switch (random.below(10)) {
      case 0: {
        auto& by_partition = removals[node];
        auto it = by_partition.find(partition);
        if (it != by_partition.end() && !it->second) break;  // a removal under way
        by_partition[partition].reset();
        removed_here[node].insert(partition);
        host.remove_partition(
            partition, [&removals, node, partition](Status s) { removals[node][partition] = s; });
        break;
      }
      case 1:
        if (!removed_here[node].count(partition)) (void)host.add_partition(partition, {1, 2, 3});
        break;
      case 2:
      case 3: {
        const std::uint64_t id = next_request++;
        answers[id] = 0;
        host.read_index(partition, [&answers, id](const ReadResult&) { ++answers[id]; });
        break;
      }
      default: {
        const std::uint64_t id = next_request++;
        answers[id] = 0;
        host.replicate(partition, 1, raft::Bytes("v"),
                       [&answers, id](const ReplicationResult&) { ++answers[id]; });
      }
    }
    cluster.run_for(milliseconds(random.below(30)));
  }
  // Every request is answered once the request timeout has passed.
  cluster.run_for(milliseconds(5000));
  for (const auto& [id, count] : answers) ASSERT_EQ(count, 1) << "request " << id;
  for (const auto& [node, by_partition] : removals) {
    for (const auto& [partition, result] : by_partition) {
      EXPECT_TRUE(result.has_value()) << "removal of " << partition << " on node " << node;
    }
  }
  // A partition runs exactly where it is stored: removals deleted their storage.
  for (NodeId node : cluster.members()) {
    const auto ids = cluster.host(node).partitions();
    for (PartitionId partition : dynamic) {
      const bool running = std::find(ids.begin(), ids.end(), partition) != ids.end();
      EXPECT_EQ(running, stored(cluster.node(node), partition))
          << "partition " << partition << " on node " << node;
    }
  }
  // The system partition was never touched and still commits (a change of the map: the
  // host may not propose to it directly).
  ASSERT_TRUE(cluster.run_until([&] { return cluster.agreed_leader(0) != raft::kNoNode; }));
  std::optional<MapChangeResult> changed;
  cluster.host(cluster.agreed_leader(0))
      .create_partition(system::RoutingMode::Unrouted, {}, 0,
                        [&](const MapChangeResult& r) { changed = r; });
  ASSERT_TRUE(cluster.run_until([&] { return changed.has_value(); }));
  EXPECT_EQ(changed->status, Status::Ok);
  EXPECT_EQ(put(cluster, cluster.agreed_leader(0), 0, "s").status, Status::SystemPartition);
}

TEST(DynamicPartitions, AddingAndRemovingUnderLoadAnswersEveryRequestOnce) {
  const std::uint64_t only = env_number("SYNOD_RESHAPE_SEED", 0);
  const std::uint64_t seeds = env_number("SYNOD_RESHAPE_SEEDS", 8);
  for (std::uint64_t seed = only ? only : 1; seed <= (only ? only : seeds); ++seed) {
    SCOPED_TRACE("replay: SYNOD_RESHAPE_SEED=" + std::to_string(seed) +
                 " build/tests/node/synod_node_test "
                 "--gtest_filter='DynamicPartitions.AddingAndRemovingUnderLoad*'");
    reshape_under_load(seed);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace synod::node::testing
