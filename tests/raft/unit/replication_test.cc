// Log replication: anchored appends and conflict hints, the per-term no-op, pipelining
// within the in-flight window, probing, and when the leader's own copy counts.
#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;
using unit::count_in_flight;
using unit::filter;
using unit::make_config;
using unit::make_entry;
using unit::make_message;
using unit::Member;
using unit::peer_status;

Term term_at(const MemoryLogStorage& s, Index index) {
  Term t = 0;
  EXPECT_EQ(s.term(index, t), StorageError::None) << "index " << index;
  return t;
}

std::vector<Entry> stored(const MemoryLogStorage& s) {
  std::vector<Entry> out;
  s.entries(s.first_index(), s.last_index() + 1, SIZE_MAX, out);
  return out;
}

std::size_t entry_bytes(const Message& m) {
  std::size_t total = 0;
  for (const auto& e : m.entries) total += e.byte_size();
  return total;
}

TEST(NoOpEntry, OpensEveryTermOfLeadership) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  const Entry first = stored(c.storage(1)).back();
  EXPECT_EQ(first.term, c.node(1).term());
  EXPECT_EQ(first.type, EntryType::Normal);
  EXPECT_TRUE(first.data.empty());
  EXPECT_EQ(c.node(1).commit_index(), first.index) << "committing it needs no proposal";

  ASSERT_EQ(c.propose(1, "a").status, RaftStatus::Ok);
  c.stabilize();
  ASSERT_EQ(c.node(1).transfer_leadership(2).status, RaftStatus::Ok);
  c.stabilize();
  ASSERT_EQ(c.leader(), 2u);
  const Entry second = stored(c.storage(2)).back();
  EXPECT_EQ(second.term, c.node(2).term());
  EXPECT_GT(second.term, first.term);
  EXPECT_TRUE(second.data.empty());
  EXPECT_EQ(c.node(2).commit_index(), second.index);
  for (NodeId id : {1, 2, 3}) EXPECT_EQ(c.applied_index(id), second.index);
}

TEST(AnchoredAppend, IsRefusedWhenTheFollowerLacksThePrecedingEntry) {
  Member m(make_config(2), {1, 2, 3});
  Message append = make_message(MessageType::Append, 1, 2, 2);
  append.index = 5;
  append.log_term = 2;
  append.entries = {make_entry(6, 2, "x")};
  m.node->step(append);
  auto answers = filter(m.drain(), MessageType::AppendResp);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(answers[0].index, 5u);
  EXPECT_EQ(answers[0].reject_hint, 1u) << "the follower's log ends at 1";
  EXPECT_EQ(answers[0].log_term, 1u);
  EXPECT_EQ(m.storage.last_index(), 1u);
}

TEST(AnchoredAppend, IsRefusedWhenThePrecedingEntryHasAnotherTerm) {
  Member m(make_config(2), {1, 2, 3});
  Message fill = make_message(MessageType::Append, 1, 2, 2);
  fill.index = 1;
  fill.log_term = 1;
  fill.entries = {make_entry(2, 2), make_entry(3, 2)};
  m.node->step(fill);
  m.drain();

  Message append = make_message(MessageType::Append, 3, 2, 4);
  append.index = 3;
  append.log_term = 3;
  append.entries = {make_entry(4, 4)};
  m.node->step(append);
  auto answers = filter(m.drain(), MessageType::AppendResp);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(answers[0].reject_hint, 3u);
  EXPECT_EQ(answers[0].log_term, 2u) << "the term the leader can skip back past";
  EXPECT_EQ(m.storage.last_index(), 3u);
}

// Replaces a node's persisted log beyond the bootstrap entry and sets its hard state.
void rewrite_log(Cluster& c, NodeId id, const std::vector<std::pair<Index, Term>>& runs,
                 Term term) {
  std::vector<Entry> entries;
  Index index = 2;
  for (const auto& [count, t] : runs) {
    for (Index i = 0; i < count; ++i) entries.push_back(make_entry(index++, t, "d"));
  }
  c.storage(id).append(entries);
  c.storage(id).set_hard_state({term, kNoNode, 6});
}

TEST(ConflictHint, RepairsALongDivergentFollowerInOneRoundTripPerTerm) {
  Cluster c({1, 2, 3});
  for (NodeId id : {1, 2, 3}) c.crash(id);
  // All share 2..6 of term 2. Then node 1 and node 3 hold 50 entries of term 4, while
  // node 2 holds 24 entries of term 3 and 50 of term 5 that no one else has.
  rewrite_log(c, 1, {{5, 2}, {50, 4}}, 5);
  rewrite_log(c, 2, {{5, 2}, {24, 3}, {50, 5}}, 5);
  rewrite_log(c, 3, {{5, 2}, {50, 4}}, 5);
  for (NodeId id : {1, 2, 3}) c.restart(id);
  c.clear_sent_log();

  ASSERT_TRUE(c.elect(1)) << "node 3's vote is enough";
  const Index last = c.storage(1).last_index();
  ASSERT_EQ(last, 57u);
  std::size_t refusals = 0;
  for (const auto& m : c.sent_log()) {
    if (m.type == MessageType::AppendResp && m.from == 2 && m.reject) ++refusals;
  }
  // Walking back one entry at a time would take 50 refusals; skipping by term takes one.
  EXPECT_LE(refusals, 2u);
  EXPECT_GE(refusals, 1u);
  ASSERT_EQ(c.storage(2).last_index(), last);
  for (Index i = 1; i <= last; ++i) {
    EXPECT_EQ(term_at(c.storage(2), i), term_at(c.storage(1), i)) << "index " << i;
  }
  EXPECT_EQ(c.node(2).commit_index(), last);
}

TEST(ConflictHint, BringsABehindFollowerForwardWithoutWalkingEveryEntry) {
  Cluster c({1, 2, 3});
  for (NodeId id : {1, 2, 3}) c.crash(id);
  rewrite_log(c, 1, {{5, 2}, {40, 3}, {40, 4}}, 4);
  rewrite_log(c, 2, {{5, 2}}, 4);
  rewrite_log(c, 3, {{5, 2}, {40, 3}, {40, 4}}, 4);
  for (NodeId id : {1, 2, 3}) c.restart(id);
  c.clear_sent_log();
  ASSERT_TRUE(c.elect(1));
  std::size_t refusals = 0;
  for (const auto& m : c.sent_log()) {
    if (m.type == MessageType::AppendResp && m.from == 2 && m.reject) ++refusals;
  }
  EXPECT_LE(refusals, 1u);
  EXPECT_EQ(c.storage(2).last_index(), c.storage(1).last_index());
}

TEST(Pipelining, KeepsUpToMaxInflightMessagesAppendsOutstanding) {
  ClusterOptions options;
  options.max_inflight_messages = 3;
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(peer_status(c.node(1), 2)->state, ProgressState::Replicate);
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(c.propose(1, "p" + std::to_string(i)).status, RaftStatus::Ok);
    c.process_ready(1);
  }
  EXPECT_EQ(count_in_flight(c, MessageType::Append, 1, 2), 3u);
  EXPECT_EQ(peer_status(c.node(1), 2)->inflight_messages, 3u);

  // One acknowledgement frees one slot; the backlog goes out in the freed slot.
  ASSERT_TRUE(unit::deliver_one(c, MessageType::Append, 1, 2));
  c.process_ready(2);
  ASSERT_TRUE(unit::deliver_one(c, MessageType::AppendResp, 2, 1));
  c.process_ready(1);
  EXPECT_EQ(count_in_flight(c, MessageType::Append, 1, 2), 3u);
  std::size_t backlog = 0;
  for (const auto& f : c.in_flight()) {
    if (f.message.type == MessageType::Append && f.message.to == 2) {
      backlog = std::max(backlog, f.message.entries.size());
    }
  }
  EXPECT_EQ(backlog, 3u) << "entries 4..6 travel together";
  c.stabilize();
  EXPECT_EQ(c.applied_data(2).size(), 6u);
}

TEST(Pipelining, StopsOnceInflightBytesReachMaxInflightBytes) {
  ClusterOptions options;
  options.max_inflight_bytes = 250;  // each proposal below is 100 + 24 bytes
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(c.propose(1, std::string(100, 'a' + i)).status, RaftStatus::Ok);
    c.process_ready(1);
  }
  EXPECT_EQ(count_in_flight(c, MessageType::Append, 1, 2), 3u);
  const auto peer = peer_status(c.node(1), 2);
  EXPECT_EQ(peer->inflight_bytes, 3u * 124);
  // The last message was sent while the window was still below the bound.
  EXPECT_LT(peer->inflight_bytes - 124, options.max_inflight_bytes);
  c.stabilize();
  EXPECT_EQ(c.applied_data(2).size(), 6u);
}

TEST(Pipelining, SplitsABacklogIntoAppendsOfAtMostMaxAppendBytes) {
  ClusterOptions options;
  options.max_append_bytes = 300;
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  c.clear_sent_log();
  std::vector<std::string> batch(10, std::string(100, 'x'));
  batch.push_back(std::string(1000, 'y'));  // larger than a message on its own
  ASSERT_EQ(c.propose_batch(1, batch).status, RaftStatus::Ok);
  c.stabilize();
  std::size_t full_messages = 0;
  for (const auto& m : c.sent_log()) {
    if (m.type != MessageType::Append || m.entries.empty()) continue;
    if (m.entries.size() > 1) {
      EXPECT_LE(entry_bytes(m), options.max_append_bytes);
    }
    if (m.entries.size() == 2) ++full_messages;
  }
  EXPECT_GT(full_messages, 0u) << "two 124-byte entries fit in 300 bytes, three do not";
  EXPECT_EQ(c.applied_data(2).size(), 11u);
  EXPECT_EQ(c.applied_data(3), c.applied_data(1));
}

TEST(Probe, SendsOneAppendAtATimeUntilTheFollowerAnswers) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.node(1).report_unreachable(2);
  EXPECT_EQ(peer_status(c.node(1), 2)->state, ProgressState::Probe);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(c.propose(1, "p" + std::to_string(i)).status, RaftStatus::Ok);
    c.process_ready(1);
  }
  EXPECT_EQ(count_in_flight(c, MessageType::Append, 1, 2), 1u);
  EXPECT_EQ(count_in_flight(c, MessageType::Append, 1, 3), 4u) << "3 is still pipelined";

  ASSERT_TRUE(unit::deliver_one(c, MessageType::Append, 1, 2));
  c.process_ready(2);
  ASSERT_TRUE(unit::deliver_one(c, MessageType::AppendResp, 2, 1));
  EXPECT_EQ(peer_status(c.node(1), 2)->state, ProgressState::Replicate)
      << "an acknowledged probe resumes pipelining";
  c.stabilize();
  EXPECT_EQ(c.applied_data(2).size(), 4u);
}

TEST(ReportUnreachable, TurnsAReplicatingFollowerBackToProbing) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose(1, "a").status, RaftStatus::Ok);
  c.process_ready(1);
  ASSERT_EQ(peer_status(c.node(1), 2)->inflight_messages, 1u);
  c.node(1).report_unreachable(2);
  const auto peer = peer_status(c.node(1), 2);
  EXPECT_EQ(peer->state, ProgressState::Probe);
  EXPECT_EQ(peer->inflight_messages, 0u);
  EXPECT_EQ(peer->next, peer->match + 1) << "resend everything not acknowledged";
}

TEST(Pipelining, RecoversWhenEveryAppendInAFullWindowWasLost) {
  ClusterOptions options;
  options.max_inflight_messages = 2;
  Cluster c({1, 2, 3}, options);
  ASSERT_TRUE(c.elect(1));
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(c.propose(1, "p" + std::to_string(i)).status, RaftStatus::Ok);
    c.process_ready(1);
  }
  unit::drop_if(c, [](const Message& m) { return m.type == MessageType::Append && m.to == 2; });
  c.stabilize();
  ASSERT_TRUE(peer_status(c.node(1), 2)->inflight_messages == 2u);
  // No report_unreachable comes; heartbeat answers alone must restart replication.
  unit::run_ticks(c, 5);
  EXPECT_EQ(c.storage(2).last_index(), c.storage(1).last_index());
  EXPECT_EQ(c.applied_data(2).size(), 4u);
}

TEST(Commit, CountsReplicasOnlyForEntriesOfTheLeadersOwnTerm) {
  // Node 1 holds entry 2 of term 2, never committed; as leader of term 3 it must not commit
  // it just because a majority holds it (Raft Figure 8), only through its own no-op.
  Member leader(make_config(1), {1, 2, 3});
  leader.storage.append({make_entry(2, 2, "old")});
  leader.storage.set_hard_state({2, kNoNode, 1});
  leader.restart();
  leader.node->campaign();
  leader.drain();
  leader.node->step(make_message(MessageType::VoteResp, 2, 1, 3));
  ASSERT_EQ(leader.node->role(), Role::Leader);
  leader.drain();
  ASSERT_EQ(leader.storage.last_index(), 3u) << "the no-op of term 3";

  Message ack = make_message(MessageType::AppendResp, 2, 1, 3);
  ack.index = 2;
  leader.node->step(ack);
  EXPECT_EQ(leader.node->commit_index(), 1u) << "entry 2 is on two of three nodes, yet not safe";
  ack.index = 3;
  leader.node->step(ack);
  EXPECT_EQ(leader.node->commit_index(), 3u) << "the no-op commits, and entry 2 with it";
}

TEST(Heartbeat, CarriesTheCommitIndexToAFollowerOnlyForEntriesItHolds) {
  Member m(make_config(2), {1, 2, 3});
  Message append = make_message(MessageType::Append, 1, 2, 2);
  append.index = 1;
  append.log_term = 1;
  append.commit = 1;
  append.entries = {make_entry(2, 2, "a"), make_entry(3, 2, "b")};
  m.node->step(append);
  m.drain();
  ASSERT_EQ(m.node->commit_index(), 1u);

  Message heartbeat = make_message(MessageType::Heartbeat, 1, 2, 2);
  heartbeat.commit = 3;
  m.node->step(heartbeat);
  EXPECT_EQ(m.node->commit_index(), 3u);
  m.drain();
  ASSERT_EQ(m.applied.size(), 3u);
  EXPECT_EQ(m.applied.back().data.view(), "b");

  heartbeat.commit = 7;  // beyond what this follower holds
  m.node->step(heartbeat);
  EXPECT_EQ(m.node->commit_index(), 3u);
  // The leader believes it holds more: it says how far its log really reaches.
  const auto answers = filter(m.drain(), MessageType::HeartbeatResp, 1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(answers[0].reject_hint, 3u);
}

TEST(Heartbeat, ARefusalAtOrAboveTheFollowersMatchChangesNothing) {
  // A duplicated or late refusal from a follower that lost its log and has been repaired
  // since: the follower holds at least its match, so the leader keeps its record.
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  ASSERT_EQ(c.propose(1, "a").status, RaftStatus::Ok);
  c.stabilize();
  const auto before = peer_status(c.node(1), 3);
  ASSERT_EQ(before->state, ProgressState::Replicate);
  Message late = make_message(MessageType::HeartbeatResp, 3, 1, c.node(1).term());
  late.reject = true;
  late.reject_hint = before->match;
  c.node(1).step(late);
  const auto after = peer_status(c.node(1), 3);
  EXPECT_EQ(after->state, ProgressState::Replicate);
  EXPECT_EQ(after->match, before->match);
  EXPECT_EQ(after->next, before->next);
}

// Three hand-driven members, so that the leader's own write can be held back.
struct Trio {
  Trio()
      : a(make_config(1), {1, 2, 3}), b(make_config(2), {1, 2, 3}), c(make_config(3), {1, 2, 3}) {
    a.node->campaign();
    unit::settle({&a, &b, &c});
    EXPECT_EQ(a.node->role(), Role::Leader);
  }
  Member a, b, c;
};

TEST(LeaderOwnAppend, CountsTowardCommitOnlyAfterAdvance) {
  Trio t;
  auto r = t.a.node->propose(Proposal{0, Bytes("x")});
  ASSERT_EQ(r.status, RaftStatus::Ok);
  Ready rd = t.a.node->ready();  // the leader's write of x is under way
  ASSERT_EQ(rd.entries.size(), 1u);
  auto to_b = filter(rd.messages, MessageType::Append, 2);
  ASSERT_EQ(to_b.size(), 1u);

  // Follower 2 persists and acknowledges; node 3 hears nothing.
  t.b.node->step(to_b[0]);
  auto acks = filter(t.b.drain(), MessageType::AppendResp);
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_EQ(acks[0].index, r.last_index);
  t.a.node->step(acks[0]);
  EXPECT_LT(t.a.node->commit_index(), r.last_index)
      << "one follower is not a quorum of three while the leader's own write is pending";

  t.a.persist(rd);
  t.a.node->advance();
  EXPECT_EQ(t.a.node->commit_index(), r.last_index);
}

TEST(LeaderOwnAppend, DoesNotCommitWithoutAFollowerEvenOncePersisted) {
  Trio t;
  auto r = t.a.node->propose(Proposal{0, Bytes("x")});
  ASSERT_EQ(r.status, RaftStatus::Ok);
  // Both followers are cut off: the leader persists, but nobody acknowledges.
  t.a.drain();
  EXPECT_LT(t.a.node->commit_index(), r.last_index);
  EXPECT_EQ(t.a.storage.last_index(), r.last_index);

  // A late acknowledgement after the leader's write completes the quorum.
  Message ack = make_message(MessageType::AppendResp, 3, 1, t.a.node->term());
  ack.index = r.last_index;
  t.a.node->step(ack);
  EXPECT_EQ(t.a.node->commit_index(), r.last_index);
}

TEST(LeaderOwnAppend, InAClusterWithBothFollowersCutOffNothingCommits) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.elect(1));
  c.isolate(1);
  auto r = c.propose(1, "lonely");
  ASSERT_EQ(r.status, RaftStatus::Ok);
  c.stabilize();
  EXPECT_EQ(c.storage(1).last_index(), r.last_index) << "persisted locally";
  EXPECT_LT(c.node(1).commit_index(), r.last_index);
  c.heal();
  unit::run_ticks(c, 2);
  EXPECT_EQ(c.node(1).commit_index(), r.last_index);
}

}  // namespace
}  // namespace synod::raft
