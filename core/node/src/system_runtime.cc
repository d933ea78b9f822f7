#include "system_runtime.h"

#include <algorithm>
#include <utility>

#include "synod/system/codec.h"

namespace synod::node {

std::string founder_address(NodeId id) { return "node-" + std::to_string(id); }

raft::Entry bootstrap_entry(const NodeHostConfig& config, raft::Index index, raft::Term term) {
  system::Bootstrap b;
  b.partitions = config.user_partitions;
  std::vector<NodeId> ids = config.initial_members;
  // Every founder must write the same bytes, whatever order its configuration lists.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (NodeId id : ids) b.members.push_back({id, founder_address(id)});
  raft::Entry e;
  e.index = index;
  e.term = term;
  e.type = raft::EntryType::Normal;
  e.tag = kSystemCommandTag;
  e.data = raft::Bytes(system::encode_command(b));
  return e;
}

Status from_system(system::Status status) {
  using S = system::Status;
  switch (status) {
    case S::Ok:
      return Status::Ok;
    case S::StaleMapVersion:
    case S::StaleRosterVersion:
      return Status::StaleMapVersion;
    case S::UnknownPartition:
    case S::PartitionRemoved:
    case S::UnknownMember:
      return Status::UnknownPartition;
    case S::SystemPartition:
      return Status::SystemPartition;
    case S::InvalidArgument:
    case S::BoundaryOutsideRange:
      return Status::InvalidArgument;
    case S::NotBootstrapped:
    case S::AlreadyBootstrapped:
    case S::LimitReached:
    case S::UnroutedPartition:
    case S::RoutedPartition:
    case S::OperationInProgress:
    case S::NoOperationInProgress:
    case S::Overlapping:
    case S::NotAdjacent:
    case S::MemberExists:
    case S::MemberRetired:
    case S::WrongRole:
    case S::NoQuorum:
    case S::ChangeInProgress:
      return Status::MapConflict;
  }
  return Status::MapConflict;
}

SystemRuntime::SystemRuntime(NodeId self, std::uint32_t founded, Hooks hooks)
    : self_(self), founded_(founded), hooks_(std::move(hooks)) {
  publish();
}

void SystemRuntime::set_replay_until(raft::Index last) { replay_until_ = last; }

void SystemRuntime::apply(const raft::Entry& e) {
  applied_ = std::max(applied_, e.index);
  if (e.type != raft::EntryType::Normal || e.tag != kSystemCommandTag) return;
  system::Command command;
  system::ApplyResult result;
  if (system::decode_command(e.data.view(), command) != system::CodecStatus::Ok) {
    // Every replica decodes the same bytes the same way: refused everywhere alike.
    result.status = system::Status::InvalidArgument;
  } else {
    std::lock_guard lock(mu_);
    result = system::apply(state_, command);
  }
  last_ = {e.index, e.term, result};
  if (result.ok()) {
    publish();
    if (std::holds_alternative<system::CreatePartition>(command)) {
      created(result.created);
    } else if (const auto* r = std::get_if<system::RemovePartition>(&command)) {
      removed(r->partition);
    }
  }
  maybe_end_replay();
}

void SystemRuntime::applied_through(raft::Index index) {
  applied_ = std::max(applied_, index);
  maybe_end_replay();
}

void SystemRuntime::maybe_end_replay() {
  if (replay_done_ || applied_ < replay_until_) return;
  replay_done_ = true;
  reconcile();
}

std::optional<system::ApplyResult> SystemRuntime::result_at(raft::Index index,
                                                            raft::Term term) const {
  if (last_.index != index || last_.term != term) return std::nullopt;
  return last_.result;
}

std::vector<NodeId> SystemRuntime::voters() const {
  std::vector<NodeId> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, m] : state_.roster.members) {
    if (m.role == system::MemberRole::Voter || m.role == system::MemberRole::Leaving) {
      out.push_back(id);
    }
  }
  return out;
}

void SystemRuntime::created(system::PartitionId id) {
  const std::vector<NodeId> v = voters();
  // A learner or a node outside the roster hosts no user partition (yet).
  if (std::find(v.begin(), v.end(), self_) == v.end()) return;
  if (replaying()) {
    deferred_.insert(id);
    return;
  }
  hooks_.create(id, v);
}

void SystemRuntime::removed(system::PartitionId id) {
  deferred_.erase(id);
  hooks_.remove(id);
}

void SystemRuntime::reconcile() {
  std::vector<system::PartitionId> live;
  std::vector<system::PartitionId> gone;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, p] : state_.map.partitions) {
      (p.state == system::PartitionState::Removed ? gone : live).push_back(id);
    }
  }
  for (auto id : gone) removed(id);
  const std::vector<NodeId> v = voters();
  const bool voter = std::find(v.begin(), v.end(), self_) != v.end();
  for (auto id : live) {
    if (!voter || hooks_.hosted(id)) continue;
    // Only partitions created by a command (not those founded with the cluster, which a
    // host may have removed on purpose with NodeHost::remove_partition) are founded here.
    if (!deferred_.count(id) && id <= founded_) continue;
    hooks_.create(id, v);
  }
  deferred_.clear();
}

std::string SystemRuntime::encode() const {
  std::lock_guard lock(mu_);
  return system::encode_state(state_);
}

bool SystemRuntime::install(std::string_view bytes, raft::Index index, std::string& why) {
  system::SystemState decoded;
  if (const auto st = system::decode_state(bytes, decoded); st != system::CodecStatus::Ok) {
    why = std::string("the system state does not decode: ") + system::to_string(st);
    return false;
  }
  {
    std::lock_guard lock(mu_);
    state_ = std::move(decoded);
  }
  publish();
  applied_ = std::max(applied_, index);
  last_ = {};
  // The entries that led here never arrive: the map as a whole says what must run here.
  if (replay_done_) {
    reconcile();
  } else {
    maybe_end_replay();
  }
  return true;
}

system::SystemState SystemRuntime::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::optional<system::Route> SystemRuntime::route_hash(std::uint64_t hash) const {
  std::shared_ptr<const system::Router> router;
  {
    std::lock_guard lock(mu_);
    router = router_;
  }
  return router->route_hash(hash);
}

void SystemRuntime::publish() {
  std::lock_guard lock(mu_);
  router_ = std::make_shared<const system::Router>(state_.map);
}

SnapshotHandler system_snapshot_handler(std::shared_ptr<SystemRuntime> system) {
  SnapshotHandler h;
  h.save = [system](SaveRequest request) {
    const std::string bytes = system->encode();
    if (!request.writer->write(bytes.data(), bytes.size())) {
      return request.done(Status::StorageFailure, request.writer->why());
    }
    request.done(Status::Ok, {});
  };
  h.install = [system](InstallRequest request) {
    std::string bytes;
    if (!read_all(*request.reader, bytes)) {
      return request.done(Status::StorageFailure, request.reader->why());
    }
    std::string why;
    if (!system->install(bytes, request.index, why))
      return request.done(Status::StorageFailure, why);
    request.done(Status::Ok, {});
  };
  return h;
}

}  // namespace synod::node
