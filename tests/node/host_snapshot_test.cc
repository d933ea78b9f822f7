// Host snapshots and compaction through NodeHost, in the simulated world (sim_cluster.h:
// each host's state is the list of entries it applied, and it snapshots that list).
// Both host models, the ordering the host sees, restarts, a wiped disk, and every way a
// save or an install can fail.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sim_cluster.h"

namespace synod::node::testing {
namespace {

constexpr PartitionId kP = 1;

std::function<void(NodeHostConfig&)> policy(StateMachineModel model, std::uint64_t every,
                                            std::uint64_t keep) {
  return [=](NodeHostConfig& c) {
    c.snapshots.model = model;
    c.snapshots.every_entries = every;
    c.snapshots.keep_entries = keep;
  };
}

ReplicationResult put(SimCluster& cluster, NodeId node, const std::string& value) {
  std::optional<ReplicationResult> result;
  cluster.host(node).replicate(kP, 1, raft::Bytes(value),
                               [&](const ReplicationResult& r) { result = r; });
  cluster.run_until([&] { return result.has_value(); });
  return result.value_or(ReplicationResult{Status::Timeout});
}

// Writes `count` entries through the leader; returns the index of the last.
Index write(SimCluster& cluster, NodeId leader, int count, const std::string& prefix = "v") {
  Index last = 0;
  for (int i = 0; i < count; ++i) {
    const ReplicationResult r = put(cluster, leader, prefix + std::to_string(i));
    EXPECT_EQ(r.status, Status::Ok);
    last = r.index;
  }
  return last;
}

std::optional<std::pair<Status, Index>> request_snapshot(SimCluster& cluster, NodeId node,
                                                         PartitionId partition = kP) {
  std::optional<std::pair<Status, Index>> result;
  cluster.host(node).request_snapshot(partition,
                                      [&](Status s, Index i) { result = std::make_pair(s, i); });
  cluster.run_until([&] { return result.has_value(); });
  return result;
}

std::vector<std::string> payloads(const std::vector<CommittedEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.emplace_back(e.payload.view());
  return out;
}

// Every up node applied the same entries as `reference`.
bool converged(SimCluster& cluster, NodeId reference) {
  const auto& want = cluster.node(reference).applied[kP];
  for (NodeId id : cluster.members()) {
    if (!cluster.node(id).host) continue;
    if (payloads(cluster.node(id).applied[kP]) != payloads(want)) return false;
  }
  return true;
}

bool has(const std::vector<std::string>& log, const std::string& prefix) {
  for (const auto& line : log) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(HostSnapshot, InMemoryPolicySnapshotsEveryNEntriesAndCompactsBehindIt) {
  SimCluster cluster({1, 2, 3}, 1, 1, policy(StateMachineModel::InMemory, 10, 4));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  const Index last = write(cluster, leader, 35);
  ASSERT_TRUE(cluster.run_until([&] { return converged(cluster, leader); }));
  for (NodeId id : cluster.members()) {
    SimNode& node = cluster.node(id);
    // Each node snapshots on its own, after the entries the policy counts.
    EXPECT_TRUE(has(node.snapshot_log, "save 1@")) << "node " << id;
    const auto latest = node.snapshots->latest(kP);
    ASSERT_TRUE(latest.has_value()) << "node " << id;
    EXPECT_GE(latest->meta.index, last - 12);
    EXPECT_EQ(node.snapshots->list(kP).size(), 1u) << "older snapshots are deleted";
    auto log = node.store->open_partition(kP);
    EXPECT_EQ(log->snapshot_meta().index, latest->meta.index);
    // Compacted behind the snapshot, keeping 4 entries for slow followers.
    EXPECT_EQ(log->first_index(), latest->meta.index - 4 + 1) << "node " << id;
  }
}

TEST(HostSnapshot, AFollowerBehindTheCompactedLogCatchesUpByInstallingASnapshot) {
  SimCluster cluster({1, 2, 3}, 1, 2, policy(StateMachineModel::InMemory, 8, 2));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  const NodeId behind = leader == 3 ? 2 : 3;
  write(cluster, leader, 3, "early");
  cluster.crash(behind);
  const Index last = write(cluster, leader, 40, "late");
  ASSERT_GT(cluster.node(leader).store->open_partition(kP)->first_index(), 10u);
  cluster.start(behind);
  ASSERT_TRUE(cluster.run_until([&] { return converged(cluster, leader); }));
  SimNode& node = cluster.node(behind);
  ASSERT_TRUE(has(node.snapshot_log, "install 1@")) << "caught up from the log instead";
  EXPECT_EQ(node.applied[kP].back().index, last);
  // The snapshot came first, then only entries above it.
  const std::string first = node.snapshot_log.front();
  EXPECT_EQ(first.rfind("install 1@", 0), 0u) << first;
  // And the follower goes on from there.
  ASSERT_EQ(put(cluster, leader, "after").status, Status::Ok);
  ASSERT_TRUE(cluster.run_until([&] { return converged(cluster, leader); }));
}

TEST(HostSnapshot, ARestartInstallsTheNodesOwnSnapshotThenOnlyLaterEntries) {
  SimCluster cluster({1, 2, 3}, 1, 3, policy(StateMachineModel::InMemory, 10, 3));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  const NodeId restarted = leader == 1 ? 2 : 1;
  write(cluster, leader, 27);
  ASSERT_TRUE(cluster.run_until([&] { return converged(cluster, leader); }));
  const auto before = payloads(cluster.node(restarted).applied[kP]);
  const auto snapshot = cluster.node(restarted).snapshots->latest(kP);
  ASSERT_TRUE(snapshot.has_value());
  cluster.crash(restarted);
  cluster.start(restarted);
  ASSERT_TRUE(cluster.run_until(
      [&] { return payloads(cluster.node(restarted).applied[kP]) == before; }));
  SimNode& node = cluster.node(restarted);
  ASSERT_FALSE(node.snapshot_log.empty());
  EXPECT_EQ(node.snapshot_log.front(), "install 1@" + std::to_string(snapshot->meta.index));
  for (std::size_t i = 1; i < node.applied[kP].size(); ++i) {
    EXPECT_LT(node.applied[kP][i - 1].index, node.applied[kP][i].index);
  }
}

TEST(HostSnapshot, AWipedNodeRejoinsFromASnapshotWhileClientsWrite) {
  SimCluster cluster({1, 2, 3}, 1, 4, policy(StateMachineModel::InMemory, 10, 2));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  const NodeId wiped = leader == 2 ? 3 : 2;
  write(cluster, leader, 30);
  cluster.wipe(wiped);
  // Down for many election timeouts, so that no vote it forgot can still matter.
  cluster.run_for(milliseconds(2000));
  write(cluster, leader, 20, "w");
  cluster.start(wiped);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(put(cluster, leader, "during" + std::to_string(i)).status, Status::Ok);
    cluster.run_for(milliseconds(20));
  }
  ASSERT_TRUE(cluster.run_until([&] { return converged(cluster, leader); }));
  EXPECT_TRUE(has(cluster.node(wiped).snapshot_log, "install 1@"));
}

TEST(HostSnapshot, RequestSnapshotSavesNowAndAnswersWithItsIndex) {
  SimCluster cluster({1, 2, 3}, 1, 5, policy(StateMachineModel::InMemory, 0, 1));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  const Index last = write(cluster, leader, 5);
  EXPECT_FALSE(has(cluster.node(leader).snapshot_log, "save")) << "no policy, no save";
  const auto result = request_snapshot(cluster, leader);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->first, Status::Ok);
  EXPECT_GE(result->second, last);
  EXPECT_EQ(cluster.node(leader).snapshots->latest(kP)->meta.index, result->second);
  EXPECT_EQ(cluster.node(leader).store->open_partition(kP)->first_index(), result->second);
  // Nothing new since: the same snapshot answers, no second save.
  const auto again = request_snapshot(cluster, leader);
  EXPECT_EQ(again->first, Status::Ok);
  EXPECT_EQ(again->second, result->second);
  EXPECT_EQ(request_snapshot(cluster, leader, 99)->first, Status::UnknownPartition);
}

TEST(HostSnapshot, ASaveTheHostFailsKeepsTheLogAndFailsTheRequest) {
  SimCluster cluster({1, 2, 3}, 1, 6, policy(StateMachineModel::InMemory, 0, 1));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  write(cluster, leader, 5);
  cluster.node(leader).save_answer = Status::StorageFailure;
  const auto failed = request_snapshot(cluster, leader);
  EXPECT_EQ(failed->first, Status::StorageFailure);
  EXPECT_FALSE(cluster.node(leader).snapshots->latest(kP).has_value()) << "half a snapshot kept";
  EXPECT_EQ(cluster.node(leader).store->open_partition(kP)->first_index(), 1u);
  // The next save works.
  cluster.node(leader).save_answer = Status::Ok;
  EXPECT_EQ(request_snapshot(cluster, leader)->first, Status::Ok);
}

TEST(HostSnapshot, ASaveTheHostDropsWithoutAnsweringFailsInsteadOfHanging) {
  SimCluster cluster({1}, 1, 7, policy(StateMachineModel::InMemory, 0, 1));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  write(cluster, 1, 3);
  cluster.host(1).set_snapshot_handler({[](SaveRequest) {}, [](InstallRequest) {}});
  EXPECT_EQ(request_snapshot(cluster, 1)->first, Status::StorageFailure);
}

TEST(HostSnapshot, AnInstallTheHostFailsHaltsThePartitionAndReportsIt) {
  SimCluster cluster({1, 2, 3}, 1, 8, policy(StateMachineModel::InMemory, 5, 1));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  const NodeId behind = leader == 3 ? 2 : 3;
  cluster.crash(behind);
  write(cluster, leader, 20);
  cluster.node(behind).install_answer = Status::InvalidArgument;
  cluster.start(behind);
  ASSERT_TRUE(cluster.run_until([&] { return !cluster.halted().empty(); }));
  EXPECT_EQ(cluster.halted().front().first, kP);
  EXPECT_NE(cluster.halted().front().second.find("failed to install"), std::string::npos);
  const ReplicationResult r = put(cluster, behind, "x");
  EXPECT_EQ(r.status, Status::StorageFailure);
  bool reported = false;
  for (const auto& st : cluster.host(behind).status()) {
    if (st.partition == kP) reported = !st.storage_error.empty();
  }
  EXPECT_TRUE(reported);
  // The rest of the cluster goes on.
  EXPECT_EQ(put(cluster, leader, "y").status, Status::Ok);
}

TEST(HostSnapshot, ASnapshotLostFromDiskHaltsThePartitionOnRestart) {
  SimCluster cluster({1}, 1, 9, policy(StateMachineModel::InMemory, 0, 1));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  write(cluster, 1, 5);
  ASSERT_EQ(request_snapshot(cluster, 1)->first, Status::Ok);
  cluster.crash(1);
  // The log store says there is a snapshot; the snapshot store has lost it.
  cluster.node(1).snapshots = storage::make_memory_snapshot_store();
  cluster.start(1);
  ASSERT_TRUE(cluster.run_until([&] { return !cluster.halted().empty(); }));
  EXPECT_NE(cluster.halted().front().second.find("cannot be installed again"), std::string::npos)
      << cluster.halted().front().second;
  EXPECT_TRUE(cluster.node(1).snapshot_log.empty()) << "the host was handed something";
  EXPECT_TRUE(cluster.node(1).applied[kP].empty()) << "entries above a missing snapshot";
}

TEST(HostSnapshot, DurableModelCompactsBehindTheFloorAndExportsOnlyWhenAFollowerNeedsIt) {
  SimCluster cluster({1, 2, 3}, 1, 10, policy(StateMachineModel::Durable, 0, 3));
  // The durable hosts report what they applied as they go.
  for (NodeId id : cluster.members()) cluster.node(id).report_applied = true;
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(kP);
  const NodeId behind = leader == 3 ? 2 : 3;
  write(cluster, leader, 4);
  cluster.crash(behind);
  write(cluster, leader, 30);
  cluster.run_for(milliseconds(100));
  auto log = cluster.node(leader).store->open_partition(kP);
  EXPECT_GT(log->first_index(), 20u) << "not compacted behind the floor";
  EXPECT_FALSE(has(cluster.node(leader).snapshot_log, "save")) << "a durable host saves on demand only";
  EXPECT_FALSE(cluster.node(leader).snapshots->latest(kP).has_value());
  // The follower is behind the compacted prefix: the leader's host exports, the
  // follower's imports.
  cluster.start(behind);
  ASSERT_TRUE(cluster.run_until([&] { return converged(cluster, leader); }));
  EXPECT_TRUE(has(cluster.node(leader).snapshot_log, "save 1@"));
  EXPECT_TRUE(has(cluster.node(behind).snapshot_log, "install 1@"));
}

}  // namespace
}  // namespace synod::node::testing
