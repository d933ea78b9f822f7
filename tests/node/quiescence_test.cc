#include <gtest/gtest.h>

#include "sim_cluster.h"

namespace synod::node::testing {
namespace {

bool all_quiescent(SimCluster& cluster) {
  for (NodeId id : cluster.members()) {
    if (!cluster.node(id).host) continue;
    for (const auto& s : cluster.host(id).status()) {
      if (!s.quiescent) return false;
    }
  }
  return true;
}

std::uint64_t messages_sent(SimCluster& cluster) {
  std::uint64_t total = 0;
  for (NodeId id : cluster.members()) {
    if (cluster.node(id).transport) total += cluster.node(id).transport->stats().messages_sent;
  }
  return total;
}

ReplicationResult replicate_and_wait(SimCluster& cluster, PartitionId partition,
                                     const std::string& data) {
  ReplicationResult result;
  bool done = false;
  const NodeId leader = cluster.agreed_leader(partition);
  EXPECT_NE(leader, raft::kNoNode);
  if (leader == raft::kNoNode) return result;
  cluster.host(leader).replicate(partition, 1, raft::Bytes(data), [&](const ReplicationResult& r) {
    result = r;
    done = true;
  });
  EXPECT_TRUE(cluster.run_until([&] { return done; }));
  return result;
}

TEST(Quiescence, IdlePartitionsStopSendingPerPartitionMessages) {
  SimCluster cluster({1, 2, 3}, 8);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  ASSERT_TRUE(cluster.run_until([&] { return all_quiescent(cluster); }));
  const auto before = messages_sent(cluster);
  cluster.run_for(milliseconds(5000));
  EXPECT_EQ(messages_sent(cluster), before)
      << "only the per-node liveness batches, which carry no partition message, remain";
  EXPECT_TRUE(all_quiescent(cluster));
}

TEST(Quiescence, AProposalWakesThePartitionAndCommits) {
  SimCluster cluster({1, 2, 3}, 4);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  ASSERT_TRUE(cluster.run_until([&] { return all_quiescent(cluster); }));
  EXPECT_EQ(replicate_and_wait(cluster, 3, "wake").status, Status::Ok);
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (cluster.node(id).applied[3].empty()) return false;
    }
    return true;
  }));
  ASSERT_TRUE(cluster.run_until([&] { return all_quiescent(cluster); }))
      << "and goes back to sleep once idle again";
}

// Lets every partition elect and quiesce, crashes the leader of partition 2, and checks
// that the survivors, who stop hearing the crashed node, wake its partitions and elect
// another leader, which commits.
void crash_a_quiescent_leader(SimCluster& cluster) {
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  ASSERT_TRUE(cluster.run_until([&] { return all_quiescent(cluster); }));
  const NodeId old_leader = cluster.agreed_leader(2);
  cluster.crash(old_leader);
  ASSERT_TRUE(cluster.run_until([&] {
    const NodeId leader = cluster.agreed_leader(2);
    return leader != raft::kNoNode && leader != old_leader;
  }));
  EXPECT_EQ(replicate_and_wait(cluster, 2, "after").status, Status::Ok);
}

TEST(Quiescence, ALeaderThatCrashesWhileQuiescentIsReplaced) {
  SimCluster cluster({1, 2, 3}, 4);
  crash_a_quiescent_leader(cluster);
}

TEST(Quiescence, FollowersOfASilentLeaderDoNotQuiesceBeforeElecting) {
  // Idle partitions quiesce after 3 ticks, well within an election timeout: a follower
  // woken by its leader's silence must keep ticking until it has elected, not fall back
  // asleep still following the dead leader.
  SimCluster cluster({1, 2, 3}, 4, 1, [](NodeHostConfig& c) {
    c.quiesce_after_ticks = 3;
    c.election_ticks = 10;
  });
  crash_a_quiescent_leader(cluster);
}

TEST(Quiescence, ALeaderCutOffWhileQuiescentStepsDownAndTheMajorityMovesOn) {
  SimCluster cluster({1, 2, 3}, 2);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  ASSERT_TRUE(cluster.run_until([&] { return all_quiescent(cluster); }));
  const NodeId old_leader = cluster.agreed_leader(1);
  cluster.network().isolate(old_leader);
  ASSERT_TRUE(cluster.run_until([&] { return !cluster.host(old_leader).is_leader(1); }))
      << "the cut-off leader wakes, fails check-quorum and steps down";
  NodeId majority_leader = raft::kNoNode;
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (id != old_leader && cluster.host(id).is_leader(1)) majority_leader = id;
    }
    return majority_leader != raft::kNoNode;
  }));
  cluster.network().heal();
  ASSERT_TRUE(cluster.run_until([&] { return cluster.agreed_leader(1) != raft::kNoNode; }));
  EXPECT_EQ(replicate_and_wait(cluster, 1, "healed").status, Status::Ok);
}

}  // namespace
}  // namespace synod::node::testing
