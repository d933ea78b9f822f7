// Leadership transfer (thesis §3.10): TimeoutNow once the target is caught up.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using unit::count_in_flight;

TEST(Transfer, ToAnUpToDateTargetSendsTimeoutNowAtOnce) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Term term = c.node(1).term();
  ASSERT_EQ(c.node(1).transfer_leadership(2).status, RaftStatus::Ok);
  c.process_ready(1);
  EXPECT_EQ(count_in_flight(c, MessageType::TimeoutNow, 1, 2), 1u);
  c.stabilize();
  EXPECT_EQ(c.leader(), 2u);
  EXPECT_EQ(c.node(2).term(), term + 1);
  EXPECT_EQ(c.node(1).role(), Role::Follower);
  EXPECT_EQ(c.node(1).leader(), 2u);
}

TEST(Transfer, ToALaggingTargetWaitsForItToCatchUp) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.cut(1, 3);
  for (const char* data : {"a", "b", "c"}) ASSERT_EQ(c.propose(1, data).status, RaftStatus::Ok);
  c.stabilize();
  const Index last = c.storage(1).last_index();
  ASSERT_LT(c.storage(3).last_index(), last);
  c.heal();
  c.clear_sent_log();

  ASSERT_EQ(c.node(1).transfer_leadership(3).status, RaftStatus::Ok);
  c.process_ready(1);
  EXPECT_EQ(count_in_flight(c, MessageType::TimeoutNow, 1, 3), 0u);
  c.stabilize();
  ASSERT_EQ(c.leader(), 3u);
  // TimeoutNow left only after node 3 acknowledged the leader's whole log.
  bool caught_up = false;
  for (const auto& m : c.sent_log()) {
    if (m.type == MessageType::AppendResp && m.from == 3 && !m.reject && m.index == last) {
      caught_up = true;
    }
    if (m.type == MessageType::TimeoutNow) {
      EXPECT_TRUE(caught_up);
      break;
    }
  }
  EXPECT_EQ(c.applied_data(3), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Transfer, RefusesProposalsWhileUnderWay) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.cut(1, 2);
  ASSERT_EQ(c.node(1).transfer_leadership(2).status, RaftStatus::Ok);
  EXPECT_EQ(c.node(1).state().transfer_target, 2u);
  EXPECT_EQ(c.propose(1, "x").status, RaftStatus::TransferInProgress);
  ConfChange change{ConfChangeTransition::Auto, {{ConfChangeOp::AddLearner, 9}}};
  EXPECT_EQ(c.propose_conf_change(1, change).status, RaftStatus::TransferInProgress);
}

TEST(Transfer, IsAbandonedAfterAnElectionTimeout) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.cut(1, 2);
  ASSERT_EQ(c.node(1).transfer_leadership(2).status, RaftStatus::Ok);
  for (int i = 0; i < 9; ++i) {
    c.tick(1);
    c.stabilize();
  }
  EXPECT_EQ(c.node(1).state().transfer_target, 2u) << "not yet an election timeout";
  c.tick(1);
  c.stabilize();
  EXPECT_EQ(c.node(1).state().transfer_target, kNoNode);
  EXPECT_EQ(c.node(1).role(), Role::Leader);
  EXPECT_EQ(c.propose(1, "x").status, RaftStatus::Ok);
}

TEST(Transfer, RefusesATargetThatIsNotAVoter) {
  Cluster c({1, 2, 3}, {}, {4});
  ASSERT_TRUE(c.elect(1));
  EXPECT_EQ(c.node(1).transfer_leadership(4).status, RaftStatus::InvalidArgument)
      << "a learner cannot lead";
  EXPECT_EQ(c.node(1).transfer_leadership(9).status, RaftStatus::InvalidArgument)
      << "not a member at all";
  EXPECT_EQ(c.node(1).state().transfer_target, kNoNode);
  EXPECT_EQ(c.propose(1, "x").status, RaftStatus::Ok);
}

TEST(Transfer, IsRefusedByAFollowerWithTheLeaderAsHint) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  auto r = c.node(2).transfer_leadership(3);
  EXPECT_EQ(r.status, RaftStatus::NotLeader);
  EXPECT_EQ(r.leader_hint, 1u);
}

}  // namespace
}  // namespace synod::raft
