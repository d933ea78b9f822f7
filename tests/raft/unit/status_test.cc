// RawNode::state() and summary(): what a host or an operator sees of one member.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;
using unit::make_config;
using unit::Member;
using unit::peer_status;

TEST(Status, OfALeaderShowsItsHardStateRoleAndEveryPeer) {
  Cluster c({1, 2, 3}, {}, {4});
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose(1, "x").status, RaftStatus::Ok);
  c.stabilize();
  const RaftState s = c.node(1).state();
  const Index last = c.storage(1).last_index();
  EXPECT_EQ(s.id, 1u);
  EXPECT_EQ(s.hard_state.term, c.node(1).term());
  EXPECT_EQ(s.hard_state.term, 2u);
  EXPECT_EQ(s.hard_state.vote, 1u);
  EXPECT_EQ(s.hard_state.commit, last);
  EXPECT_EQ(s.applied, last);
  EXPECT_EQ(s.soft_state, (SoftState{1, Role::Leader}));
  EXPECT_EQ(s.first_index, 1u);
  EXPECT_EQ(s.last_index, last);
  EXPECT_EQ(s.conf, unit::conf_of({1, 2, 3}, {4}));
  EXPECT_EQ(s.transfer_target, kNoNode);
  EXPECT_EQ(s.uncommitted_bytes, 0u);
  ASSERT_EQ(s.peers.size(), 4u);
  for (const auto& p : s.peers) {
    EXPECT_EQ(p.match, last) << "peer " << p.id;
    EXPECT_EQ(p.next, last + 1) << "peer " << p.id;
    EXPECT_EQ(p.state, ProgressState::Replicate) << "peer " << p.id;
    EXPECT_EQ(p.learner, p.id == 4) << "peer " << p.id;
    EXPECT_EQ(p.inflight_messages, 0u) << "peer " << p.id;
  }
}

TEST(Status, OfALeaderShowsALaggingPeer) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Index before = c.storage(1).last_index();
  c.cut(1, 3);
  ASSERT_EQ(c.propose(1, "x").status, RaftStatus::Ok);
  c.stabilize();
  const auto lagging = peer_status(c.node(1), 3);
  ASSERT_TRUE(lagging.has_value());
  EXPECT_EQ(lagging->match, before);
  EXPECT_EQ(lagging->next, before + 2) << "the Append was sent, just not acknowledged";
  EXPECT_EQ(lagging->inflight_messages, 1u);
  EXPECT_EQ(lagging->inflight_bytes, 1u + 24);
  EXPECT_EQ(peer_status(c.node(1), 2)->match, before + 1);
}

TEST(Status, OfAFollowerShowsTheLeaderItFollowsAndNoPeers) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const RaftState s = c.node(2).state();
  EXPECT_EQ(s.id, 2u);
  EXPECT_EQ(s.soft_state, (SoftState{1, Role::Follower}));
  EXPECT_EQ(s.hard_state.term, c.node(1).term());
  EXPECT_EQ(s.hard_state.vote, 1u) << "it voted for the leader";
  EXPECT_EQ(s.hard_state.commit, c.node(1).commit_index());
  EXPECT_TRUE(s.peers.empty());
}

TEST(Status, ShowsTheTransferTarget) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.cut(1, 3);
  ASSERT_EQ(c.node(1).transfer_leadership(3).status, RaftStatus::Ok);
  EXPECT_EQ(c.node(1).state().transfer_target, 3u);
}

TEST(Status, ShowsTheAppliedIndexOnlyAfterAdvance) {
  Member m(make_config(1), {1});
  m.node->campaign();
  m.drain();
  auto r = m.node->propose(Proposal{0, Bytes("x")});
  ASSERT_EQ(r.status, RaftStatus::Ok);
  EXPECT_EQ(m.node->state().last_index, r.last_index);
  Ready first = m.node->ready();
  m.persist(first);
  m.node->advance();  // the single voter's own write commits the entry
  EXPECT_EQ(m.node->state().hard_state.commit, r.last_index);
  Ready second = m.node->ready();
  ASSERT_EQ(second.committed_entries.size(), 1u);
  EXPECT_LT(m.node->state().applied, r.last_index) << "handed out, not yet applied";
  m.node->advance();
  EXPECT_EQ(m.node->state().applied, r.last_index);
}

TEST(Status, ShowsRoleAndLeaderThroughAnElection) {
  Member m(make_config(1), {1, 2, 3});
  EXPECT_EQ(m.node->state().soft_state, (SoftState{kNoNode, Role::Follower}));
  m.node->campaign();
  EXPECT_EQ(m.node->state().soft_state, (SoftState{kNoNode, Role::Candidate}));
  EXPECT_EQ(m.node->state().hard_state.vote, 1u);
  m.node->step(unit::make_message(MessageType::VoteResp, 2, 1, 2));
  EXPECT_EQ(m.node->state().soft_state, (SoftState{1, Role::Leader}));
  EXPECT_EQ(m.node->role(), Role::Leader);
  EXPECT_EQ(m.node->leader(), 1u);
  EXPECT_EQ(m.node->id(), 1u);
}

// summary() must equal state() with the configuration and the peer list left out.
void expect_summary_matches_state(const RawNode& node) {
  RaftState full = node.state();
  const RaftState summary = node.summary();
  EXPECT_TRUE(summary.conf.voters.empty() && summary.conf.learners.empty());
  EXPECT_TRUE(summary.peers.empty());
  full.conf = {};
  full.peers.clear();
  EXPECT_EQ(summary.id, full.id);
  EXPECT_EQ(summary.hard_state, full.hard_state);
  EXPECT_EQ(summary.soft_state, full.soft_state);
  EXPECT_EQ(summary.applied, full.applied);
  EXPECT_EQ(summary.first_index, full.first_index);
  EXPECT_EQ(summary.last_index, full.last_index);
  EXPECT_EQ(summary.conf, full.conf);
  EXPECT_EQ(summary.transfer_target, full.transfer_target);
  EXPECT_EQ(summary.uncommitted_bytes, full.uncommitted_bytes);
  EXPECT_EQ(summary.pending_reads, full.pending_reads);
}

TEST(Status, SummaryIsTheStateWithoutConfigurationAndPeers) {
  ClusterOptions options;
  options.max_uncommitted_bytes = 1 << 20;
  Cluster c({1, 2, 3}, options, {4});
  expect_summary_matches_state(c.node(1));  // a follower with no leader yet
  ASSERT_TRUE(c.elect(1));
  c.cut(1, 2);
  c.cut(1, 3);
  ASSERT_EQ(c.propose(1, "pending").status, RaftStatus::Ok);
  c.stabilize();
  ASSERT_GT(c.node(1).state().uncommitted_bytes, 0u);
  ASSERT_EQ(c.node(1).state().peers.size(), 4u);
  expect_summary_matches_state(c.node(1));  // a leader with a pending entry
  c.heal();
  c.stabilize();
  c.cut(1, 3);
  ASSERT_EQ(c.node(1).transfer_leadership(3).status, RaftStatus::Ok);
  ASSERT_EQ(c.node(1).state().transfer_target, 3u);
  expect_summary_matches_state(c.node(1));  // a leader handing over
  expect_summary_matches_state(c.node(2));  // a follower
  expect_summary_matches_state(c.node(4));  // a learner
  c.node(2).campaign();
  expect_summary_matches_state(c.node(2));  // a candidate
}

}  // namespace
}  // namespace synod::raft
