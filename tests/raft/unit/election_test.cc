// Leader election: randomized timeouts, pre-vote, check-quorum and durable votes.
#include <gtest/gtest.h>

#include <set>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;
using unit::filter;
using unit::make_config;
using unit::make_message;
using unit::Member;

// Ticks a follower until it leaves the follower role; returns the number of ticks.
int ticks_until_campaign(Member& m, int limit = 1000) {
  for (int t = 1; t <= limit; ++t) {
    m.node->tick();
    m.drain();
    if (m.node->role() != Role::Follower) return t;
  }
  return -1;
}

TEST(ElectionTimeout, FallsWithinOneToTwoElectionTimeouts) {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    Config c = make_config(1, true);
    c.seed = seed;
    Member m(c, {1, 2, 3});
    const int ticks = ticks_until_campaign(m);
    EXPECT_GE(ticks, c.election_ticks) << "seed " << seed;
    EXPECT_LT(ticks, 2 * c.election_ticks) << "seed " << seed;
  }
}

TEST(ElectionTimeout, DiffersAcrossNodesOfOneGroup) {
  std::set<int> seen;
  for (NodeId id = 1; id <= 5; ++id) {
    Member m(make_config(id, true), {1, 2, 3, 4, 5});
    seen.insert(ticks_until_campaign(m));
  }
  // Five nodes with one shared seed must not all wait the same time (split votes).
  EXPECT_GE(seen.size(), 3u);
}

TEST(ElectionTimeout, IsDrawnAgainForEveryElectionRound) {
  Member m(make_config(1, true), {1, 2, 3});
  std::set<int> seen;
  ASSERT_GT(ticks_until_campaign(m), 0);
  // Unanswered, the pre-candidate starts a new round after a freshly drawn timeout.
  for (int round = 0; round < 20; ++round) {
    int ticks = 0;
    const Term term = m.node->term();
    while (filter(m.drain(), MessageType::PreVote).empty()) {
      m.node->tick();
      ++ticks;
    }
    EXPECT_EQ(m.node->term(), term);
    EXPECT_GE(ticks, 10);
    EXPECT_LT(ticks, 20);
    seen.insert(ticks);
  }
  EXPECT_GE(seen.size(), 3u);
}

TEST(PreVote, AsksWithTheNextTermWithoutAdoptingIt) {
  Member m(make_config(1, true), {1, 2, 3});
  m.node->campaign();
  EXPECT_EQ(m.node->role(), Role::PreCandidate);
  EXPECT_EQ(m.node->term(), 1u);
  Ready rd = m.node->ready();
  EXPECT_FALSE(rd.hard_state.has_value()) << "a pre-vote writes nothing durable";
  EXPECT_FALSE(rd.must_sync);
  auto asks = filter(rd.messages, MessageType::PreVote);
  ASSERT_EQ(asks.size(), 2u);
  for (const auto& ask : asks) EXPECT_EQ(ask.term, 2u);
  m.node->advance();
}

TEST(PreVote, ThatFailsLeavesTermAndVoteUntouched) {
  Member m(make_config(1, true), {1, 2, 3});
  m.node->campaign();
  m.drain();
  for (NodeId from : {2, 3}) {
    Message no = make_message(MessageType::PreVoteResp, from, 1, 1);
    no.reject = true;
    ASSERT_EQ(m.node->step(no), RaftStatus::Ok);
  }
  EXPECT_EQ(m.node->role(), Role::Follower);
  EXPECT_EQ(m.node->term(), 1u);
  EXPECT_EQ(m.node->state().hard_state.vote, kNoNode);
  m.drain();
  EXPECT_EQ(m.storage.hard_state(), (HardState{1, kNoNode, 1}));
}

TEST(PreVote, ThatSucceedsStartsARealElectionInTheNextTerm) {
  Member m(make_config(1, true), {1, 2, 3});
  m.node->campaign();
  m.drain();
  ASSERT_EQ(m.node->step(make_message(MessageType::PreVoteResp, 2, 1, 2)), RaftStatus::Ok);
  EXPECT_EQ(m.node->role(), Role::Candidate);
  EXPECT_EQ(m.node->term(), 2u);
  auto votes = filter(m.drain(), MessageType::Vote);
  EXPECT_EQ(votes.size(), 2u);
  EXPECT_EQ(m.storage.hard_state().vote, 1u);
}

TEST(PreVote, KeepsAnIsolatedNodeFromInflatingItsTerm) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Term term = c.node(1).term();
  c.isolate(3);
  unit::run_ticks(c, 200);
  EXPECT_EQ(c.node(3).term(), term);
  EXPECT_NE(c.node(3).role(), Role::Candidate);
  c.heal();
  unit::run_ticks(c, 30);
  EXPECT_EQ(c.leader(), 1u) << "the returning node does not depose the leader";
  EXPECT_EQ(c.node(1).term(), term);
}

TEST(PreVote, WhenDisabledAnIsolatedNodeRaisesItsTermOnEveryTimeout) {
  // The counterpart of the test above: without pre-vote the term does grow.
  ClusterOptions options;
  options.pre_vote = false;
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  const Term term = c.node(1).term();
  c.isolate(3);
  unit::run_ticks(c, 200);
  EXPECT_GT(c.node(3).term(), term + 5);
}

TEST(CheckQuorum, MakesALeaderThatHearsFromNoQuorumStepDown) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);
  // Activity seen before the cut may cover the first check; the second one must fail.
  for (int i = 0; i < 20; ++i) {
    c.tick(1);
    c.stabilize();
  }
  EXPECT_EQ(c.node(1).role(), Role::Follower);
  EXPECT_EQ(c.node(1).leader(), kNoNode);
  EXPECT_EQ(c.node(1).propose(Proposal{0, Bytes("x")}).status, RaftStatus::NoLeader);
}

TEST(CheckQuorum, KeepsALeaderThatHearsFromAMajority) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Term term = c.node(1).term();
  c.cut(1, 3);
  for (int i = 0; i < 100; ++i) {
    c.tick(1);
    c.tick(2);
    c.stabilize();
  }
  EXPECT_EQ(c.node(1).role(), Role::Leader);
  EXPECT_EQ(c.node(1).term(), term);
}

TEST(CampaignRequest, IsIgnoredByASittingLeader) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Term term = c.node(1).term();
  c.node(1).campaign();
  EXPECT_EQ(c.node(1).role(), Role::Leader);
  c.stabilize();
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_EQ(c.node(1).term(), term);
  EXPECT_EQ(c.propose(1, "still serving").status, RaftStatus::Ok);
}

TEST(DurableVote, CandidateSendsVoteRequestsOnlyAfterPersistingItsVote) {
  Member m(make_config(1), {1, 2, 3});
  m.node->campaign();
  Ready rd = m.node->ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 2u);
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(filter(rd.messages, MessageType::Vote).empty());
  EXPECT_EQ(filter(rd.messages_after_persist, MessageType::Vote).size(), 2u);
  m.node->advance();
}

TEST(DurableVote, VoterAnswersOnlyAfterPersistingTheVote) {
  Member m(make_config(2), {1, 2, 3});
  Message ask = make_message(MessageType::Vote, 1, 2, 2);
  ask.index = 1;
  ask.log_term = 1;
  ASSERT_EQ(m.node->step(ask), RaftStatus::Ok);
  Ready rd = m.node->ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(filter(rd.messages, MessageType::VoteResp).empty());
  auto answers = filter(rd.messages_after_persist, MessageType::VoteResp);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_FALSE(answers[0].reject);
  EXPECT_EQ(answers[0].term, 2u);
  m.node->advance();
}

TEST(DurableVote, FollowerAcknowledgesAppendsOnlyAfterPersistingThem) {
  Member m(make_config(2), {1, 2, 3});
  Message append = make_message(MessageType::Append, 1, 2, 2);
  append.index = 1;
  append.log_term = 1;
  append.entries = {unit::make_entry(2, 2, "x")};
  ASSERT_EQ(m.node->step(append), RaftStatus::Ok);
  Ready rd = m.node->ready();
  EXPECT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(filter(rd.messages, MessageType::AppendResp).empty());
  auto acks = filter(rd.messages_after_persist, MessageType::AppendResp);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].index, 2u);
  m.node->advance();
}

TEST(DurableVote, SoleVoterLeadsOnlyAfterItsNewTermIsDurable) {
  // With a learner beside it, a sole voter that led before persisting its term could send
  // the learner entries of a term it forgets in a crash, then reuse that term.
  Member m(make_config(1), {1}, {2});
  m.node->campaign();
  EXPECT_EQ(m.node->role(), Role::Candidate);
  Ready rd = m.node->ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 2u);
  EXPECT_TRUE(filter(rd.messages, MessageType::Append).empty());
  EXPECT_EQ(m.node->role(), Role::Candidate) << "not before the Ready is persisted";
  m.persist(rd);
  m.node->advance();
  EXPECT_EQ(m.node->role(), Role::Leader);
  auto out = m.drain();
  EXPECT_EQ(filter(out, MessageType::Append).size(), 1u) << "the learner gets the no-op";
}

TEST(DurableVote, LeaderSendsAppendsAtOnceWithoutWaitingForItsOwnWrite) {
  Member m(make_config(1), {1, 2, 3});
  m.node->campaign();
  m.drain();
  ASSERT_EQ(m.node->step(make_message(MessageType::VoteResp, 2, 1, 2)), RaftStatus::Ok);
  ASSERT_EQ(m.node->role(), Role::Leader);
  Ready rd = m.node->ready();
  ASSERT_FALSE(rd.entries.empty()) << "the no-op of the new term";
  EXPECT_EQ(filter(rd.messages, MessageType::Append).size(), 2u);
  EXPECT_TRUE(filter(rd.messages_after_persist, MessageType::Append).empty());
  m.node->advance();
}

TEST(Vote, IsGrantedToOnlyOneCandidatePerTerm) {
  Member m(make_config(3), {1, 2, 3});
  for (NodeId candidate : {1, 2}) {
    Message ask = make_message(MessageType::Vote, candidate, 3, 2);
    ask.index = 1;
    ask.log_term = 1;
    ASSERT_EQ(m.node->step(ask), RaftStatus::Ok);
  }
  auto answers = filter(m.drain(), MessageType::VoteResp);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_FALSE(answers[0].reject);
  EXPECT_TRUE(answers[1].reject);
  EXPECT_EQ(m.storage.hard_state().vote, 1u);
}

TEST(Vote, IsRefusedToACandidateWithALessUpToDateLog) {
  Config config = make_config(3);
  config.check_quorum = false;  // no leader lease: the request is considered at once
  Member m(config, {1, 2, 3});
  Message append = make_message(MessageType::Append, 1, 3, 2);
  append.index = 1;
  append.log_term = 1;
  append.entries = {unit::make_entry(2, 2)};
  m.node->step(append);
  m.drain();

  Message ask = make_message(MessageType::Vote, 2, 3, 3);
  ask.index = 5;  // longer, but its last entry is of an older term
  ask.log_term = 1;
  ASSERT_EQ(m.node->step(ask), RaftStatus::Ok);
  auto answers = filter(m.drain(), MessageType::VoteResp);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(m.node->term(), 3u) << "the higher term is still adopted";
  EXPECT_EQ(m.storage.hard_state().vote, kNoNode);
}

TEST(Vote, RequestsAreIgnoredWithinALeaderLease) {
  Member m(make_config(3), {1, 2, 3});
  Message heartbeat = make_message(MessageType::Heartbeat, 1, 3, 2);
  m.node->step(heartbeat);
  m.drain();
  Message ask = make_message(MessageType::Vote, 2, 3, 3);
  ask.index = 9;
  ask.log_term = 2;
  ASSERT_EQ(m.node->step(ask), RaftStatus::Ok);
  EXPECT_TRUE(filter(m.drain(), MessageType::VoteResp).empty());
  EXPECT_EQ(m.node->term(), 2u);
  EXPECT_EQ(m.node->leader(), 1u);
}

}  // namespace
}  // namespace synod::raft
