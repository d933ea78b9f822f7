// A group of RawNodes joined by a simulated network, all in one thread: the harness for
// scenario tests, the randomized test, the core benchmark and the demo.
//
// Each node has a MemoryLogStorage and a toy state machine (a running digest of what it
// applied). Processing a node's Ready persists it, queues its messages on the network and
// applies committed entries, exactly in the order RawNode documents. The network is a
// list of in-flight messages that the caller delivers, drops, duplicates or reorders.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "synod/raft/raw_node.h"

namespace synod::raft::testing {

// What one node applied, in order.
struct AppliedEntry {
  Index index = 0;
  Term term = 0;
  EntryType type = EntryType::Normal;
  std::string data;
};

struct ClusterOptions {
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  bool lease_reads = false;
  std::size_t max_append_bytes = 1 << 20;
  std::size_t max_inflight_messages = 256;
  std::size_t max_inflight_bytes = 0;
  std::size_t max_uncommitted_bytes = 0;
  std::uint64_t seed = 1;
  // Keep every applied entry per node, and every sent message (tests); off for benchmarks.
  bool record_applied = true;
  bool record_sent = true;
  // Fold every applied payload into the state digest (tests); off for benchmarks of the
  // core alone, where hashing payloads would dominate the cost.
  bool digest_applied = true;
};

class Cluster {
 public:
  // Nodes `voters` (and `learners`) all start from the same bootstrap configuration.
  explicit Cluster(std::vector<NodeId> voters, ClusterOptions options = {},
                   std::vector<NodeId> learners = {});
  ~Cluster();

  // --- nodes ------------------------------------------------------------------
  RawNode& node(NodeId id);
  // What the node has persisted (survives crash()).
  const MemoryLogStorage& storage(NodeId id) const;
  MemoryLogStorage& storage(NodeId id);
  bool is_up(NodeId id) const;
  std::vector<NodeId> ids() const;
  // Adds a node that starts with an empty log and no configuration: it learns both from
  // the leader (for membership-change tests).
  void add_empty_node(NodeId id);
  // Crash: the node loses everything not yet persisted (its unprocessed Ready and its
  // in-memory state). Messages to it are dropped while it is down.
  void crash(NodeId id);
  // Restart from what its storage holds.
  void restart(NodeId id);

  // --- driving ----------------------------------------------------------------
  void tick(NodeId id);
  void tick_all();
  // Persists, sends and applies the node's pending Ready; returns false if none.
  bool process_ready(NodeId id);
  // Processes every up node's Ready until none has one (bounded).
  void process_all();
  // Delivers every in-flight message (and the replies they cause) until the network is
  // quiet, processing Readies along the way. Bounded; returns false if it did not settle.
  bool stabilize(int max_rounds = 10'000);
  // Ticks `id` until it campaigns, then stabilizes; returns whether it became leader.
  bool elect(NodeId id);
  // The node that leads in the highest term among up nodes, or kNoNode.
  NodeId leader() const;

  // --- proposals and reads ----------------------------------------------------
  ProposeResult propose(NodeId id, std::string data, std::uint32_t tag = 0);
  ProposeResult propose_batch(NodeId id, const std::vector<std::string>& data);
  ProposeResult propose_conf_change(NodeId id, const ConfChange& change);
  const std::vector<AppliedEntry>& applied(NodeId id) const;
  // Applied Normal entries with a non-empty payload, as strings.
  std::vector<std::string> applied_data(NodeId id) const;
  std::vector<ReadState> take_read_states(NodeId id);
  // Highest index the node's state machine reflects.
  Index applied_index(NodeId id) const;
  // Digest of the node's state machine at applied_index(id).
  std::uint64_t state_digest(NodeId id) const;
  // Snapshots the node's state at its applied index and compacts its log up to
  // `keep_entries` entries behind that.
  void compact(NodeId id, Index keep_entries = 0);

  // --- network ----------------------------------------------------------------
  struct InFlight {
    Message message;
    std::uint64_t sequence = 0;
  };
  std::vector<InFlight>& in_flight() { return in_flight_; }
  // Delivers in_flight()[i] (removing it) and returns the message delivered.
  Message deliver(std::size_t i);
  void drop(std::size_t i);
  void duplicate(std::size_t i);
  // Blocks delivery between two nodes (both directions) until healed.
  void cut(NodeId a, NodeId b);
  void isolate(NodeId id);
  // Splits the nodes into groups that cannot talk to each other.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void heal();
  bool link_up(NodeId from, NodeId to) const;
  // Every message that left a node, in order (for scripted tests that inspect traffic).
  const std::vector<Message>& sent_log() const { return sent_log_; }
  void clear_sent_log() { sent_log_.clear(); }
  // Called for each message sent, before it enters the network (to count or inspect).
  std::function<void(const Message&)> on_send;

 private:
  struct Slot;
  Slot& slot(NodeId id);
  const Slot& slot(NodeId id) const;
  Config make_config(NodeId id, Index applied) const;
  void enqueue(Message m);
  void apply(Slot& s, const Entry& e);

  ClusterOptions options_;
  std::map<NodeId, std::unique_ptr<Slot>> slots_;
  std::vector<InFlight> in_flight_;
  std::uint64_t next_sequence_ = 0;
  std::set<std::pair<NodeId, NodeId>> cut_links_;
  std::vector<Message> sent_log_;
};

}  // namespace synod::raft::testing
