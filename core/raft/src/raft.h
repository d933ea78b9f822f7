// The Raft state machine behind RawNode. Internal: hosts use RawNode.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "progress.h"
#include "quorum.h"
#include "raft_log.h"
#include "synod/raft/raw_node.h"

namespace synod::raft {

class Raft {
 public:
  enum class CampaignKind { PreVote, Vote, Transfer };

  Raft(const Config& config, LogStorage& storage);
  // Loads configuration history from the log; false (with `error`) for unusable state.
  bool load(std::string& error);

  void tick();
  RaftStatus step(const Message& m);
  void campaign(CampaignKind kind);
  // Starts an election as the timer would (with pre-vote when configured).
  void campaign_now() { campaign(config_.pre_vote ? CampaignKind::PreVote : CampaignKind::Vote); }
  ProposeResult propose(std::span<const Proposal> proposals);
  ProposeResult propose_conf_change(const ConfChange& change);
  ProposeResult read_index(std::string context);
  ProposeResult transfer_leadership(NodeId target);
  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, bool success);

  void pause_applying(bool paused) { applying_paused_ = paused; }
  bool has_ready() const;
  Ready ready();
  void advance();

  RaftState state() const;
  RaftState summary() const;
  std::optional<ConfState> conf_state_at(Index index) const;
  Role role() const { return role_; }
  NodeId leader() const { return lead_; }
  Term term() const { return term_; }
  NodeId id() const { return config_.id; }
  Index commit_index() const { return log_.committed(); }

 private:
  // --- roles ------------------------------------------------------------------
  void become_follower(Term term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  // A candidate whose own vote is a quorum leads only once its term and vote are durable:
  // a leader of a term it could forget might hand out two different entries at one index.
  void maybe_win_with_own_vote();
  void reset(Term term);
  void reset_randomized_election_timeout();
  bool promotable() const;
  bool past_election_timeout() const;

  // --- messages ---------------------------------------------------------------
  void send(Message m);
  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void record_vote(NodeId from, bool granted);
  VoteResult tally_votes() const;

  // --- replication ------------------------------------------------------------
  bool maybe_send_append(NodeId to, bool send_if_empty);
  bool maybe_send_snapshot(NodeId to, Progress& pr);
  void broadcast_append();
  void broadcast_heartbeat(const std::string& round);
  void send_timeout_now(NodeId to);
  bool maybe_commit();
  void on_commit_advanced();
  bool quorum_active();
  bool committed_entry_in_current_term() const;
  void append_as_leader(std::vector<Entry> entries);
  void abort_transfer() { lead_transferee_ = kNoNode; }

  // --- configuration ----------------------------------------------------------
  // Records configuration entries among `entries` (already in the log).
  void track_conf_entries(const std::vector<Entry>& entries);
  // Drops configuration entries at or above `index` after the log was truncated there.
  void roll_back_conf_to(Index index);
  void prune_conf_history();
  void apply_conf(const ConfState& conf);
  const ConfState& conf() const;
  Index last_conf_index() const;
  bool is_voter(NodeId id) const;
  bool is_member(NodeId id) const;

  // --- reads ------------------------------------------------------------------
  struct ReadRequest {
    NodeId from;  // this node, or the follower that forwarded it
    std::string context;
    std::uint64_t since;  // ticks_ when it arrived
  };
  // Leader: serves, queues or (beyond Config::max_pending_reads) refuses the request;
  // false when refused.
  bool handle_read_index_request(ReadRequest request);
  void release_reads_through(std::uint64_t round);
  void respond_to_read(NodeId from, Index index, std::string context);
  void handle_read_index_response(const Message& m);
  std::size_t pending_read_count() const;
  // Forgets reads that have waited for an election timeout or more: their answer is not
  // coming (a follower's leader is gone or cut off, a leader has lost its quorum).
  void drop_stale_reads();

  Config config_;
  LogStorage& storage_;
  RaftLog log_;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  Role role_ = Role::Follower;
  NodeId lead_transferee_ = kNoNode;

  // Ticks since the node started; never reset (it ages read requests).
  std::uint64_t ticks_ = 0;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  std::uint64_t rng_state_ = 0;

  // Configuration in force: base (the snapshot's) plus every configuration entry above it.
  ConfState base_conf_;
  Index base_conf_index_ = 0;
  std::vector<std::pair<Index, ConfState>> conf_history_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
  // A leader accepts one configuration change at a time: none while this is > commit.
  Index pending_conf_index_ = 0;
  std::size_t uncommitted_bytes_ = 0;

  // ReadIndex (thesis §6.4): each round is confirmed by a heartbeat quorum.
  struct PendingRead {
    std::uint64_t round;
    Index index;
    ReadRequest request;
  };
  std::deque<PendingRead> pending_reads_;
  std::map<std::uint64_t, std::map<NodeId, bool>> read_acks_;
  std::uint64_t next_read_round_ = 1;
  // Reads that arrived before this leader committed an entry of its term.
  std::vector<ReadRequest> reads_waiting_for_commit_;
  // Follower: reads forwarded to the leader and not yet answered, by context, with the
  // tick each was sent at. An answer to none of them (forgotten, or from before a
  // restart) is ignored.
  std::multimap<std::string, std::uint64_t> forwarded_reads_;

  // See RawNode::pause_applying(): committed entries stay in the log while set.
  bool applying_paused_ = false;
  std::vector<Message> msgs_;
  std::vector<Message> msgs_after_persist_;
  std::vector<ReadState> read_states_;
  SoftState prev_soft_;
  HardState prev_hard_;
  // What the outstanding Ready handed out, acknowledged by advance().
  struct Handed {
    bool pending = false;
    Index last_entry_index = 0;
    Term last_entry_term = 0;
    Index snapshot_index = 0;
    Index committed_through = 0;
    std::optional<HardState> hard_state;
  } handed_;
  // The hard state known to be durable (as of the last advance()).
  HardState persisted_hard_;
};

}  // namespace synod::raft
