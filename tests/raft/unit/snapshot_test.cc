// Log compaction and snapshots: catching up a follower behind the compacted prefix,
// the snapshot progress state, and restarting from a snapshot plus log.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using unit::count_in_flight;
using unit::peer_status;

// Delivers every in-flight message except those `hold` matches, and the replies, until
// only held messages are left.
template <typename Hold>
void stabilize_holding(Cluster& c, Hold hold) {
  for (int round = 0; round < 1000; ++round) {
    c.process_all();
    bool delivered = false;
    for (std::size_t i = 0; i < c.in_flight().size();) {
      if (hold(c.in_flight()[i].message)) {
        ++i;
      } else {
        c.deliver(i);
        delivered = true;
      }
    }
    if (!delivered) return;
  }
  ADD_FAILURE() << "did not settle";
}

bool is_snapshot(const Message& m) { return m.type == MessageType::InstallSnapshot; }

// Leaves node 3 behind the leader's compacted prefix; returns the snapshot index.
Index leave_node_three_behind_a_snapshot(Cluster& c, int entries = 20) {
  EXPECT_TRUE(c.elect(1));
  c.isolate(3);
  for (int i = 0; i < entries; ++i) {
    EXPECT_EQ(c.propose(1, "e" + std::to_string(i)).status, RaftStatus::Ok);
  }
  c.stabilize();
  c.compact(1);
  EXPECT_GT(c.storage(1).first_index(), c.storage(3).last_index() + 1);
  c.heal();
  return c.storage(1).snapshot_meta().index;
}

TEST(Snapshot, CatchesUpAFollowerBehindTheCompactedLog) {
  Cluster c({1, 2, 3});
  const Index snap = leave_node_three_behind_a_snapshot(c);
  c.clear_sent_log();
  unit::run_ticks(c, 3);
  std::size_t snapshots = 0;
  for (const auto& m : c.sent_log()) {
    if (is_snapshot(m)) {
      ++snapshots;
      EXPECT_EQ(m.to, 3u);
      EXPECT_EQ(m.snapshot->meta.index, snap);
    }
  }
  EXPECT_EQ(snapshots, 1u);
  EXPECT_EQ(c.applied_index(3), c.applied_index(1));
  EXPECT_EQ(c.state_digest(3), c.state_digest(1));
  EXPECT_EQ(c.storage(3).snapshot_meta().index, snap);
  EXPECT_EQ(peer_status(c.node(1), 3)->state, ProgressState::Replicate);

  // Replication continues normally after the snapshot.
  ASSERT_EQ(c.propose(1, "after").status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.applied_index(3), c.applied_index(1));
  EXPECT_EQ(c.state_digest(3), c.state_digest(1));
}

TEST(Snapshot, PausesReplicationToTheFollowerWhileItIsUnderWay) {
  Cluster c({1, 2, 3});
  const Index snap = leave_node_three_behind_a_snapshot(c);
  c.tick(1);
  stabilize_holding(c, is_snapshot);
  ASSERT_EQ(count_in_flight(c, MessageType::InstallSnapshot, 1, 3), 1u);
  auto peer = peer_status(c.node(1), 3);
  EXPECT_EQ(peer->state, ProgressState::Snapshot);
  EXPECT_LT(peer->match, snap);

  ASSERT_EQ(c.propose(1, "more").status, RaftStatus::Ok);
  c.process_ready(1);
  EXPECT_EQ(count_in_flight(c, MessageType::Append, 1, 3), 0u);
}

TEST(ReportSnapshot, FailureReturnsToProbingFromTheMatch) {
  Cluster c({1, 2, 3});
  leave_node_three_behind_a_snapshot(c);
  c.tick(1);
  stabilize_holding(c, is_snapshot);
  unit::drop_if(c, is_snapshot);
  c.node(1).report_snapshot(3, false);
  auto peer = peer_status(c.node(1), 3);
  EXPECT_EQ(peer->state, ProgressState::Probe);
  EXPECT_EQ(peer->next, peer->match + 1);

  // The next heartbeat answer restarts the attempt, and this time it lands.
  unit::run_ticks(c, 3);
  EXPECT_EQ(c.applied_index(3), c.applied_index(1));
  EXPECT_EQ(c.state_digest(3), c.state_digest(1));
}

TEST(ReportSnapshot, SuccessProbesRightAfterTheSnapshot) {
  Cluster c({1, 2, 3});
  const Index snap = leave_node_three_behind_a_snapshot(c);
  c.tick(1);
  stabilize_holding(c, is_snapshot);
  ASSERT_TRUE(unit::deliver_one(c, MessageType::InstallSnapshot, 1, 3));
  c.process_ready(3);
  // The follower's answer is lost; the transport reports the send as done.
  unit::drop_if(c, [](const Message& m) { return m.from == 3; });
  c.node(1).report_snapshot(3, true);
  auto peer = peer_status(c.node(1), 3);
  EXPECT_EQ(peer->state, ProgressState::Probe);
  EXPECT_EQ(peer->next, snap + 1);

  unit::run_ticks(c, 2);
  EXPECT_EQ(peer_status(c.node(1), 3)->state, ProgressState::Replicate);
  EXPECT_EQ(c.state_digest(3), c.state_digest(1));
}

TEST(ReportSnapshot, IsIgnoredForAFollowerNotInTheSnapshotState) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const auto before = peer_status(c.node(1), 2);
  c.node(1).report_snapshot(2, false);
  const auto after = peer_status(c.node(1), 2);
  EXPECT_EQ(after->state, ProgressState::Replicate);
  EXPECT_EQ(after->next, before->next);
}

TEST(Restart, RestoresTermVoteCommitAndConfigurationFromSnapshotAndLog) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  auto learner = [](NodeId id) {
    return ConfChange{ConfChangeTransition::Auto, {{ConfChangeOp::AddLearner, id}}};
  };
  ASSERT_EQ(c.propose_conf_change(1, learner(9)).status, RaftStatus::Ok);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(c.propose(1, "a" + std::to_string(i)).status, RaftStatus::Ok);
  c.stabilize();
  c.compact(1, 2);
  // A configuration change after the snapshot is found by scanning the log.
  ASSERT_EQ(c.propose_conf_change(1, learner(8)).status, RaftStatus::Ok);
  ASSERT_EQ(c.propose(1, "b").status, RaftStatus::Ok);
  c.stabilize();
  const RaftState before = c.node(1).state();
  ASSERT_EQ(before.hard_state.vote, 1u);
  ASSERT_GT(c.storage(1).snapshot_meta().index, 0u);

  c.crash(1);
  c.restart(1);
  const RaftState after = c.node(1).state();
  EXPECT_EQ(after.hard_state, before.hard_state);
  EXPECT_EQ(after.conf, before.conf);
  EXPECT_EQ(after.conf.learners, (std::vector<NodeId>{8, 9}));
  EXPECT_EQ(after.first_index, c.storage(1).first_index());
  EXPECT_EQ(after.last_index, before.last_index);
  EXPECT_EQ(after.soft_state.role, Role::Follower);
  EXPECT_EQ(after.applied, c.storage(1).snapshot_meta().index)
      << "the host resumes from its snapshot";

  // The entries above the snapshot are delivered again, and the node rejoins.
  unit::run_ticks(c, 30);
  EXPECT_EQ(c.applied_index(1), c.applied_index(2));
  EXPECT_EQ(c.state_digest(1), c.state_digest(2));
}

TEST(Restart, OfAFollowerThatInstalledASnapshotKeepsIt) {
  Cluster c({1, 2, 3});
  const Index snap = leave_node_three_behind_a_snapshot(c);
  unit::run_ticks(c, 3);
  ASSERT_EQ(c.storage(3).snapshot_meta().index, snap);
  const RaftState before = c.node(3).state();
  c.crash(3);
  c.restart(3);
  const RaftState after = c.node(3).state();
  EXPECT_EQ(after.hard_state, before.hard_state);
  EXPECT_EQ(after.conf, before.conf);
  EXPECT_EQ(after.first_index, snap + 1);
  EXPECT_EQ(c.state_digest(3), c.state_digest(1)) << "the state machine comes from the snapshot";
}

TEST(ConfStateAt, GivesTheConfigurationInForceAtEachIndex) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Index applied = c.applied_index(1);
  EXPECT_EQ(c.node(1).conf_state_at(applied), unit::conf_of({1, 2, 3}));

  c.isolate(1);  // keep the change uncommitted, so the older configuration is still known
  auto r = c.propose_conf_change(
      1, ConfChange{ConfChangeTransition::Auto, {{ConfChangeOp::AddLearner, 9}}});
  ASSERT_EQ(r.status, RaftStatus::Ok);
  ASSERT_EQ(c.propose(1, "x").status, RaftStatus::Ok);
  EXPECT_EQ(c.node(1).conf_state_at(r.last_index - 1), unit::conf_of({1, 2, 3}));
  EXPECT_EQ(c.node(1).conf_state_at(r.last_index), unit::conf_of({1, 2, 3}, {9}));
  EXPECT_EQ(c.node(1).conf_state_at(r.last_index + 1), unit::conf_of({1, 2, 3}, {9}));
  EXPECT_EQ(c.node(1).conf_state_at(r.last_index + 2), std::nullopt) << "past the log";

  c.heal();
  unit::run_ticks(c, 2);
  ASSERT_GT(c.applied_index(1), r.last_index);
  EXPECT_EQ(c.node(1).conf_state_at(c.applied_index(1)), unit::conf_of({1, 2, 3}, {9}));
  EXPECT_EQ(c.node(1).conf_state_at(1), std::nullopt) << "history below applied is dropped";
}

}  // namespace
}  // namespace synod::raft
