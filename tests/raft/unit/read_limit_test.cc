// Bounds on ReadIndex bookkeeping: Config::max_pending_reads caps what a node holds, and
// reads that go unanswered for an election timeout are forgotten, so a leader that never
// answers (or a quorum that never confirms) cannot grow a node's memory.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using unit::filter;
using unit::make_config;
using unit::make_message;
using unit::Member;

constexpr Term kTerm = 2;

Config config_with_limit(NodeId id, std::size_t max_pending_reads) {
  Config c = make_config(id);
  c.max_pending_reads = max_pending_reads;
  return c;
}

// A heartbeat from leader 1 that keeps the follower from campaigning.
Message heartbeat_from_1(NodeId to) {
  Message m = make_message(MessageType::Heartbeat, 1, to, kTerm);
  m.commit = 1;
  return m;
}

// Makes node 2 of {1, 2, 3} follow leader 1 in kTerm.
void follow_1(Member& f) {
  f.node->step(heartbeat_from_1(2));
  f.drain();
  EXPECT_EQ(f.node->leader(), 1u);
}

Message answer(NodeId from, NodeId to, Term term, std::string context, Index index) {
  Message m = make_message(MessageType::ReadIndexResp, from, to, term);
  m.context = std::move(context);
  m.index = index;
  return m;
}

// Makes node 1 of {1, 2, 3} leader with its no-op committed (node 2 acknowledged it).
void lead(Member& l) {
  l.node->campaign();
  l.drain();
  l.node->step(make_message(MessageType::VoteResp, 2, 1, kTerm));
  l.drain();
  EXPECT_EQ(l.node->role(), Role::Leader);
  Message ack = make_message(MessageType::AppendResp, 2, 1, kTerm);
  ack.index = l.node->state().last_index;
  l.node->step(ack);
  l.drain();
  EXPECT_EQ(l.node->commit_index(), ack.index);
}

// One tick of a leader whose followers answer plain heartbeats (so it keeps its quorum)
// but whose read rounds are never confirmed: their heartbeats are lost.
void tick_losing_read_rounds(Member& l) {
  l.node->tick();
  for (const Message& m : l.drain()) {
    if (m.type != MessageType::Heartbeat || !m.context.empty()) continue;
    l.node->step(make_message(MessageType::HeartbeatResp, m.to, 1, kTerm));
  }
  l.drain();
}

TEST(ReadLimit, StatusHasAName) {
  EXPECT_STREQ(to_string(RaftStatus::ReadLimit), "pending reads limit reached");
}

TEST(ReadLimit, ZeroIsRefusedByConfigValidation) {
  Config c = make_config(1);
  EXPECT_EQ(c.max_pending_reads, 4096u) << "the documented default";
  c.max_pending_reads = 0;
  EXPECT_STRNE(c.validate(), "");
}

TEST(ReadLimit, AFollowerWithASilentLeaderStaysBounded) {
  Member f(make_config(2), {1, 2, 3});
  follow_1(f);
  const std::size_t limit = Config{}.max_pending_reads;
  std::size_t accepted = 0;
  std::size_t forwarded = 0;
  for (int i = 0; i < 100'000; ++i) {
    const ProposeResult r = f.node->read_index("r" + std::to_string(i));
    if (r.status == RaftStatus::Ok) {
      ++accepted;
    } else {
      ASSERT_EQ(r.status, RaftStatus::ReadLimit) << "read " << i;
    }
    forwarded += filter(f.drain(), MessageType::ReadIndex, 1).size();
  }
  EXPECT_EQ(accepted, limit);
  EXPECT_EQ(forwarded, limit);
  EXPECT_EQ(f.node->state().pending_reads, limit);
  EXPECT_EQ(f.node->summary().pending_reads, limit);
}

TEST(ReadLimit, AFollowerForgetsUnansweredReadsAfterAnElectionTimeout) {
  Member f(make_config(2), {1, 2, 3});
  follow_1(f);
  const int election = f.config.election_ticks;
  f.node->tick();  // reads sent at tick 1 have waited a full timeout at tick 1 + election
  ASSERT_EQ(f.node->read_index("lost").status, RaftStatus::Ok);
  ASSERT_EQ(f.node->read_index("answered").status, RaftStatus::Ok);
  f.drain();
  for (int t = 2; t < 1 + election; ++t) {
    f.node->tick();
    f.node->step(heartbeat_from_1(2));
    f.drain();
  }
  EXPECT_EQ(f.node->state().pending_reads, 2u) << "younger than an election timeout: kept";
  f.node->step(answer(1, 2, kTerm, "answered", 1));
  f.drain();
  ASSERT_EQ(f.read_states.size(), 1u);
  EXPECT_EQ(f.read_states[0], (ReadState{1, "answered"}));
  EXPECT_EQ(f.node->state().pending_reads, 1u);

  for (int t = 0; t < election; ++t) {
    f.node->tick();
    f.node->step(heartbeat_from_1(2));
    f.drain();
  }
  EXPECT_EQ(f.node->role(), Role::Follower);
  EXPECT_EQ(f.node->state().pending_reads, 0u) << "the unanswered read was forgotten";

  // Late answers, for the forgotten read and again for the answered one, are ignored.
  f.node->step(answer(1, 2, kTerm, "lost", 1));
  f.node->step(answer(1, 2, kTerm, "answered", 1));
  f.drain();
  EXPECT_EQ(f.read_states.size(), 1u);
  EXPECT_EQ(f.node->state().pending_reads, 0u);
}

TEST(ReadLimit, AFollowerAcceptsReadsAgainOnceStaleOnesAreForgotten) {
  Member f(config_with_limit(2, 3), {1, 2, 3});
  follow_1(f);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(f.node->read_index("r").status, RaftStatus::Ok);
  EXPECT_EQ(f.node->read_index("r").status, RaftStatus::ReadLimit);
  for (int t = 0; t < 2 * f.config.election_ticks; ++t) {
    f.node->tick();
    f.node->step(heartbeat_from_1(2));
    f.drain();
  }
  EXPECT_EQ(f.node->state().pending_reads, 0u);
  EXPECT_EQ(f.node->read_index("r").status, RaftStatus::Ok);
  // Requests with one context are answered one each.
  f.node->step(answer(1, 2, kTerm, "r", 1));
  f.node->step(answer(1, 2, kTerm, "r", 1));
  f.drain();
  EXPECT_EQ(f.read_states.size(), 1u);
}

TEST(ReadLimit, AFollowerForgetsForwardedReadsWhenTheTermChanges) {
  Member f(make_config(2), {1, 2, 3});
  follow_1(f);
  ASSERT_EQ(f.node->read_index("old").status, RaftStatus::Ok);
  f.drain();
  Message next_term = make_message(MessageType::Heartbeat, 3, 2, kTerm + 1);
  next_term.commit = 1;
  f.node->step(next_term);
  f.drain();
  EXPECT_EQ(f.node->leader(), 3u);
  EXPECT_EQ(f.node->state().pending_reads, 0u);
  f.node->step(answer(3, 2, kTerm + 1, "old", 1));
  f.drain();
  EXPECT_TRUE(f.read_states.empty()) << "the new leader never heard of that read";
}

TEST(ReadLimit, ALeaderRefusesItsOwnReadsAndDropsForwardedOnesOverTheLimit) {
  Member l(config_with_limit(1, 4), {1, 2, 3});
  lead(l);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(l.node->read_index("own" + std::to_string(i)).status, RaftStatus::Ok);
  }
  std::vector<Message> sent = l.drain();
  EXPECT_EQ(l.node->state().pending_reads, 4u);
  EXPECT_EQ(l.node->read_index("over").status, RaftStatus::ReadLimit);

  Message forwarded = make_message(MessageType::ReadIndex, 3, 1, kTerm);
  forwarded.context = "from 3";
  l.node->step(forwarded);
  const std::vector<Message> after = l.drain();
  EXPECT_TRUE(filter(after, MessageType::ReadIndexResp).empty());
  EXPECT_TRUE(filter(after, MessageType::Heartbeat).empty()) << "no read round for it";
  EXPECT_EQ(l.node->state().pending_reads, 4u);

  // Confirming the newest round releases every read; the limit no longer bites.
  const std::vector<Message> rounds = filter(sent, MessageType::Heartbeat, 2);
  ASSERT_EQ(rounds.size(), 4u);
  Message confirm = make_message(MessageType::HeartbeatResp, 2, 1, kTerm);
  confirm.context = rounds.back().context;
  l.node->step(confirm);
  l.drain();
  EXPECT_EQ(l.read_states.size(), 4u);
  EXPECT_EQ(l.node->state().pending_reads, 0u);
  l.node->step(forwarded);
  l.drain();
  EXPECT_EQ(l.node->state().pending_reads, 1u);
}

TEST(ReadLimit, ALeaderForgetsReadsNoQuorumConfirmsAndIgnoresLateConfirmations) {
  Member l(make_config(1), {1, 2, 3});
  lead(l);
  const int election = l.config.election_ticks;
  ASSERT_EQ(l.node->read_index("unconfirmed").status, RaftStatus::Ok);
  const std::vector<Message> round = filter(l.drain(), MessageType::Heartbeat, 2);
  ASSERT_EQ(round.size(), 1u);
  for (int t = 0; t < election - 1; ++t) tick_losing_read_rounds(l);
  EXPECT_EQ(l.node->state().pending_reads, 1u);
  for (int t = 0; t < election; ++t) tick_losing_read_rounds(l);
  ASSERT_EQ(l.node->role(), Role::Leader) << "plain heartbeats kept the quorum";
  EXPECT_EQ(l.node->state().pending_reads, 0u);

  Message late = make_message(MessageType::HeartbeatResp, 2, 1, kTerm);
  late.context = round[0].context;
  l.node->step(late);
  l.drain();
  EXPECT_TRUE(l.read_states.empty()) << "a confirmation for a forgotten round does nothing";

  // A fresh read still works.
  ASSERT_EQ(l.node->read_index("fresh").status, RaftStatus::Ok);
  const std::vector<Message> fresh = filter(l.drain(), MessageType::Heartbeat, 3);
  ASSERT_EQ(fresh.size(), 1u);
  Message confirm = make_message(MessageType::HeartbeatResp, 3, 1, kTerm);
  confirm.context = fresh[0].context;
  l.node->step(confirm);
  l.drain();
  ASSERT_EQ(l.read_states.size(), 1u);
  EXPECT_EQ(l.read_states[0].context, "fresh");
}

TEST(ReadLimit, ALeaderBoundsAndForgetsReadsWaitingForItsFirstCommit) {
  Config config = config_with_limit(1, 2);
  config.check_quorum = false;  // stays leader although nobody acknowledges its no-op
  Member l(config, {1, 2, 3});
  l.node->campaign();
  l.drain();
  l.node->step(make_message(MessageType::VoteResp, 2, 1, kTerm));
  l.drain();
  ASSERT_EQ(l.node->role(), Role::Leader);
  ASSERT_LT(l.node->commit_index(), l.node->state().last_index);
  ASSERT_EQ(l.node->read_index("a").status, RaftStatus::Ok);
  ASSERT_EQ(l.node->read_index("b").status, RaftStatus::Ok);
  EXPECT_EQ(l.node->read_index("c").status, RaftStatus::ReadLimit);
  EXPECT_EQ(l.node->state().pending_reads, 2u);
  for (int t = 0; t < 2 * config.election_ticks; ++t) {
    l.node->tick();
    l.drain();
  }
  ASSERT_EQ(l.node->role(), Role::Leader);
  EXPECT_EQ(l.node->state().pending_reads, 0u);
  EXPECT_EQ(l.node->read_index("d").status, RaftStatus::Ok);
}

TEST(ReadLimit, AFollowerDropsNothingWhileItsReadsAreAnsweredPromptly) {
  // Many reads over many election timeouts, each answered within the timeout: the sweep
  // must never forget a read that is still going to be answered.
  testing::Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  std::size_t asked = 0;
  for (int t = 0; t < 50; ++t) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(c.node(2).read_index("r" + std::to_string(asked++)).status, RaftStatus::Ok);
    }
    c.tick_all();
    c.stabilize();
  }
  EXPECT_EQ(c.take_read_states(2).size(), asked);
  EXPECT_EQ(c.node(2).state().pending_reads, 0u);
}

}  // namespace
}  // namespace synod::raft
