#include "raft.h"

#include <algorithm>

#include "planted_bugs.h"
#include "quorum.h"

namespace synod::raft {
namespace {

constexpr std::string_view kTransferContext = "transfer";

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::size_t total_bytes(const std::vector<Entry>& entries) {
  std::size_t total = 0;
  for (const auto& e : entries) total += e.byte_size();
  return total;
}

// Messages that vouch for local state (a vote cast, entries appended, a term adopted by
// a candidate) may leave only once that state is durable.
bool must_wait_for_persist(MessageType type) {
  return type == MessageType::AppendResp || type == MessageType::VoteResp ||
         type == MessageType::PreVoteResp || type == MessageType::Vote;
}

ProposeResult refused(RaftStatus status, std::string error = {}) {
  ProposeResult r;
  r.status = status;
  r.error = std::move(error);
  return r;
}

}  // namespace

Raft::Raft(const Config& config, LogStorage& storage)
    : config_(config),
      storage_(storage),
      log_(storage),
      rng_state_(config.seed ^ (config.id * 0x2545f4914f6cdd1dULL)) {}

bool Raft::load(std::string& error) {
  const HardState hs = storage_.hard_state();
  const SnapshotMeta snap = storage_.snapshot_meta();
  const Index first = storage_.first_index();
  const Index last = storage_.last_index();
  if (first > snap.index + 1 || snap.index > last) {
    error = "stored snapshot at index " + std::to_string(snap.index) +
            " does not fit the stored log [" + std::to_string(first) + ", " + std::to_string(last) +
            "]";
    return false;
  }
  // A snapshot only ever holds committed state.
  const Index commit = std::max(hs.commit, snap.index);
  if (commit > last) {
    error = "stored commit index " + std::to_string(commit) + " is beyond the last index " +
            std::to_string(last);
    return false;
  }
  base_conf_ = snap.conf_state;
  base_conf_index_ = snap.index;
  // Configuration entries after the snapshot are in force from the moment they were
  // appended, committed or not.
  std::vector<Entry> listed;
  const bool storage_lists = storage_.conf_entries(snap.index + 1, last + 1, listed);
  if (storage_lists) track_conf_entries(listed);
  for (Index lo = snap.index + 1; !storage_lists && lo <= last;) {
    std::vector<Entry> page;
    if (storage_.entries(lo, last + 1, 8 << 20, page) != StorageError::None || page.empty()) {
      error = "cannot read log entries from index " + std::to_string(lo);
      return false;
    }
    track_conf_entries(page);
    lo = page.back().index + 1;
  }
  term_ = hs.term;
  vote_ = hs.vote;
  log_.commit_to(commit);
  log_.set_applied(std::clamp(config_.applied, first - 1, commit));
  prev_hard_ = {term_, vote_, log_.committed()};
  persisted_hard_ = hs;
  apply_conf(conf());
  become_follower(term_, kNoNode);
  prev_soft_ = {lead_, role_};
  return true;
}

// --- roles ----------------------------------------------------------------------

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_transfer();
  votes_.clear();
  const Index next = log_.last_index() + 1;
  for (auto& [id, pr] : progress_) {
    const bool learner = pr.learner;
    pr = Progress(next, config_.max_inflight_messages, config_.max_inflight_bytes, learner);
    if (id == config_.id) pr.match = log_.stable_last_index();
  }
  pending_conf_index_ = 0;
  uncommitted_bytes_ = 0;
  pending_reads_.clear();
  read_acks_.clear();
  reads_waiting_for_commit_.clear();
  forwarded_reads_.clear();
}

void Raft::reset_randomized_election_timeout() {
  const auto spread = static_cast<std::uint64_t>(config_.election_ticks);
  randomized_election_timeout_ =
      config_.election_ticks + static_cast<int>(splitmix64(rng_state_) % spread);
}

void Raft::become_follower(Term term, NodeId lead) {
  reset(term);
  lead_ = lead;
  role_ = Role::Follower;
}

void Raft::become_pre_candidate() {
  // A pre-candidate changes neither term nor vote: a failed pre-vote leaves no trace.
  role_ = Role::PreCandidate;
  votes_.clear();
  // A pre-candidate follows no leader: answers to reads it forwarded would be ignored.
  forwarded_reads_.clear();
  lead_ = kNoNode;
  election_elapsed_ = 0;
  reset_randomized_election_timeout();
}

void Raft::become_candidate() {
  reset(term_ + 1);
  vote_ = config_.id;
  role_ = Role::Candidate;
}

void Raft::become_leader() {
  reset(term_);
  lead_ = config_.id;
  role_ = Role::Leader;
  if (auto it = progress_.find(config_.id); it != progress_.end()) {
    it->second.become_replicate();
    it->second.match = log_.stable_last_index();
    it->second.recently_active = true;
  }
  // Uncommitted entries of earlier terms may hold a configuration change: allow no new
  // one until everything up to here is committed.
  pending_conf_index_ = log_.last_index();
  // The no-op entry of this term: committing it commits everything before it (Figure 8)
  // and lets ReadIndex serve.
  Entry noop;
  noop.term = term_;
  append_as_leader({noop});
  broadcast_append();
}

void Raft::maybe_win_with_own_vote() {
  if (role_ != Role::Candidate || persisted_hard_.term != term_ ||
      persisted_hard_.vote != config_.id) {
    return;
  }
  if (tally_votes() == VoteResult::Won) become_leader();
}

bool Raft::promotable() const {
  if (is_voter(config_.id)) return true;
  // Thesis §4.2.2: until its latest configuration commits, a voter of the configuration
  // before it may still be needed to elect a leader (it may hold the only up-to-date log,
  // e.g. a leader that removed itself). Its own vote counts only where it is a voter.
  if (conf_history_.empty() || last_conf_index() <= log_.committed()) return false;
  const ConfState& previous =
      conf_history_.size() >= 2 ? conf_history_[conf_history_.size() - 2].second : base_conf_;
  return contains(previous.voters, config_.id) || contains(previous.voters_outgoing, config_.id);
}

// --- timers ---------------------------------------------------------------------

void Raft::tick() {
  ++ticks_;
  // Sweeping only at election-timeout boundaries keeps the scan off most ticks; a read is
  // then forgotten after one to two election timeouts, in any role.
  if (ticks_ % static_cast<std::uint64_t>(config_.election_ticks) == 0) drop_stale_reads();
  if (role_ == Role::Leader) {
    ++heartbeat_elapsed_;
    ++election_elapsed_;
    if (election_elapsed_ >= config_.election_ticks) {
      election_elapsed_ = 0;
      if (config_.check_quorum && !quorum_active()) {
        become_follower(term_, kNoNode);
        return;
      }
      // A transfer that has not finished within an election timeout is abandoned.
      abort_transfer();
    }
    if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      broadcast_heartbeat({});
    }
    return;
  }
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    campaign(config_.pre_vote ? CampaignKind::PreVote : CampaignKind::Vote);
  }
}

bool Raft::past_election_timeout() const { return election_elapsed_ >= config_.election_ticks; }

void Raft::campaign(CampaignKind kind) {
  // A sitting leader that campaigned would abandon its own term's leadership.
  if (!promotable() || role_ == Role::Leader) return;
  const bool pre = kind == CampaignKind::PreVote;
  if (pre) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
  record_vote(config_.id, true);
  if (tally_votes() == VoteResult::Won) {
    // A group of one. The vote completes in advance(), once the new term is durable.
    if (pre) campaign(CampaignKind::Vote);
    return;
  }
  const Term term = pre ? term_ + 1 : term_;
  std::vector<NodeId> voters = conf().voters;
  for (NodeId id : conf().voters_outgoing) {
    if (!contains(voters, id)) voters.push_back(id);
  }
  for (NodeId id : voters) {
    if (id == config_.id) continue;
    Message m;
    m.type = pre ? MessageType::PreVote : MessageType::Vote;
    m.to = id;
    m.term = term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (kind == CampaignKind::Transfer) m.context = kTransferContext;
    send(std::move(m));
  }
}

void Raft::record_vote(NodeId from, bool granted) { votes_.emplace(from, granted); }

VoteResult Raft::tally_votes() const {
  return joint_vote(conf(), [this](NodeId id) -> std::optional<bool> {
    auto it = votes_.find(id);
    if (it == votes_.end()) return std::nullopt;
    return it->second;
  });
}

// --- stepping -------------------------------------------------------------------

void Raft::send(Message m) {
  m.from = config_.id;
  // Vote requests and all responses carry their own term; everything else this term.
  if (m.term == 0) m.term = term_;
  if (must_wait_for_persist(m.type)) {
    msgs_after_persist_.push_back(std::move(m));
  } else {
    msgs_.push_back(std::move(m));
  }
}

RaftStatus Raft::step(const Message& m) {
  if (m.to != config_.id || m.from == kNoNode || m.from == config_.id) {
    return RaftStatus::InvalidArgument;
  }
  if (m.term > term_) {
    if (m.type == MessageType::Vote || m.type == MessageType::PreVote) {
      // Within a leader's lease, a vote request is ignored outright: a node that was cut
      // off must not depose a healthy leader (thesis §4.2.3). A transfer overrides this.
      const bool forced = m.context == kTransferContext;
      const bool in_lease = config_.check_quorum && lead_ != kNoNode && !past_election_timeout();
      if (!forced && in_lease) return RaftStatus::Ok;
    }
    if (m.type == MessageType::PreVote) {
      // A pre-vote does not move our term.
    } else if (m.type == MessageType::PreVoteResp && !m.reject) {
      // Granted pre-votes carry the term we would campaign for; the vote moves it.
    } else if (m.type == MessageType::Append || m.type == MessageType::Heartbeat ||
               m.type == MessageType::InstallSnapshot) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if (m.type == MessageType::Append || m.type == MessageType::Heartbeat) {
      // A deposed leader cut off from the group learns our term from this reply and steps
      // down; without it, pre-vote could keep the group from ever electing a new leader, and
      // a node that may not campaign (a learner, or a voter only in the leader's newer
      // configuration) would ignore the leader forever.
      Message resp;
      resp.type = MessageType::AppendResp;
      resp.to = m.from;
      send(std::move(resp));
    } else if (m.type == MessageType::PreVote) {
      Message resp;
      resp.type = MessageType::PreVoteResp;
      resp.to = m.from;
      resp.reject = true;
      send(std::move(resp));
    }
    return RaftStatus::Ok;
  }

  if (m.type == MessageType::Vote || m.type == MessageType::PreVote) {
    handle_vote_request(m);
    return RaftStatus::Ok;
  }
  switch (role_) {
    case Role::Leader:
      step_leader(m);
      break;
    case Role::Candidate:
    case Role::PreCandidate:
      step_candidate(m);
      break;
    case Role::Follower:
      step_follower(m);
      break;
  }
  return RaftStatus::Ok;
}

void Raft::handle_vote_request(const Message& m) {
  const bool is_pre = m.type == MessageType::PreVote;
  const bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) || (is_pre && m.term > term_);
  Message resp;
  resp.type = is_pre ? MessageType::PreVoteResp : MessageType::VoteResp;
  resp.to = m.from;
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
    // Granted answers carry the candidate's term so that it counts them.
    resp.term = m.term;
    if (!is_pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
  }
  send(std::move(resp));
}

void Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::AppendResp:
      handle_append_response(m);
      break;
    case MessageType::HeartbeatResp:
      handle_heartbeat_response(m);
      break;
    case MessageType::ReadIndex:
      // Refused over the limit: dropped, and the follower's caller times out.
      handle_read_index_request({m.from, m.context, ticks_});
      break;
    default:
      // Stale vote answers, or messages no leader of this term should receive.
      break;
  }
}

void Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::Append:
      become_follower(m.term, m.from);
      handle_append(m);
      break;
    case MessageType::Heartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      break;
    case MessageType::InstallSnapshot:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      break;
    case MessageType::PreVoteResp:
    case MessageType::VoteResp: {
      const bool mine = (m.type == MessageType::PreVoteResp) == (role_ == Role::PreCandidate);
      if (!mine) break;
      record_vote(m.from, !m.reject);
      switch (tally_votes()) {
        case VoteResult::Won:
          if (role_ == Role::PreCandidate) {
            campaign(CampaignKind::Vote);
          } else {
            become_leader();
          }
          break;
        case VoteResult::Lost:
          become_follower(term_, kNoNode);
          break;
        case VoteResult::Pending:
          break;
      }
      break;
    }
    default:
      break;
  }
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::Append:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      break;
    case MessageType::Heartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      break;
    case MessageType::InstallSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot(m);
      break;
    case MessageType::TimeoutNow:
      campaign(CampaignKind::Transfer);
      break;
    case MessageType::ReadIndexResp:
      handle_read_index_response(m);
      break;
    default:
      break;
  }
}

void Raft::handle_append(const Message& m) {
  Message resp;
  resp.type = MessageType::AppendResp;
  resp.to = m.from;
  if (m.index < log_.committed()) {
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  RaftLog::AppendOutcome outcome;
  auto last_new = log_.maybe_append(m.index, m.log_term, m.entries, outcome);
  if (outcome.conflicts_with_commit) return;  // impossible from a correct leader; drop it
  if (last_new) {
    if (outcome.truncated_at != 0) roll_back_conf_to(outcome.truncated_at);
    if (outcome.appended_from != 0) {
      std::vector<Entry> fresh;
      for (const auto& e : m.entries) {
        if (e.index >= outcome.appended_from && e.type == EntryType::ConfChange) {
          fresh.push_back(e);
        }
      }
      track_conf_entries(fresh);
    }
    log_.commit_to(SYNOD_PLANTED("apply-uncommitted") ? *last_new : std::min(m.commit, *last_new));
    resp.index = *last_new;
    send(std::move(resp));
    return;
  }
  // Refused: give the leader a hint that lets it skip a whole term of mismatches.
  const Index hint_index = std::min(m.index, log_.last_index());
  const Index hint = log_.find_conflict_by_term(hint_index, m.log_term);
  resp.reject = true;
  resp.index = m.index;
  resp.reject_hint = hint;
  resp.log_term = log_.term(hint).value_or(0);
  send(std::move(resp));
}

void Raft::handle_heartbeat(const Message& m) {
  Message resp;
  resp.type = MessageType::HeartbeatResp;
  resp.to = m.from;
  resp.context = m.context;
  if (m.commit <= log_.last_index()) {
    log_.commit_to(m.commit);
  } else {
    // A heartbeat's commit is no higher than what this follower acknowledged holding, so
    // this log lost acknowledged entries (a wiped disk). The leader's record of it is
    // wrong and no Append would correct it: say how far the log really reaches.
    resp.reject = true;
    resp.reject_hint = log_.last_index();
  }
  send(std::move(resp));
}

void Raft::handle_snapshot(const Message& m) {
  Message resp;
  resp.type = MessageType::AppendResp;
  resp.to = m.from;
  if (!m.snapshot) return;
  const Snapshot& snap = *m.snapshot;
  if (snap.meta.index <= log_.committed()) {
    resp.index = log_.committed();
  } else if (log_.match_term(snap.meta.index, snap.meta.term)) {
    // We already hold the snapshot's last entry: just move the commit forward.
    log_.commit_to(snap.meta.index);
    resp.index = log_.committed();
  } else {
    log_.restore(snap);
    base_conf_ = snap.meta.conf_state;
    base_conf_index_ = snap.meta.index;
    conf_history_.clear();
    apply_conf(base_conf_);
    resp.index = log_.last_index();
  }
  send(std::move(resp));
}

// --- leader ---------------------------------------------------------------------

void Raft::handle_append_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recently_active = true;
  if (m.reject) {
    // Skip back past every entry of a term the follower cannot share with us.
    Index probe = m.reject_hint;
    if (m.log_term > 0) probe = log_.find_conflict_by_term(m.reject_hint, m.log_term);
    if (pr.maybe_decrease(m.index, probe)) {
      if (pr.state == ProgressState::Replicate) pr.become_probe();
      maybe_send_append(m.from, true);
    }
    return;
  }
  const bool was_paused = pr.paused();
  // An ack at the known match point still answers a probe: the follower is found.
  const bool probe_answered = pr.state == ProgressState::Probe && m.index == pr.match;
  if (!pr.maybe_update(m.index) && !probe_answered) return;
  switch (pr.state) {
    case ProgressState::Probe:
      pr.become_replicate();
      break;
    case ProgressState::Snapshot:
      if (pr.match >= pr.pending_snapshot || pr.match + 1 >= log_.first_index()) {
        pr.become_replicate();
      }
      break;
    case ProgressState::Replicate:
      pr.inflights.free_to(m.index);
      break;
  }
  if (maybe_commit()) {
    on_commit_advanced();
    if (role_ != Role::Leader) return;
    broadcast_append();
  } else if (was_paused) {
    // It missed the broadcast that carried the current commit index while paused.
    maybe_send_append(m.from, true);
  }
  // Fill the window: pipelining keeps sending until paused or nothing is left.
  while (role_ == Role::Leader && maybe_send_append(m.from, false)) {
  }
  if (m.from == lead_transferee_ && role_ == Role::Leader &&
      progress_.at(m.from).match == log_.last_index()) {
    send_timeout_now(m.from);
  }
}

void Raft::handle_heartbeat_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recently_active = true;
  pr.probe_sent = false;
  // The follower lost entries it had acknowledged (see handle_heartbeat): replicate to it
  // again from what it holds, with a snapshot if that is compacted away here. A stale or
  // duplicated refusal only costs a probe, which the follower answers with its real match.
  if (m.reject && m.reject_hint < pr.match) pr.lost_log(m.reject_hint);
  // The follower is alive but a full window may hold only lost Appends: free a slot so
  // that replication resumes (a stale next is then corrected by the follower's refusal).
  if (pr.state == ProgressState::Replicate && pr.inflights.full()) {
    pr.inflights.free_first_one();
  }
  if (pr.match < log_.last_index()) maybe_send_append(m.from, true);
  if (m.context.empty() || pending_reads_.empty()) return;
  const std::uint64_t round = std::strtoull(m.context.c_str(), nullptr, 10);
  auto acks = read_acks_.find(round);
  if (acks == read_acks_.end()) return;
  acks->second[m.from] = true;
  const auto& votes = acks->second;
  const VoteResult result = joint_vote(conf(), [&votes](NodeId id) -> std::optional<bool> {
    auto found = votes.find(id);
    if (found == votes.end()) return std::nullopt;
    return true;
  });
  if (result == VoteResult::Won) release_reads_through(round);
}

bool Raft::handle_read_index_request(ReadRequest request) {
  if (!committed_entry_in_current_term()) {
    // The leader does not know the commit index until an entry of its term commits.
    if (pending_read_count() >= config_.max_pending_reads) return false;
    reads_waiting_for_commit_.push_back(std::move(request));
    return true;
  }
  const Index index = log_.committed();
  const bool single_voter =
      conf().voters.size() == 1 && conf().voters_outgoing.empty() && is_voter(config_.id);
  // The lease rests only on answers heard since the last check-quorum round: an answer from
  // the round before may be almost an election timeout old, its sender already free to help
  // elect another leader while this one still passes its next check. A transfer voids the
  // lease too, since the target's campaign overrides the followers' leases. Without a lease
  // the read takes a heartbeat round like any other.
  const bool lease_holds =
      config_.lease_reads && config_.check_quorum && lead_transferee_ == kNoNode &&
      joint_vote(conf(), [this](NodeId id) -> std::optional<bool> {
        auto it = progress_.find(id);
        if (id != config_.id && (it == progress_.end() || !it->second.recently_active)) {
          return std::nullopt;
        }
        return true;
      }) == VoteResult::Won;
  if (single_voter || lease_holds || SYNOD_PLANTED("read-without-quorum")) {
    respond_to_read(request.from, index, std::move(request.context));
    return true;
  }
  // Reads promoted from reads_waiting_for_commit_ were counted already, so this refuses
  // only new requests.
  if (pending_read_count() >= config_.max_pending_reads) return false;
  const std::uint64_t round = next_read_round_++;
  pending_reads_.push_back({round, index, std::move(request)});
  read_acks_[round][config_.id] = true;
  broadcast_heartbeat(std::to_string(round));
  return true;
}

void Raft::release_reads_through(std::uint64_t round) {
  while (!pending_reads_.empty() && pending_reads_.front().round <= round) {
    PendingRead read = std::move(pending_reads_.front());
    pending_reads_.pop_front();
    read_acks_.erase(read.round);
    respond_to_read(read.request.from, read.index, std::move(read.request.context));
  }
}

void Raft::respond_to_read(NodeId from, Index index, std::string context) {
  if (from == config_.id) {
    read_states_.push_back({index, std::move(context)});
    return;
  }
  Message resp;
  resp.type = MessageType::ReadIndexResp;
  resp.to = from;
  resp.index = index;
  resp.context = std::move(context);
  send(std::move(resp));
}

void Raft::handle_read_index_response(const Message& m) {
  auto it = forwarded_reads_.find(m.context);
  if (it == forwarded_reads_.end()) return;
  forwarded_reads_.erase(it);
  read_states_.push_back({m.index, m.context});
}

std::size_t Raft::pending_read_count() const {
  return pending_reads_.size() + reads_waiting_for_commit_.size() + forwarded_reads_.size();
}

void Raft::drop_stale_reads() {
  const auto stale = [this](std::uint64_t since) {
    return ticks_ - since >= static_cast<std::uint64_t>(config_.election_ticks);
  };
  std::erase_if(forwarded_reads_, [&](const auto& read) { return stale(read.second); });
  std::erase_if(reads_waiting_for_commit_,
                [&](const ReadRequest& read) { return stale(read.since); });
  std::erase_if(pending_reads_, [&](const PendingRead& read) {
    if (!stale(read.request.since)) return false;
    read_acks_.erase(read.round);
    return true;
  });
}

bool Raft::committed_entry_in_current_term() const { return log_.term(log_.committed()) == term_; }

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  auto it = progress_.find(to);
  if (it == progress_.end() || to == config_.id) return false;
  Progress& pr = it->second;
  if (pr.paused()) return false;
  const Index prev_index = pr.next - 1;
  const auto prev_term = log_.term(prev_index);
  std::vector<Entry> entries;
  // A probe carries entries too (one message at a time): when it matches, the follower is
  // repaired in the same round trip.
  const StorageError err =
      log_.slice(pr.next, log_.last_index() + 1, config_.max_append_bytes, entries);
  if (!prev_term || err == StorageError::Compacted) return maybe_send_snapshot(to, pr);
  if (entries.empty() && !send_if_empty) return false;
  Message m;
  m.type = MessageType::Append;
  m.to = to;
  m.index = prev_index;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  const Index last = entries.empty() ? prev_index : entries.back().index;
  const std::size_t bytes = total_bytes(entries);
  const bool had_entries = !entries.empty();
  m.entries = std::move(entries);
  pr.sent_append(last, bytes, had_entries);
  send(std::move(m));
  return true;
}

bool Raft::maybe_send_snapshot(NodeId to, Progress& pr) {
  if (!pr.recently_active) return false;
  auto snap = std::make_shared<Snapshot>();
  if (log_.snapshot(*snap) != StorageError::None || snap->is_empty()) return false;
  pr.become_snapshot(snap->meta.index);
  Message m;
  m.type = MessageType::InstallSnapshot;
  m.to = to;
  m.snapshot = std::move(snap);
  send(std::move(m));
  return true;
}

void Raft::broadcast_append() {
  for (auto& [id, pr] : progress_) {
    if (id != config_.id) maybe_send_append(id, true);
  }
}

void Raft::broadcast_heartbeat(const std::string& round) {
  for (auto& [id, pr] : progress_) {
    if (id == config_.id) continue;
    Message m;
    m.type = MessageType::Heartbeat;
    m.to = id;
    // Never tell a follower to commit past what it is known to hold.
    m.commit = std::min(pr.match, log_.committed());
    m.context = round;
    send(std::move(m));
  }
}

void Raft::send_timeout_now(NodeId to) {
  Message m;
  m.type = MessageType::TimeoutNow;
  m.to = to;
  send(std::move(m));
}

bool Raft::maybe_commit() {
  const Index candidate = joint_committed(conf(), [this](NodeId id) -> Index {
    if (SYNOD_PLANTED("commit-without-quorum")) id = config_.id;
    auto it = progress_.find(id);
    return it == progress_.end() ? 0 : it->second.match;
  });
  return log_.maybe_commit(candidate, term_);
}

void Raft::on_commit_advanced() {
  // Pending ReadIndex requests can be served now that this term has a commit.
  if (!reads_waiting_for_commit_.empty() && committed_entry_in_current_term()) {
    auto waiting = std::move(reads_waiting_for_commit_);
    reads_waiting_for_commit_.clear();
    for (auto& read : waiting) handle_read_index_request(std::move(read));
  }
  if (last_conf_index() > log_.committed()) return;
  // The configuration in force is committed.
  if (conf().is_joint() && conf().auto_leave && pending_conf_index_ <= log_.committed()) {
    Entry leave;
    leave.term = term_;
    leave.type = EntryType::ConfChange;
    leave.data = Bytes(encode_conf_change(ConfChange{}));
    pending_conf_index_ = log_.last_index() + 1;
    append_as_leader({leave});
    return;
  }
  if (!is_voter(config_.id)) {
    // A leader outside the committed configuration hands over by stepping down; the
    // remaining voters elect a leader after an election timeout. Tell them the new commit
    // first, or they would learn that their configuration is committed only from the
    // next leader.
    broadcast_append();
    become_follower(term_, kNoNode);
  }
}

bool Raft::quorum_active() {
  const VoteResult result = joint_vote(conf(), [this](NodeId id) -> std::optional<bool> {
    if (id == config_.id) return true;
    auto it = progress_.find(id);
    if (it == progress_.end() || !it->second.recently_active) return std::nullopt;
    return true;
  });
  for (auto& [id, pr] : progress_) {
    if (id != config_.id) pr.recently_active = false;
  }
  return result == VoteResult::Won;
}

void Raft::append_as_leader(std::vector<Entry> entries) {
  Index index = log_.last_index();
  for (auto& e : entries) {
    e.index = ++index;
    e.term = term_;
  }
  std::vector<Entry> conf_entries;
  for (const auto& e : entries) {
    if (e.type == EntryType::ConfChange) conf_entries.push_back(e);
  }
  log_.append(std::move(entries));
  track_conf_entries(conf_entries);
}

// --- proposals ------------------------------------------------------------------

ProposeResult Raft::propose(std::span<const Proposal> proposals) {
  if (role_ != Role::Leader) {
    ProposeResult r = refused(lead_ == kNoNode ? RaftStatus::NoLeader : RaftStatus::NotLeader);
    r.leader_hint = lead_;
    return r;
  }
  if (proposals.empty()) return refused(RaftStatus::InvalidArgument, "no entries to propose");
  if (lead_transferee_ != kNoNode) return refused(RaftStatus::TransferInProgress);
  std::size_t bytes = 0;
  std::vector<Entry> entries;
  entries.reserve(proposals.size());
  for (const auto& p : proposals) {
    Entry e;
    e.tag = p.tag;
    e.data = p.data;
    bytes += e.byte_size();
    entries.push_back(std::move(e));
  }
  // One oversized batch is admitted into an empty budget so that progress stays possible.
  if (config_.max_uncommitted_bytes > 0 && uncommitted_bytes_ > 0 &&
      uncommitted_bytes_ + bytes > config_.max_uncommitted_bytes) {
    return refused(RaftStatus::UncommittedLimit);
  }
  uncommitted_bytes_ += bytes;
  ProposeResult r;
  r.first_index = log_.last_index() + 1;
  r.last_index = log_.last_index() + entries.size();
  r.term = term_;
  append_as_leader(std::move(entries));
  broadcast_append();
  return r;
}

ProposeResult Raft::propose_conf_change(const ConfChange& change) {
  if (role_ != Role::Leader) {
    ProposeResult r = refused(lead_ == kNoNode ? RaftStatus::NoLeader : RaftStatus::NotLeader);
    r.leader_hint = lead_;
    return r;
  }
  if (lead_transferee_ != kNoNode) return refused(RaftStatus::TransferInProgress);
  if (pending_conf_index_ > log_.committed() || last_conf_index() > log_.committed()) {
    return refused(RaftStatus::ConfChangePending);
  }
  auto result = apply_conf_change(conf(), change);
  if (!result.ok) return refused(RaftStatus::InvalidConfChange, result.error);
  Entry e;
  e.type = EntryType::ConfChange;
  e.data = Bytes(encode_conf_change(change));
  ProposeResult r;
  r.first_index = r.last_index = log_.last_index() + 1;
  r.term = term_;
  pending_conf_index_ = r.first_index;
  append_as_leader({e});
  broadcast_append();
  return r;
}

ProposeResult Raft::read_index(std::string context) {
  if (role_ == Role::Leader) {
    if (!handle_read_index_request({config_.id, std::move(context), ticks_})) {
      return refused(RaftStatus::ReadLimit);
    }
    return {};
  }
  if (lead_ == kNoNode) return refused(RaftStatus::NoLeader);
  if (pending_read_count() >= config_.max_pending_reads) return refused(RaftStatus::ReadLimit);
  forwarded_reads_.emplace(context, ticks_);
  Message m;
  m.type = MessageType::ReadIndex;
  m.to = lead_;
  m.context = std::move(context);
  send(std::move(m));
  return {};
}

ProposeResult Raft::transfer_leadership(NodeId target) {
  if (role_ != Role::Leader) {
    ProposeResult r = refused(lead_ == kNoNode ? RaftStatus::NoLeader : RaftStatus::NotLeader);
    r.leader_hint = lead_;
    return r;
  }
  if (target == config_.id) return {};
  if (!is_voter(target)) {
    return refused(RaftStatus::InvalidArgument, "transfer target is not a voter");
  }
  if (lead_transferee_ == target) return {};
  lead_transferee_ = target;
  // The transfer must complete within one election timeout or it is abandoned.
  election_elapsed_ = 0;
  if (progress_.at(target).match == log_.last_index()) {
    send_timeout_now(target);
  } else {
    maybe_send_append(target, true);
  }
  return {};
}

void Raft::report_unreachable(NodeId peer) {
  if (role_ != Role::Leader) return;
  auto it = progress_.find(peer);
  if (it != progress_.end() && it->second.state == ProgressState::Replicate) {
    it->second.become_probe();
  }
}

void Raft::report_snapshot(NodeId peer, bool success) {
  if (role_ != Role::Leader) return;
  auto it = progress_.find(peer);
  if (it == progress_.end() || it->second.state != ProgressState::Snapshot) return;
  Progress& pr = it->second;
  if (!success) pr.pending_snapshot = 0;
  pr.become_probe();
  // Wait for the follower's answer (or a heartbeat reply) before probing again.
  pr.probe_sent = true;
}

// --- configuration --------------------------------------------------------------

const ConfState& Raft::conf() const {
  return conf_history_.empty() ? base_conf_ : conf_history_.back().second;
}

Index Raft::last_conf_index() const {
  return conf_history_.empty() ? base_conf_index_ : conf_history_.back().first;
}

bool Raft::is_voter(NodeId id) const {
  const ConfState& c = conf();
  return contains(c.voters, id) || contains(c.voters_outgoing, id);
}

bool Raft::is_member(NodeId id) const {
  const ConfState& c = conf();
  return is_voter(id) || contains(c.learners, id) || contains(c.learners_next, id);
}

void Raft::track_conf_entries(const std::vector<Entry>& entries) {
  bool changed = false;
  for (const auto& e : entries) {
    if (e.type != EntryType::ConfChange) continue;
    // Every member reads the same log, so an undecodable or invalid change is ignored the
    // same way everywhere; a correct leader never appends one.
    auto change = decode_conf_change(e.data.view());
    if (!change) continue;
    auto result = apply_conf_change(conf(), *change);
    if (!result.ok) continue;
    conf_history_.emplace_back(e.index, std::move(result.conf));
    changed = true;
  }
  if (changed) apply_conf(conf());
  prune_conf_history();
}

void Raft::prune_conf_history() {
  // Configurations at or below the applied index are never rolled back nor asked for by
  // conf_state_at(); keep only the newest of them as the base.
  while (!conf_history_.empty() && conf_history_.front().first <= log_.applied()) {
    base_conf_index_ = conf_history_.front().first;
    base_conf_ = std::move(conf_history_.front().second);
    conf_history_.erase(conf_history_.begin());
  }
}

std::optional<ConfState> Raft::conf_state_at(Index index) const {
  if (index < base_conf_index_ || index > log_.last_index()) return std::nullopt;
  const ConfState* found = &base_conf_;
  for (const auto& [at, c] : conf_history_) {
    if (at > index) break;
    found = &c;
  }
  return *found;
}

void Raft::roll_back_conf_to(Index index) {
  bool changed = false;
  while (!conf_history_.empty() && conf_history_.back().first >= index) {
    conf_history_.pop_back();
    changed = true;
  }
  if (changed) apply_conf(conf());
}

void Raft::apply_conf(const ConfState& c) {
  auto member = [&c](NodeId id) {
    return contains(c.voters, id) || contains(c.voters_outgoing, id) || contains(c.learners, id) ||
           contains(c.learners_next, id);
  };
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = member(it->first) ? std::next(it) : progress_.erase(it);
  }
  auto add = [&](NodeId id, bool learner) {
    auto it = progress_.find(id);
    if (it != progress_.end()) {
      it->second.learner = learner;
      return;
    }
    Progress pr(log_.last_index() + 1, config_.max_inflight_messages, config_.max_inflight_bytes,
                learner);
    if (id == config_.id) {
      pr.match = log_.stable_last_index();
      pr.state = ProgressState::Replicate;
    }
    // A new member counts as active so that check-quorum does not depose the leader
    // before it has had a chance to hear from it.
    pr.recently_active = true;
    progress_.emplace(id, std::move(pr));
  };
  for (NodeId id : c.voters) add(id, false);
  for (NodeId id : c.voters_outgoing) add(id, false);
  for (NodeId id : c.learners) add(id, true);
  for (NodeId id : c.learners_next) add(id, true);
  if (role_ == Role::Leader && lead_transferee_ != kNoNode && !is_voter(lead_transferee_)) {
    abort_transfer();
  }
  if (role_ == Role::Leader) {
    // A smaller quorum may already have committed more.
    if (maybe_commit()) on_commit_advanced();
  }
}

// --- Ready ----------------------------------------------------------------------

bool Raft::has_ready() const {
  if (SoftState{lead_, role_} != prev_soft_) return true;
  if (HardState{term_, vote_, log_.committed()} != prev_hard_) return true;
  return log_.has_next_snapshot() || log_.has_next_unstable() || !msgs_.empty() ||
         !msgs_after_persist_.empty() || (!applying_paused_ && log_.has_next_committed()) ||
         !read_states_.empty();
}

Ready Raft::ready() {
  Ready rd;
  const SoftState soft{lead_, role_};
  if (soft != prev_soft_) {
    rd.soft_state = soft;
    prev_soft_ = soft;
  }
  const HardState hard{term_, vote_, log_.committed()};
  if (hard != prev_hard_) {
    rd.hard_state = hard;
    rd.must_sync = hard.term != prev_hard_.term || hard.vote != prev_hard_.vote;
    prev_hard_ = hard;
  }
  handed_ = {};
  handed_.pending = true;
  handed_.hard_state = rd.hard_state;
  if (log_.has_next_snapshot()) {
    rd.snapshot = *log_.unstable_snapshot();
    handed_.snapshot_index = rd.snapshot->meta.index;
    rd.must_sync = true;
  }
  rd.entries = log_.next_unstable_entries();
  if (!rd.entries.empty()) {
    handed_.last_entry_index = rd.entries.back().index;
    handed_.last_entry_term = rd.entries.back().term;
    rd.must_sync = true;
  }
  log_.accept_unstable();
  if (!applying_paused_) {
    rd.committed_entries = log_.next_committed(config_.max_committed_bytes_per_ready);
  }
  if (!rd.committed_entries.empty()) {
    handed_.committed_through = rd.committed_entries.back().index;
    log_.accept_committed(handed_.committed_through);
    if (role_ == Role::Leader) {
      const std::size_t done = total_bytes(rd.committed_entries);
      uncommitted_bytes_ = done > uncommitted_bytes_ ? 0 : uncommitted_bytes_ - done;
    }
  }
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.messages_after_persist = std::move(msgs_after_persist_);
  msgs_after_persist_.clear();
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  return rd;
}

void Raft::advance() {
  if (!handed_.pending) return;
  if (handed_.snapshot_index != 0) {
    log_.stable_snapshot_to(handed_.snapshot_index);
    log_.applied_to(handed_.snapshot_index);
  }
  if (handed_.last_entry_index != 0) {
    log_.stable_to(handed_.last_entry_index, handed_.last_entry_term);
  }
  if (handed_.committed_through != 0) log_.applied_to(handed_.committed_through);
  if (handed_.hard_state) persisted_hard_ = *handed_.hard_state;
  handed_ = {};
  prune_conf_history();
  maybe_win_with_own_vote();
  if (role_ == Role::Leader) {
    // The leader's own copy now counts toward the quorum (thesis §10.2.1).
    auto it = progress_.find(config_.id);
    if (it != progress_.end() && it->second.maybe_update(log_.stable_last_index())) {
      if (maybe_commit()) {
        on_commit_advanced();
        if (role_ == Role::Leader) broadcast_append();
      }
    }
  }
}

RaftState Raft::summary() const {
  RaftState s;
  s.id = config_.id;
  s.hard_state = {term_, vote_, log_.committed()};
  s.soft_state = {lead_, role_};
  s.applied = log_.applied();
  s.first_index = log_.first_index();
  s.last_index = log_.last_index();
  s.transfer_target = lead_transferee_;
  s.uncommitted_bytes = uncommitted_bytes_;
  s.pending_reads = pending_read_count();
  return s;
}

RaftState Raft::state() const {
  RaftState s = summary();
  s.conf = conf();
  if (role_ == Role::Leader) {
    s.peers.reserve(progress_.size());
    for (const auto& [id, pr] : progress_) {
      s.peers.push_back({id, pr.match, pr.next, pr.state, pr.learner, pr.recently_active,
                         pr.inflights.count(), pr.inflights.bytes()});
    }
  }
  return s;
}

}  // namespace synod::raft
