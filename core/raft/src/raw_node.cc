#include "synod/raft/raw_node.h"

#include "raft.h"

namespace synod::raft {

const char* to_string(Role role) {
  switch (role) {
    case Role::Follower:
      return "follower";
    case Role::PreCandidate:
      return "pre-candidate";
    case Role::Candidate:
      return "candidate";
    case Role::Leader:
      return "leader";
  }
  return "unknown";
}

const char* to_string(RaftStatus status) {
  switch (status) {
    case RaftStatus::Ok:
      return "ok";
    case RaftStatus::NotLeader:
      return "not leader";
    case RaftStatus::NoLeader:
      return "no leader";
    case RaftStatus::TransferInProgress:
      return "leadership transfer in progress";
    case RaftStatus::UncommittedLimit:
      return "uncommitted bytes limit reached";
    case RaftStatus::ConfChangePending:
      return "configuration change pending";
    case RaftStatus::InvalidConfChange:
      return "invalid configuration change";
    case RaftStatus::InvalidArgument:
      return "invalid argument";
    case RaftStatus::ReadLimit:
      return "pending reads limit reached";
  }
  return "unknown";
}

const char* to_string(ProgressState state) {
  switch (state) {
    case ProgressState::Probe:
      return "probe";
    case ProgressState::Replicate:
      return "replicate";
    case ProgressState::Snapshot:
      return "snapshot";
  }
  return "unknown";
}

std::unique_ptr<RawNode> RawNode::create(const Config& config, LogStorage& storage,
                                         std::string* error) {
  std::string why = config.validate();
  if (why.empty()) {
    auto raft = std::make_unique<Raft>(config, storage);
    if (raft->load(why)) return std::unique_ptr<RawNode>(new RawNode(std::move(raft)));
  }
  if (error) *error = why;
  return nullptr;
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {}
RawNode::~RawNode() = default;

void RawNode::tick() { raft_->tick(); }
RaftStatus RawNode::step(const Message& message) { return raft_->step(message); }
void RawNode::campaign() { raft_->campaign_now(); }
ProposeResult RawNode::propose(std::span<const Proposal> proposals) {
  return raft_->propose(proposals);
}
ProposeResult RawNode::propose_conf_change(const ConfChange& change) {
  return raft_->propose_conf_change(change);
}
ProposeResult RawNode::read_index(std::string context) {
  return raft_->read_index(std::move(context));
}
ProposeResult RawNode::transfer_leadership(NodeId target) {
  return raft_->transfer_leadership(target);
}
void RawNode::report_unreachable(NodeId peer) { raft_->report_unreachable(peer); }
void RawNode::report_snapshot(NodeId peer, bool success) { raft_->report_snapshot(peer, success); }
void RawNode::pause_applying(bool paused) { raft_->pause_applying(paused); }
bool RawNode::has_ready() const { return raft_->has_ready(); }
Ready RawNode::ready() { return raft_->ready(); }
void RawNode::advance() { raft_->advance(); }
RaftState RawNode::state() const { return raft_->state(); }
RaftState RawNode::summary() const { return raft_->summary(); }
std::optional<ConfState> RawNode::conf_state_at(Index index) const {
  return raft_->conf_state_at(index);
}
Role RawNode::role() const { return raft_->role(); }
NodeId RawNode::leader() const { return raft_->leader(); }
Term RawNode::term() const { return raft_->term(); }
Index RawNode::commit_index() const { return raft_->commit_index(); }
NodeId RawNode::id() const { return raft_->id(); }

}  // namespace synod::raft
