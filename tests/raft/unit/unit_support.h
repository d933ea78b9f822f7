// Small helpers shared by the unit tests: hand-driven RawNodes, message builders and
// filters over message lists. A hand-driven node runs the runtime's Ready loop one step
// at a time so that a test can hold back persistence, advance() or any message.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "synod/raft/raw_node.h"
#include "synod/raft/testing/cluster.h"

namespace synod::raft {

// Readable names in assertion failures.
inline void PrintTo(Role role, std::ostream* os) { *os << to_string(role); }
inline void PrintTo(RaftStatus status, std::ostream* os) { *os << to_string(status); }
inline void PrintTo(ProgressState state, std::ostream* os) { *os << to_string(state); }
inline void PrintTo(MessageType type, std::ostream* os) { *os << to_string(type); }

}  // namespace synod::raft

namespace synod::raft::unit {

inline Config make_config(NodeId id, bool pre_vote = false) {
  Config c;
  c.id = id;
  c.election_ticks = 10;
  c.heartbeat_ticks = 1;
  c.pre_vote = pre_vote;
  c.check_quorum = true;
  c.seed = 42;
  return c;
}

// One member with its own storage, driven by hand.
struct Member {
  explicit Member(const Config& config, const std::vector<NodeId>& voters,
                  const std::vector<NodeId>& learners = {})
      : config(config) {
    storage.bootstrap(voters, learners);
    restart();
  }

  void restart() {
    std::string error;
    node = RawNode::create(config, storage, &error);
    if (!node) ADD_FAILURE() << "create failed: " << error;
  }

  // Step 2 of the runtime loop: makes the Ready durable.
  void persist(const Ready& rd) {
    if (rd.snapshot) storage.apply_snapshot(*rd.snapshot);
    if (!rd.entries.empty()) storage.append(rd.entries);
    if (rd.hard_state) storage.set_hard_state(*rd.hard_state);
  }

  // The whole loop for one Ready; returns every message it allowed out, in send order.
  std::vector<Message> drain() {
    std::vector<Message> out;
    while (node->has_ready()) {
      Ready rd = node->ready();
      persist(rd);
      for (auto& m : rd.messages) out.push_back(std::move(m));
      for (auto& m : rd.messages_after_persist) out.push_back(std::move(m));
      for (auto& r : rd.read_states) read_states.push_back(std::move(r));
      for (auto& e : rd.committed_entries) applied.push_back(e);
      node->advance();
    }
    return out;
  }

  Config config;
  MemoryLogStorage storage;
  std::unique_ptr<RawNode> node;
  std::vector<ReadState> read_states;
  std::vector<Entry> applied;
};

// Delivers messages among hand-driven members, and their answers, until all is quiet.
// Members in `down` neither receive nor answer.
inline void settle(const std::vector<Member*>& members, std::vector<Message> pending = {},
                   const std::vector<NodeId>& down = {}) {
  auto find = [&](NodeId id) -> Member* {
    if (std::find(down.begin(), down.end(), id) != down.end()) return nullptr;
    for (Member* m : members) {
      if (m->config.id == id) return m;
    }
    return nullptr;
  };
  for (int round = 0; round < 1000; ++round) {
    for (Member* m : members) {
      if (find(m->config.id) == nullptr) continue;
      for (auto& msg : m->drain()) pending.push_back(std::move(msg));
    }
    if (pending.empty()) return;
    for (const auto& msg : std::exchange(pending, {})) {
      if (Member* to = find(msg.to)) to->node->step(msg);
    }
  }
  ADD_FAILURE() << "members did not settle";
}

inline Message make_message(MessageType type, NodeId from, NodeId to, Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

inline Entry make_entry(Index index, Term term, std::string data = {}) {
  Entry e;
  e.index = index;
  e.term = term;
  e.data = Bytes(std::move(data));
  return e;
}

inline ConfState conf_of(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  ConfState c;
  c.voters = std::move(voters);
  c.learners = std::move(learners);
  return c;
}

inline std::vector<Message> filter(const std::vector<Message>& msgs, MessageType type,
                                   NodeId to = kNoNode) {
  std::vector<Message> out;
  for (const auto& m : msgs) {
    if (m.type == type && (to == kNoNode || m.to == to)) out.push_back(m);
  }
  return out;
}

inline std::size_t count_in_flight(testing::Cluster& c, MessageType type, NodeId from, NodeId to) {
  return static_cast<std::size_t>(
      std::count_if(c.in_flight().begin(), c.in_flight().end(), [&](const auto& f) {
        return f.message.type == type && f.message.from == from && f.message.to == to;
      }));
}

// Delivers the first in-flight message matching (type, from, to); false if none.
inline bool deliver_one(testing::Cluster& c, MessageType type, NodeId from, NodeId to) {
  for (std::size_t i = 0; i < c.in_flight().size(); ++i) {
    const Message& m = c.in_flight()[i].message;
    if (m.type == type && m.from == from && m.to == to) {
      c.deliver(i);
      return true;
    }
  }
  return false;
}

// Drops every in-flight message matching the predicate.
template <typename Pred>
void drop_if(testing::Cluster& c, Pred pred) {
  for (std::size_t i = c.in_flight().size(); i-- > 0;) {
    if (pred(c.in_flight()[i].message)) c.drop(i);
  }
}

// Time passes on a working network: every node ticks, then everything is delivered.
inline void run_ticks(testing::Cluster& c, int ticks) {
  for (int i = 0; i < ticks; ++i) {
    c.tick_all();
    c.stabilize();
  }
}

inline std::optional<PeerStatus> peer_status(const RawNode& leader, NodeId peer) {
  for (const auto& p : leader.state().peers) {
    if (p.id == peer) return p;
  }
  return std::nullopt;
}

}  // namespace synod::raft::unit
