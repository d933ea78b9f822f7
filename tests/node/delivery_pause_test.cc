// Back-pressure from the host: while a node's delivery is paused, committed entries are
// held back (not dropped) and their proposals stay unanswered; the cluster goes on, and
// resuming delivers everything in log order.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sim_cluster.h"

namespace synod::node::testing {
namespace {

TEST(DeliveryPause, HoldsCommittedEntriesBackUntilResumedAndLosesNone) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  const NodeId follower = leader == 1 ? 2 : 1;
  SimNode& paused = cluster.node(leader);
  const std::size_t applied_before = paused.applied[1].size();

  cluster.host(leader).set_delivery_paused(true);
  std::vector<std::optional<ReplicationResult>> results(10);
  for (std::size_t i = 0; i < results.size(); ++i) {
    cluster.host(leader).replicate(1, 1, raft::Bytes("v" + std::to_string(i)),
                                   [&results, i](const ReplicationResult& r) { results[i] = r; });
  }
  // Committed: the follower applies all ten; the paused leader applies none, answers none.
  ASSERT_TRUE(cluster.run_until([&] { return cluster.node(follower).applied[1].size() >= 10; }));
  cluster.run_for(milliseconds(200));
  EXPECT_EQ(paused.applied[1].size(), applied_before);
  for (const auto& r : results) EXPECT_FALSE(r.has_value());

  cluster.host(leader).set_delivery_paused(false);
  ASSERT_TRUE(cluster.run_until([&] {
    for (const auto& r : results) {
      if (!r) return false;
    }
    return true;
  }));
  for (const auto& r : results) EXPECT_EQ(r->status, Status::Ok);
  ASSERT_EQ(paused.applied[1].size(), applied_before + results.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const CommittedEntry& e = paused.applied[1][applied_before + i];
    EXPECT_EQ(e.payload, raft::Bytes("v" + std::to_string(i)));
    EXPECT_EQ(e.index, results[i]->index);
  }
}

}  // namespace
}  // namespace synod::node::testing
