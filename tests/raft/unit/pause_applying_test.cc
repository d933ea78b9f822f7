// RawNode::pause_applying(): committed entries are held back in the log while the host
// cannot take them; everything else in a Ready keeps flowing.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using unit::make_config;
using unit::Member;
using unit::settle;

// A leader of {1, 2, 3} with its no-op committed and applied everywhere.
struct Group {
  Group() {
    a.node->campaign();
    settle({&a, &b, &c});
    EXPECT_EQ(a.node->role(), Role::Leader);
  }
  Member a{make_config(1), {1, 2, 3}};
  Member b{make_config(2), {1, 2, 3}};
  Member c{make_config(3), {1, 2, 3}};
};

TEST(PauseApplying, HoldsCommittedEntriesBackWhileOtherWorkFlows) {
  Group g;
  g.a.node->pause_applying(true);
  const std::size_t applied_before = g.a.applied.size();
  ASSERT_EQ(g.a.node->propose(Proposal{0, Bytes("x")}).status, RaftStatus::Ok);
  // The Append to the followers and the entry to persist still come out.
  ASSERT_TRUE(g.a.node->has_ready());
  Ready rd = g.a.node->ready();
  EXPECT_EQ(rd.entries.size(), 1u);
  EXPECT_EQ(unit::filter(rd.messages, MessageType::Append).size(), 2u);
  EXPECT_TRUE(rd.committed_entries.empty());
  g.a.persist(rd);
  g.a.node->advance();
  std::vector<Message> out = rd.messages;
  settle({&g.a, &g.b, &g.c}, out);

  const Index last = g.a.node->state().last_index;
  EXPECT_EQ(g.a.node->commit_index(), last) << "replication and commitment go on";
  EXPECT_EQ(g.b.node->commit_index(), last);
  EXPECT_EQ(g.a.applied.size(), applied_before) << "nothing handed out while paused";
  EXPECT_LT(g.a.node->state().applied, last);
  EXPECT_FALSE(g.a.node->has_ready()) << "committed entries alone make no Ready";
  EXPECT_EQ(g.b.applied.back().data, Bytes("x")) << "an unpaused follower applies";

  // A read still completes while paused.
  ASSERT_EQ(g.a.node->read_index("r").status, RaftStatus::Ok);
  settle({&g.a, &g.b, &g.c});
  ASSERT_EQ(g.a.read_states.size(), 1u);
  EXPECT_EQ(g.a.read_states[0].index, last);
  EXPECT_EQ(g.a.applied.size(), applied_before);

  g.a.node->pause_applying(false);
  EXPECT_TRUE(g.a.node->has_ready());
  g.a.drain();
  ASSERT_EQ(g.a.applied.size(), applied_before + 1);
  EXPECT_EQ(g.a.applied.back().index, last);
  EXPECT_EQ(g.a.applied.back().data, Bytes("x"));
  EXPECT_EQ(g.a.node->state().applied, last);
}

TEST(PauseApplying, OnAFollowerStillPersistsAndAcknowledges) {
  Group g;
  g.b.node->pause_applying(true);
  const std::size_t applied_before = g.b.applied.size();
  ASSERT_EQ(g.a.node->propose(Proposal{0, Bytes("y")}).status, RaftStatus::Ok);
  settle({&g.a, &g.b, &g.c}, {}, {3});
  const Index last = g.a.node->state().last_index;
  EXPECT_EQ(g.a.node->commit_index(), last) << "the paused follower's ack made the quorum";
  EXPECT_EQ(g.b.storage.last_index(), last);
  EXPECT_EQ(g.b.storage.hard_state().commit, last) << "the hard state carries the commit";
  EXPECT_EQ(g.b.applied.size(), applied_before);

  g.b.node->pause_applying(false);
  g.b.drain();
  ASSERT_EQ(g.b.applied.size(), applied_before + 1);
  EXPECT_EQ(g.b.applied.back().data, Bytes("y"));
}

TEST(PauseApplying, PausingBetweenReadyAndAdvanceKeepsWhatWasHandedOut) {
  Member m(make_config(1), {1});
  m.node->campaign();
  m.drain();
  ASSERT_EQ(m.node->propose(Proposal{0, Bytes("a")}).status, RaftStatus::Ok);
  Ready first = m.node->ready();
  m.persist(first);
  m.node->advance();  // commits "a" (a group of one)
  Ready second = m.node->ready();
  ASSERT_EQ(second.committed_entries.size(), 1u);
  m.node->pause_applying(true);
  m.node->advance();
  EXPECT_EQ(m.node->state().applied, second.committed_entries.back().index)
      << "entries already handed out count as applied at advance()";
  const std::size_t applied_before = m.applied.size();
  ASSERT_EQ(m.node->propose(Proposal{0, Bytes("b")}).status, RaftStatus::Ok);
  m.drain();
  EXPECT_EQ(m.applied.size(), applied_before);
  m.node->pause_applying(false);
  m.drain();
  ASSERT_EQ(m.applied.size(), applied_before + 1);
  EXPECT_EQ(m.applied.back().data, Bytes("b"));
}

}  // namespace
}  // namespace synod::raft
