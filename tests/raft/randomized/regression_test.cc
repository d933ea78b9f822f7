// Scripted reproductions of liveness bugs the randomized test found in the Raft core. Each
// one stalled a healed, fully running group forever.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "synod/raft/testing/cluster.h"

namespace synod::raft::testing {
namespace {

bool applied(const Cluster& c, NodeId id, const std::string& data) {
  const auto all = c.applied_data(id);
  return std::find(all.begin(), all.end(), data) != all.end();
}

void drop_all(Cluster& c) {
  while (!c.in_flight().empty()) c.drop(0);
}

// With a window of one message, a lost Append left the follower's window full for good:
// heartbeat answers proved the follower alive but never freed the slot, so nothing more
// was ever sent to it.
TEST(RaftRegression, HeartbeatAnswerFreesAWindowOfLostAppends) {
  ClusterOptions options;
  options.max_inflight_messages = 1;
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  c.propose(1, "lost");
  c.process_ready(1);
  std::erase_if(c.in_flight(), [](const Cluster::InFlight& f) {
    return f.message.to == 2 && f.message.type == MessageType::Append;
  });
  c.stabilize();
  c.propose(1, "later");
  c.stabilize();
  for (int i = 0; i < 5; ++i) {
    c.tick(1);
    c.stabilize();
  }
  EXPECT_TRUE(applied(c, 2, "lost"));
  EXPECT_TRUE(applied(c, 2, "later"));
}

// A leader that appended the entry leaving a joint configuration without itself, then lost
// leadership before anyone else got the entry, held the most up-to-date log: the others
// (still joint) needed its vote but could not get it, and it refused to campaign because
// it was not a voter of its own latest configuration.
TEST(RaftRegression, LeaderThatRemovedItselfMayCampaignUntilTheRemovalCommits) {
  Cluster c({1, 2, 3}, {}, {4});
  ASSERT_TRUE(c.elect(1));
  ConfChange joint;
  joint.transition = ConfChangeTransition::JointExplicit;
  joint.changes = {{ConfChangeOp::AddVoter, 4}, {ConfChangeOp::RemoveNode, 1}};
  ASSERT_EQ(c.propose_conf_change(1, joint).status, RaftStatus::Ok);
  c.stabilize();
  ASSERT_TRUE(c.node(2).state().conf.is_joint());
  ASSERT_EQ(c.propose_conf_change(1, ConfChange{}).status, RaftStatus::Ok);
  c.process_ready(1);  // node 1 persists the leave entry; nobody else receives it
  drop_all(c);
  c.crash(1);
  c.restart(1);
  // Without node 3, the outgoing half {1, 2, 3} needs node 1's vote.
  c.crash(3);
  bool left = false;
  for (int round = 0; round < 200 && !left; ++round) {
    c.tick_all();
    c.stabilize();
    const NodeId leader = c.leader();
    left = leader != kNoNode && !c.node(leader).state().conf.is_joint() &&
           c.node(leader).commit_index() >= c.storage(1).last_index();
  }
  EXPECT_TRUE(left) << "no leader committed the removal of node 1";
}

// Without pre-vote and check-quorum a node ignored Appends of a lower term. A node that may
// not campaign (here it was a learner in its own log but a voter in the leader's newer
// configuration) then never let the leader learn its term, and never took its entries.
TEST(RaftRegression, StaleLeaderLearnsAHigherTermWithoutPreVoteOrCheckQuorum) {
  ClusterOptions options;
  options.pre_vote = false;
  options.check_quorum = false;
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  const Term old_term = c.node(1).term();
  c.node(2).campaign();  // raises node 2's term; its vote requests are lost
  c.process_ready(2);
  drop_all(c);
  ASSERT_GT(c.node(2).term(), old_term);
  c.tick(1);
  c.stabilize();
  EXPECT_GT(c.node(1).term(), old_term) << "the leader never heard of the higher term";
}

}  // namespace
}  // namespace synod::raft::testing
