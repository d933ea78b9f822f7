// A follower behind the leader's compacted log gets a snapshot. The transport reports how
// each transfer ended, and Raft hears it: a lost snapshot is sent again, a delivered one
// lets replication go on from it.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sim_cluster.h"

namespace synod::node::testing {
namespace {

TEST(SnapshotTransfer, ALostSnapshotIsSentAgainAndTheFollowerCatchesUp) {
  SimCluster cluster({1, 2, 3}, 1, 1, [](NodeHostConfig& c) { c.snapshots.keep_entries = 1; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  const NodeId behind = leader == 3 ? 2 : 3;
  cluster.crash(behind);

  Index last = 0;
  for (int i = 0; i < 20; ++i) {
    std::optional<ReplicationResult> put;
    cluster.host(leader).replicate(1, 1, raft::Bytes("e" + std::to_string(i)),
                                   [&](const ReplicationResult& r) { put = r; });
    ASSERT_TRUE(cluster.run_until([&] { return put.has_value(); }));
    ASSERT_EQ(put->status, Status::Ok);
    last = put->index;
  }
  // The leader's host snapshots its state and the log the follower still needs goes.
  std::optional<std::pair<Status, Index>> saved;
  cluster.host(leader).request_snapshot(1, [&](Status s, Index i) { saved = {s, i}; });
  ASSERT_TRUE(cluster.run_until([&] { return saved.has_value(); }));
  ASSERT_EQ(saved->first, Status::Ok);
  ASSERT_GT(cluster.node(leader).store->open_partition(1)->first_index(), 2u);

  // The snapshot is on its way (slowly) when the follower goes down again: it is lost.
  // Without the transport's report of that loss, the leader would wait for it forever.
  transport::LinkFaults slow;
  slow.delay = milliseconds(50);
  cluster.network().set_link(leader, behind, slow);
  cluster.start(behind);
  ASSERT_TRUE(cluster.run_until([&] {
    const std::vector<PartitionStatus> status = cluster.host(leader).status();
    for (const auto& peer : status[1].raft.peers) {
      if (peer.id == behind && peer.state == raft::ProgressState::Snapshot) return true;
    }
    return false;
  }));
  cluster.crash(behind);
  cluster.run_for(milliseconds(100));  // past the snapshot's arrival
  cluster.network().set_link(leader, behind, {});
  cluster.start(behind);

  auto caught_up = [&] {
    const auto st = cluster.host(behind).status();
    return !st.empty() && st[1].raft.hard_state.commit >= last;
  };
  ASSERT_TRUE(cluster.run_until(caught_up));
  std::optional<ReplicationResult> after;
  cluster.host(leader).replicate(1, 1, raft::Bytes("after"),
                                 [&](const ReplicationResult& r) { after = r; });
  ASSERT_TRUE(cluster.run_until([&] {
    const auto& applied = cluster.node(behind).applied[1];
    return !applied.empty() && applied.back().payload == raft::Bytes("after");
  }));
  EXPECT_EQ(after->status, Status::Ok);
}

}  // namespace
}  // namespace synod::node::testing
