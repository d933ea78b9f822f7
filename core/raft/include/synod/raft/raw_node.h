// RawNode: one member of one Raft group, as a pure, step-driven state machine.
//
// Inputs: tick(), step(message), propose(...), read_index(...), transfer_leadership(...),
// propose_conf_change(...). Output: a Ready batch. Nothing here blocks, starts threads,
// reads a clock or touches a file; the same inputs always give the same outputs.
//
// The runtime's loop, per Ready:
//   1. send ready.messages at once (they never depend on unpersisted local state);
//   2. persist ready.snapshot, ready.entries and ready.hard_state (durably);
//   3. send ready.messages_after_persist;
//   4. apply ready.committed_entries in order, then call advance().
// The leader appends to its own log in parallel with replication (thesis §10.2.1): its
// Append messages are in `messages`, but its own copy counts toward a quorum only once
// advance() reports it persisted. Followers acknowledge only after persistence, so no
// entry is committed before a quorum holds it durably.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "synod/raft/conf_change.h"
#include "synod/raft/config.h"
#include "synod/raft/storage.h"
#include "synod/raft/types.h"

namespace synod::raft {

enum class Role : std::uint8_t { Follower, PreCandidate, Candidate, Leader };
const char* to_string(Role role);

// Why a request was refused. Ok means accepted (not yet committed).
enum class RaftStatus : std::uint8_t {
  Ok = 0,
  NotLeader,           // another node leads; the result carries the leader hint
  NoLeader,            // no leader is known right now
  TransferInProgress,  // a leadership transfer is under way; retry after it ends
  UncommittedLimit,    // Config::max_uncommitted_bytes would be exceeded
  ConfChangePending,   // an earlier configuration change is not yet committed
  InvalidConfChange,   // the change is not valid from the current configuration
  InvalidArgument,     // empty proposal, unknown node, message not for this node, ...
  ReadLimit,           // Config::max_pending_reads reads are already waiting for answers
};
const char* to_string(RaftStatus status);

struct Proposal {
  std::uint32_t tag = 0;
  Bytes data;
};

struct ProposeResult {
  RaftStatus status = RaftStatus::Ok;
  // On Ok: the entries were appended at [first_index, last_index] in `term`. They are
  // committed when a committed entry with that index has that term; if the index is
  // committed with another term, the proposal was lost to a leader change.
  Index first_index = 0;
  Index last_index = 0;
  Term term = 0;
  // On NotLeader: the node believed to lead.
  NodeId leader_hint = kNoNode;
  // On InvalidConfChange / InvalidArgument: why.
  std::string error;
};

struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::Follower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// A completed ReadIndex request: once the host has applied through `index`, a read of
// its state machine is linearizable.
struct ReadState {
  Index index = 0;
  std::string context;
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

enum class ProgressState : std::uint8_t { Probe, Replicate, Snapshot };
const char* to_string(ProgressState state);

struct PeerStatus {
  NodeId id = kNoNode;
  Index match = 0;
  Index next = 0;
  ProgressState state = ProgressState::Probe;
  bool learner = false;
  bool recently_active = false;
  std::size_t inflight_messages = 0;
  std::size_t inflight_bytes = 0;
};

// What a host or an operator sees of one member. RawNode::state() fills every field;
// RawNode::summary() leaves `conf` and `peers` empty.
struct RaftState {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  Index applied = 0;
  Index first_index = 0;
  Index last_index = 0;
  ConfState conf;
  NodeId transfer_target = kNoNode;
  std::size_t uncommitted_bytes = 0;
  // ReadIndex requests held (see Config::max_pending_reads).
  std::size_t pending_reads = 0;
  // Leader only: one entry per member, including this node.
  std::vector<PeerStatus> peers;
};

struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Message> messages_after_persist;
  std::vector<Entry> committed_entries;
  std::vector<ReadState> read_states;
  // True when hard state, entries or a snapshot must reach disk before step 3.
  bool must_sync = false;

  bool empty() const {
    return !soft_state && !hard_state && !snapshot && entries.empty() && messages.empty() &&
           messages_after_persist.empty() && committed_entries.empty() && read_states.empty();
  }
};

class Raft;

class RawNode {
 public:
  // Builds a node from its configuration and the state already in `storage` (hard state,
  // snapshot, log). `storage` must outlive the node. Returns nullptr and sets `error`
  // when the configuration or the stored state is unusable.
  static std::unique_ptr<RawNode> create(const Config& config, LogStorage& storage,
                                         std::string* error = nullptr);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances logical time by one tick: election and heartbeat timers.
  void tick();
  // Feeds a message received from another member. Returns InvalidArgument for a message
  // not addressed to this node or without a sender; every other message is accepted
  // (stale ones are answered or ignored as the protocol says).
  RaftStatus step(const Message& message);
  // Starts an election now (for tests and for hosts that want to pick an initial leader).
  void campaign();

  // Appends entries to the leader's log.
  ProposeResult propose(std::span<const Proposal> proposals);
  ProposeResult propose(Proposal proposal) { return propose(std::span(&proposal, 1)); }
  // Proposes a membership change; it takes effect as soon as it is appended.
  ProposeResult propose_conf_change(const ConfChange& change);
  // Asks for a linearizable read point. The answer arrives as a ReadState carrying
  // `context` in a later Ready. A follower forwards the request to the leader. No answer
  // comes when leadership changes first or when none comes within one to two election
  // timeouts (the request is then forgotten; a late answer is ignored): the caller needs
  // its own deadline. Refused with ReadLimit when Config::max_pending_reads requests are
  // already waiting.
  ProposeResult read_index(std::string context);
  // Hands leadership to `target` (thesis §3.10). While it is under way, proposals are
  // refused with TransferInProgress; it is abandoned after an election timeout.
  ProposeResult transfer_leadership(NodeId target);

  // The transport could not reach `peer`: stop pipelining to it and probe instead.
  void report_unreachable(NodeId peer);
  // The runtime finished (or failed) sending a snapshot to `peer`.
  void report_snapshot(NodeId peer, bool success);

  // Holds committed entries back while `paused`: has_ready() does not become true because
  // of committed but unapplied entries, and ready() carries no committed_entries. Messages,
  // entries to persist, hard state (with its commit index), snapshots and read states
  // still flow, so replication and elections go on. Unpausing lets the held entries flow
  // again from the first one not yet handed out. The runtime pauses a partition while the
  // host's event queue is full: committed entries then wait in the log instead of being
  // dropped or piling up in memory outside it. A leader's uncommitted-bytes budget is
  // released only as committed entries are handed out, so a long pause also pushes back
  // on proposals (UncommittedLimit).
  void pause_applying(bool paused);

  bool has_ready() const;
  // Collects the pending work. Must be followed by advance() before the next ready().
  Ready ready();
  // Everything in the last Ready was persisted and its committed entries handed to the
  // host for applying.
  void advance();

  // The full status, with the configuration and (on a leader) every peer's progress. It
  // copies the configuration vectors and builds one PeerStatus per member: meant for
  // status calls, not for every cycle of the runtime.
  RaftState state() const;
  // state() without `conf` and `peers` (left empty), so it allocates nothing: the runtime
  // reads it every cycle for term, role, leader, commit and applied indexes.
  RaftState summary() const;
  // The configuration in force at `index` (for the metadata of a snapshot taken there).
  // Known from the applied index onwards; nullopt below it or past the log.
  std::optional<ConfState> conf_state_at(Index index) const;
  Role role() const;
  NodeId leader() const;
  Term term() const;
  Index commit_index() const;
  NodeId id() const;

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  std::unique_ptr<Raft> raft_;
};

}  // namespace synod::raft
