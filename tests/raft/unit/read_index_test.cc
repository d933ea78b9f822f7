// ReadIndex (thesis §6.4): a read point confirmed by a heartbeat quorum, or by the
// leader lease when configured.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;
using unit::count_in_flight;
using unit::deliver_one;
using unit::make_config;
using unit::Member;

TEST(ReadIndex, OnTheLeaderWaitsForAHeartbeatQuorum) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Index commit = c.node(1).commit_index();
  ASSERT_EQ(c.node(1).read_index("r1").status, RaftStatus::Ok);
  c.process_ready(1);
  ASSERT_EQ(count_in_flight(c, MessageType::Heartbeat, 1, 2), 1u);
  ASSERT_EQ(count_in_flight(c, MessageType::Heartbeat, 1, 3), 1u);
  EXPECT_TRUE(c.take_read_states(1).empty());

  unit::drop_if(c, [](const Message& m) { return m.to == 3; });
  ASSERT_TRUE(deliver_one(c, MessageType::Heartbeat, 1, 2));
  c.process_ready(2);
  c.process_ready(1);
  EXPECT_TRUE(c.take_read_states(1).empty()) << "the leader alone is not a quorum";

  ASSERT_TRUE(deliver_one(c, MessageType::HeartbeatResp, 2, 1));
  c.process_ready(1);
  auto reads = c.take_read_states(1);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0], (ReadState{commit, "r1"}));
}

TEST(ReadIndex, IsNeverAnsweredByALeaderCutOffFromTheMajority) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);
  ASSERT_EQ(c.node(1).read_index("stale?").status, RaftStatus::Ok);
  for (int i = 0; i < 5; ++i) {
    c.tick(1);
    c.stabilize();
  }
  EXPECT_TRUE(c.take_read_states(1).empty());
}

TEST(ReadIndex, RecordsTheCommitIndexAtTheTimeOfTheRequest) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Index commit = c.node(1).commit_index();
  ASSERT_EQ(c.node(1).read_index("early").status, RaftStatus::Ok);
  c.process_ready(1);
  // A write proposed after the read does not raise the read point.
  ASSERT_EQ(c.propose(1, "later").status, RaftStatus::Ok);
  c.stabilize();
  auto reads = c.take_read_states(1);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].index, commit);
  EXPECT_GT(c.node(1).commit_index(), commit);
}

TEST(ReadIndex, IsHeldUntilTheNewLeaderCommitsAnEntryOfItsTerm) {
  Cluster c({1, 2, 3});
  c.node(1).campaign();
  // Deliver one message at a time until node 1 wins, before its no-op can commit.
  while (c.node(1).role() != Role::Leader) {
    c.process_all();
    ASSERT_FALSE(c.in_flight().empty());
    c.deliver(0);
  }
  ASSERT_LT(c.node(1).commit_index(), c.node(1).state().last_index) << "no-op not committed";
  ASSERT_EQ(c.node(1).read_index("r").status, RaftStatus::Ok);
  c.process_ready(1);
  EXPECT_TRUE(c.take_read_states(1).empty());
  for (const auto& f : c.in_flight()) {
    EXPECT_FALSE(f.message.type == MessageType::Heartbeat && !f.message.context.empty())
        << "no read round starts before the leader knows the commit index";
  }
  c.stabilize();
  const Index noop = c.storage(1).last_index();
  ASSERT_EQ(c.node(1).commit_index(), noop);
  auto reads = c.take_read_states(1);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].index, noop) << "the read point covers the new term's no-op";
}

TEST(ReadIndex, FromAFollowerIsForwardedToTheLeader) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose(1, "w").status, RaftStatus::Ok);
  c.stabilize();
  const Index commit = c.node(1).commit_index();
  ASSERT_EQ(c.node(2).read_index("f1").status, RaftStatus::Ok);
  c.process_ready(2);
  EXPECT_EQ(count_in_flight(c, MessageType::ReadIndex, 2, 1), 1u);
  c.stabilize();
  auto reads = c.take_read_states(2);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0], (ReadState{commit, "f1"}));
  EXPECT_TRUE(c.take_read_states(1).empty()) << "the answer goes to the asking follower";
}

TEST(ReadIndex, FromAFollowerWithoutALeaderIsRefused) {
  Member m(make_config(2), {1, 2, 3});
  EXPECT_EQ(m.node->read_index("x").status, RaftStatus::NoLeader);
}

TEST(ReadIndex, OnASingleVoterIsAnsweredAtOnce) {
  Member m(make_config(1), {1});
  m.node->campaign();
  m.drain();
  ASSERT_EQ(m.node->role(), Role::Leader);
  ASSERT_EQ(m.node->read_index("solo").status, RaftStatus::Ok);
  m.drain();
  ASSERT_EQ(m.read_states.size(), 1u);
  EXPECT_EQ(m.read_states[0], (ReadState{m.node->commit_index(), "solo"}));
}

TEST(LeaseRead, IsAnsweredWithoutAHeartbeatRound) {
  ClusterOptions options;
  options.lease_reads = true;
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  c.clear_sent_log();
  ASSERT_EQ(c.node(1).read_index("lease").status, RaftStatus::Ok);
  c.process_ready(1);
  auto reads = c.take_read_states(1);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0], (ReadState{c.node(1).commit_index(), "lease"}));
  EXPECT_TRUE(c.sent_log().empty()) << "no message was needed";
}

TEST(LeaseRead, IsRefusedByConfigValidationWithoutCheckQuorum) {
  Config config = make_config(1);
  config.lease_reads = true;
  config.check_quorum = false;
  EXPECT_STRNE(config.validate(), "");
  MemoryLogStorage storage;
  storage.bootstrap({1, 2, 3});
  std::string error;
  EXPECT_EQ(RawNode::create(config, storage, &error), nullptr);
  EXPECT_NE(error.find("check_quorum"), std::string::npos) << error;

  config.check_quorum = true;
  EXPECT_STREQ(config.validate(), "");
  EXPECT_NE(RawNode::create(config, storage), nullptr);
}

}  // namespace
}  // namespace synod::raft
