// Admission control on the leader (the uncommitted-bytes budget) and the refusals a
// caller sees: not leader, no leader, empty proposals, misaddressed messages.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;
using unit::make_config;
using unit::make_message;
using unit::Member;

constexpr std::size_t kEntryBytes = 100 + 24;  // a 100-byte payload plus the header

Cluster budget_cluster(std::size_t budget) {
  ClusterOptions options;
  options.max_uncommitted_bytes = budget;
  return Cluster({1, 2, 3}, options);
}

TEST(UncommittedBudget, RefusesAProposalThatWouldExceedIt) {
  Cluster c = budget_cluster(4 * kEntryBytes + 30);
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);  // nothing commits
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(c.propose(1, std::string(100, 'a')).status, RaftStatus::Ok) << i;
  }
  EXPECT_EQ(c.node(1).state().uncommitted_bytes, 4 * kEntryBytes);
  const Index last = c.node(1).state().last_index;
  auto r = c.propose(1, std::string(100, 'b'));
  EXPECT_EQ(r.status, RaftStatus::UncommittedLimit);
  EXPECT_EQ(c.node(1).state().uncommitted_bytes, 4 * kEntryBytes) << "nothing was charged";
  EXPECT_EQ(c.node(1).state().last_index, last) << "nothing was appended";
  // A small one (24 bytes) that still fits is accepted.
  EXPECT_EQ(c.propose(1, "").status, RaftStatus::Ok);
}

TEST(UncommittedBudget, AdmitsOneOversizedBatchIntoAnEmptyBudget) {
  Cluster c = budget_cluster(500);
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);
  ASSERT_EQ(c.node(1).state().uncommitted_bytes, 0u);
  EXPECT_EQ(c.propose_batch(1, std::vector<std::string>(8, std::string(100, 'x'))).status,
            RaftStatus::Ok)
      << "otherwise a batch larger than the budget could never be proposed";
  EXPECT_EQ(c.propose(1, "small").status, RaftStatus::UncommittedLimit);
}

TEST(UncommittedBudget, IsReleasedAsEntriesCommit) {
  Cluster c = budget_cluster(3 * kEntryBytes);
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.propose(1, std::string(100, 'a')).status, RaftStatus::Ok);
  ASSERT_EQ(c.propose(1, std::string(100, 'a')).status, RaftStatus::UncommittedLimit);
  c.heal();
  unit::run_ticks(c, 2);
  EXPECT_EQ(c.node(1).state().uncommitted_bytes, 0u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.propose(1, std::string(100, 'b')).status, RaftStatus::Ok) << i;
  }
  c.stabilize();
  EXPECT_EQ(c.applied_data(2).size(), 6u);
}

TEST(UncommittedBudget, OfZeroMeansUnbounded) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(c.propose(1, std::string(1000, 'z')).status, RaftStatus::Ok) << i;
  }
}

TEST(Proposal, OnAFollowerIsRefusedWithTheLeaderAsHint) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  auto r = c.propose(2, "x");
  EXPECT_EQ(r.status, RaftStatus::NotLeader);
  EXPECT_EQ(r.leader_hint, 1u);
  auto conf = c.propose_conf_change(
      3, ConfChange{ConfChangeTransition::Auto, {{ConfChangeOp::AddLearner, 9}}});
  EXPECT_EQ(conf.status, RaftStatus::NotLeader);
  EXPECT_EQ(conf.leader_hint, 1u);
}

TEST(Proposal, WithoutAKnownLeaderIsRefusedWithNoLeader) {
  Cluster c({1, 2, 3});
  auto r = c.propose(2, "x");
  EXPECT_EQ(r.status, RaftStatus::NoLeader);
  EXPECT_EQ(r.leader_hint, kNoNode);
}

TEST(Proposal, WithNoEntriesIsAnInvalidArgument) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Index last = c.node(1).state().last_index;
  auto r = c.node(1).propose(std::span<const Proposal>());
  EXPECT_EQ(r.status, RaftStatus::InvalidArgument);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(c.node(1).state().last_index, last);
}

TEST(Proposal, ThatIsAcceptedReportsWhereItsEntriesWent) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Index last = c.node(1).state().last_index;
  auto r = c.propose_batch(1, {"a", "b", "c"});
  ASSERT_EQ(r.status, RaftStatus::Ok);
  EXPECT_EQ(r.first_index, last + 1);
  EXPECT_EQ(r.last_index, last + 3);
  EXPECT_EQ(r.term, c.node(1).term());
}

TEST(Step, RefusesAMessageAddressedToAnotherNode) {
  Member m(make_config(2), {1, 2, 3});
  Message heartbeat = make_message(MessageType::Heartbeat, 1, 3, 5);
  EXPECT_EQ(m.node->step(heartbeat), RaftStatus::InvalidArgument);
  EXPECT_EQ(m.node->term(), 1u) << "the refused message had no effect";
  EXPECT_EQ(m.node->leader(), kNoNode);
}

TEST(Step, RefusesAMessageWithoutASender) {
  Member m(make_config(2), {1, 2, 3});
  m.drain();
  EXPECT_EQ(m.node->step(make_message(MessageType::Heartbeat, kNoNode, 2, 5)),
            RaftStatus::InvalidArgument);
  EXPECT_EQ(m.node->term(), 1u);
  EXPECT_FALSE(m.node->has_ready());
}

TEST(Step, RefusesAMessageFromItself) {
  Member m(make_config(2), {1, 2, 3});
  EXPECT_EQ(m.node->step(make_message(MessageType::Heartbeat, 2, 2, 5)),
            RaftStatus::InvalidArgument);
  EXPECT_EQ(m.node->term(), 1u);
}

TEST(Step, AcceptsAWellAddressedMessage) {
  Member m(make_config(2), {1, 2, 3});
  EXPECT_EQ(m.node->step(make_message(MessageType::Heartbeat, 1, 2, 5)), RaftStatus::Ok);
  EXPECT_EQ(m.node->term(), 5u);
  EXPECT_EQ(m.node->leader(), 1u);
}

}  // namespace
}  // namespace synod::raft
