// Membership: learners, simple changes, joint consensus and its leave, and the rule that
// a configuration is in force from the moment its entry is appended.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using unit::make_config;
using unit::make_entry;
using unit::make_message;
using unit::Member;

ConfChange simple(ConfChangeOp op, NodeId id) {
  return ConfChange{ConfChangeTransition::Auto, {{op, id}}};
}

// Replace voters 2 and 3 by 4 and 5: needs a joint configuration.
ConfChange swap_two(ConfChangeTransition transition) {
  return ConfChange{transition,
                    {{ConfChangeOp::AddVoter, 4},
                     {ConfChangeOp::AddVoter, 5},
                     {ConfChangeOp::RemoveNode, 2},
                     {ConfChangeOp::RemoveNode, 3}}};
}

std::size_t conf_entries_in(const MemoryLogStorage& s) {
  std::vector<Entry> entries;
  s.entries(s.first_index(), s.last_index() + 1, SIZE_MAX, entries);
  std::size_t n = 0;
  for (const auto& e : entries) n += e.type == EntryType::ConfChange ? 1 : 0;
  return n;
}

TEST(Learner, ReceivesEntriesButNeverCampaigns) {
  Cluster c({1, 2, 3}, {}, {4});
  c.clear_sent_log();
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose(1, "a").status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.applied_data(4), (std::vector<std::string>{"a"}));
  for (const auto& m : c.sent_log()) {
    if (m.type == MessageType::PreVote || m.type == MessageType::Vote) {
      EXPECT_NE(m.to, 4u) << "a learner is never asked for its vote";
    }
  }

  const Term term = c.node(4).term();
  c.isolate(4);
  c.clear_sent_log();
  for (int i = 0; i < 300; ++i) c.tick(4);
  c.node(4).campaign();
  c.stabilize();
  EXPECT_EQ(c.node(4).role(), Role::Follower);
  EXPECT_EQ(c.node(4).term(), term);
  EXPECT_TRUE(c.sent_log().empty()) << "the learner asked nobody for votes";
}

TEST(Learner, VoteDoesNotCountInAnElection) {
  Member m(make_config(1), {1, 2, 3}, {4});
  m.node->campaign();
  m.drain();
  m.node->step(make_message(MessageType::VoteResp, 4, 1, 2));
  EXPECT_EQ(m.node->role(), Role::Candidate) << "self and a learner are not a majority of 3";
  m.node->step(make_message(MessageType::VoteResp, 2, 1, 2));
  EXPECT_EQ(m.node->role(), Role::Leader);
}

TEST(Learner, DoesNotCountTowardCommit) {
  Cluster c({1, 2}, {}, {3});
  ASSERT_TRUE(c.elect(1));
  c.cut(1, 2);
  auto r = c.propose(1, "x");
  ASSERT_EQ(r.status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.storage(3).last_index(), r.last_index) << "the learner holds the entry";
  EXPECT_LT(c.node(1).commit_index(), r.last_index) << "leader + learner is not a majority";
  c.heal();
  unit::run_ticks(c, 2);
  EXPECT_EQ(c.node(1).commit_index(), r.last_index);
}

TEST(Learner, CanBeAddedAndThenPromotedToVoter) {
  Cluster c({1, 2, 3});
  c.add_empty_node(4);
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose_conf_change(1, simple(ConfChangeOp::AddLearner, 4)).status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.node(4).state().conf, unit::conf_of({1, 2, 3}, {4}));
  EXPECT_EQ(c.node(1).transfer_leadership(4).status, RaftStatus::InvalidArgument);

  ASSERT_EQ(c.propose_conf_change(1, simple(ConfChangeOp::AddVoter, 4)).status, RaftStatus::Ok);
  c.stabilize();
  for (NodeId id : {1, 2, 3, 4}) {
    EXPECT_EQ(c.node(id).state().conf, unit::conf_of({1, 2, 3, 4})) << "node " << id;
  }
  // As a voter it may now lead.
  ASSERT_EQ(c.node(1).transfer_leadership(4).status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.leader(), 4u);
}

TEST(JointConsensus, NeedsTheOldMajorityAsWellAsTheNewOne) {
  Cluster c({1, 2, 3}, {}, {4, 5});
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose_conf_change(1, swap_two(ConfChangeTransition::JointExplicit)).status,
            RaftStatus::Ok);
  c.stabilize();
  const ConfState joint = c.node(1).state().conf;
  ASSERT_TRUE(joint.is_joint());
  EXPECT_EQ(joint.voters, (std::vector<NodeId>{1, 4, 5}));
  EXPECT_EQ(joint.voters_outgoing, (std::vector<NodeId>{1, 2, 3}));

  // Only the incoming voters answer.
  c.cut(1, 2);
  c.cut(1, 3);
  auto r = c.propose(1, "x");
  ASSERT_EQ(r.status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.storage(4).last_index(), r.last_index);
  EXPECT_EQ(c.storage(5).last_index(), r.last_index);
  EXPECT_LT(c.node(1).commit_index(), r.last_index);

  // And only the outgoing voters answer.
  c.heal();
  c.cut(1, 4);
  c.cut(1, 5);
  unit::run_ticks(c, 1);
  const Index before = c.node(1).commit_index();
  EXPECT_GE(before, r.last_index) << "2 and 3 complete the old majority";
  auto r2 = c.propose(1, "y");
  c.stabilize();
  EXPECT_LT(c.node(1).commit_index(), r2.last_index);

  c.heal();
  unit::run_ticks(c, 1);
  EXPECT_EQ(c.node(1).commit_index(), r2.last_index);
}

TEST(JointConsensus, IsLeftAutomaticallyOnceCommitted) {
  Cluster c({1, 2, 3}, {}, {4, 5});
  ASSERT_TRUE(c.elect(1));
  const std::size_t before = conf_entries_in(c.storage(1));
  auto r = c.propose_conf_change(1, swap_two(ConfChangeTransition::Auto));
  ASSERT_EQ(r.status, RaftStatus::Ok);
  EXPECT_TRUE(c.node(1).state().conf.is_joint());
  c.stabilize();
  EXPECT_EQ(c.node(1).state().conf, unit::conf_of({1, 4, 5}));
  EXPECT_EQ(conf_entries_in(c.storage(1)), before + 2) << "the joint entry and the leave";
  for (NodeId id : {4, 5}) EXPECT_EQ(c.node(id).state().conf, unit::conf_of({1, 4, 5}));
  EXPECT_EQ(c.leader(), 1u);
}

TEST(JointConsensus, IsLeftByTheNextLeaderWhenTheOldOneFailsBeforeLeaving) {
  Cluster c({1, 2, 3}, {}, {4});
  ASSERT_TRUE(c.elect(1));
  const ConfChange add_four{ConfChangeTransition::JointImplicit, {{ConfChangeOp::AddVoter, 4}}};
  auto r = c.propose_conf_change(1, add_four);
  ASSERT_EQ(r.status, RaftStatus::Ok);
  // Replicate the joint entry and let the leader see it committed, then crash the leader
  // before anyone hears of the commit or of the leave entry it appends in response.
  while (c.node(1).commit_index() < r.last_index) {
    c.process_all();
    ASSERT_FALSE(c.in_flight().empty());
    c.deliver(0);
  }
  ASSERT_FALSE(c.node(1).state().conf.is_joint()) << "the leave entry is appended at once";
  c.crash(1);
  ASSERT_TRUE(c.node(2).state().conf.is_joint());

  unit::run_ticks(c, 60);
  const NodeId leader = c.leader();
  ASSERT_NE(leader, kNoNode);
  for (NodeId id : {2, 3, 4}) {
    EXPECT_EQ(c.node(id).state().conf, unit::conf_of({1, 2, 3, 4})) << "node " << id;
  }
}

TEST(JointConsensus, WithExplicitTransitionIsLeftOnlyOnRequest) {
  Cluster c({1, 2, 3}, {}, {4, 5});
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose_conf_change(1, swap_two(ConfChangeTransition::JointExplicit)).status,
            RaftStatus::Ok);
  unit::run_ticks(c, 20);
  ASSERT_TRUE(c.node(1).state().conf.is_joint());
  EXPECT_FALSE(c.node(1).state().conf.auto_leave);
  ASSERT_EQ(c.propose_conf_change(1, ConfChange{}).status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.node(1).state().conf, unit::conf_of({1, 4, 5}));
}

TEST(ConfChangeProposal, IsRefusedWhileAnEarlierOneIsUncommitted) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose_conf_change(1, simple(ConfChangeOp::AddLearner, 8)).status, RaftStatus::Ok);
  EXPECT_EQ(c.propose_conf_change(1, simple(ConfChangeOp::AddLearner, 9)).status,
            RaftStatus::ConfChangePending);
  c.stabilize();
  EXPECT_EQ(c.propose_conf_change(1, simple(ConfChangeOp::AddLearner, 9)).status, RaftStatus::Ok);
}

TEST(ConfChangeProposal, IsRefusedWhenInvalidFromTheCurrentConfiguration) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  auto r = c.propose_conf_change(1, ConfChange{});
  EXPECT_EQ(r.status, RaftStatus::InvalidConfChange) << "not joint: nothing to leave";
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(c.propose_conf_change(1, simple(ConfChangeOp::AddVoter, kNoNode)).status,
            RaftStatus::InvalidConfChange);
}

TEST(Configuration, TakesEffectOnAppendAndRollsBackWhenTheEntryIsTruncated) {
  Member follower(make_config(2), {1, 2, 3});
  Message append = make_message(MessageType::Append, 1, 2, 2);
  append.index = 1;
  append.log_term = 1;
  append.commit = 1;
  Entry change = make_entry(2, 2);
  change.type = EntryType::ConfChange;
  change.data = Bytes(encode_conf_change(simple(ConfChangeOp::AddLearner, 4)));
  append.entries = {change};
  follower.node->step(append);
  follower.drain();
  EXPECT_EQ(follower.node->commit_index(), 1u);
  EXPECT_EQ(follower.node->state().conf, unit::conf_of({1, 2, 3}, {4}))
      << "in force although not committed";

  // A new leader of term 3 never had that entry and overwrites index 2.
  Message overwrite = make_message(MessageType::Append, 3, 2, 3);
  overwrite.index = 1;
  overwrite.log_term = 1;
  overwrite.commit = 1;
  overwrite.entries = {make_entry(2, 3)};
  follower.node->step(overwrite);
  follower.drain();
  EXPECT_EQ(follower.node->state().conf, unit::conf_of({1, 2, 3}));
  EXPECT_EQ(follower.node->conf_state_at(2), unit::conf_of({1, 2, 3}));
}

TEST(Configuration, TakesEffectOnTheLeaderWhenItAppends) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);
  auto r = c.propose_conf_change(1, simple(ConfChangeOp::RemoveNode, 3));
  ASSERT_EQ(r.status, RaftStatus::Ok);
  EXPECT_LT(c.node(1).commit_index(), r.last_index);
  EXPECT_EQ(c.node(1).state().conf, unit::conf_of({1, 2}));
  EXPECT_EQ(unit::peer_status(c.node(1), 3), std::nullopt) << "no longer tracked";
}

TEST(Configuration, IsLearnedByReplicationByANodeThatStartsEmpty) {
  Cluster c({1, 2, 3});
  c.add_empty_node(4);
  EXPECT_TRUE(c.node(4).state().conf.voters.empty());
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose(1, "before").status, RaftStatus::Ok);
  c.stabilize();
  ASSERT_EQ(c.propose_conf_change(1, simple(ConfChangeOp::AddVoter, 4)).status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.node(4).state().conf, unit::conf_of({1, 2, 3, 4}));
  EXPECT_EQ(c.applied(4).front().index, 1u) << "the bootstrap entry came by replication";
  EXPECT_EQ(c.applied_data(4), (std::vector<std::string>{"before"}));
  EXPECT_EQ(c.state_digest(4), c.state_digest(1));
}

TEST(RemovedLeader, StepsDownOnceItsRemovalCommits) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  auto r = c.propose_conf_change(1, simple(ConfChangeOp::RemoveNode, 1));
  ASSERT_EQ(r.status, RaftStatus::Ok);
  EXPECT_EQ(c.node(1).role(), Role::Leader) << "it keeps leading until the change commits";
  c.stabilize();
  EXPECT_EQ(c.node(1).role(), Role::Follower);
  unit::run_ticks(c, 40);
  const NodeId next = c.leader();
  EXPECT_TRUE(next == 2 || next == 3) << next;
  EXPECT_NE(c.node(1).role(), Role::Leader);
}

TEST(RemovedLeader, TellsTheRemainingVotersThatTheirConfigurationCommitted) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  auto r = c.propose_conf_change(1, simple(ConfChangeOp::RemoveNode, 1));
  ASSERT_EQ(r.status, RaftStatus::Ok);
  c.stabilize();
  // No time passes and no new leader exists yet; the commit still reached 2 and 3.
  for (NodeId id : {2, 3}) {
    EXPECT_EQ(c.node(id).commit_index(), r.last_index) << "node " << id;
    EXPECT_EQ(c.applied_index(id), r.last_index) << "node " << id;
  }
}

}  // namespace
}  // namespace synod::raft
