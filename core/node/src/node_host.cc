// NodeHost, the facade: it forwards to the Engine (engine.h), which wires the parts.
#include "synod/node/node_host.h"

#include "engine.h"

namespace synod::node {

std::unique_ptr<NodeHost> NodeHost::create(const NodeHostConfig& config, std::string* error) {
  auto engine = std::make_shared<Engine>(config);
  std::string why;
  if (!engine->open(why)) {
    if (error) *error = why;
    return nullptr;
  }
  return std::unique_ptr<NodeHost>(new NodeHost(std::move(engine)));
}

NodeHost::NodeHost(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {}
NodeHost::~NodeHost() { engine_->stop(); }

void NodeHost::set_apply_handler(ApplyHandler handler) {
  engine_->context().apply_handler = std::move(handler);
}
void NodeHost::set_leader_handler(LeaderHandler handler) {
  engine_->context().leader_handler = std::move(handler);
}
void NodeHost::set_snapshot_handler(SnapshotHandler handler) {
  engine_->context().snapshot_handler = std::move(handler);
}

void NodeHost::set_partition_failure_handler(PartitionFailureHandler handler) {
  engine_->context().partition_failure_handler = std::move(handler);
}

void NodeHost::request_snapshot(PartitionId partition, std::function<void(Status, Index)> done) {
  engine_->request_snapshot(partition, std::move(done));
}

void NodeHost::set_failure_handler(FailureHandler handler) {
  engine_->context().failure_handler = std::move(handler);
}
void NodeHost::start() { engine_->start(); }
void NodeHost::stop() { engine_->stop(); }

void NodeHost::replicate(PartitionId partition, std::uint32_t type, raft::Bytes payload,
                         ReplicationCallback done) {
  engine_->replicate(partition, type, std::move(payload), std::move(done));
}

std::future<ReplicationResult> NodeHost::replicate(PartitionId partition, std::uint32_t type,
                                                   raft::Bytes payload) {
  auto promise = std::make_shared<std::promise<ReplicationResult>>();
  auto future = promise->get_future();
  engine_->replicate(partition, type, std::move(payload),
                     [promise](const ReplicationResult& r) { promise->set_value(r); });
  return future;
}

void NodeHost::replicate_batch(PartitionId partition, std::vector<BatchEntry> entries,
                               BatchCallback done) {
  engine_->replicate_batch(partition, std::move(entries), std::move(done));
}
void NodeHost::read_index(PartitionId partition, ReadCallback done) {
  engine_->read_index(partition, std::move(done));
}
Status NodeHost::transfer_leadership(PartitionId partition, NodeId target) {
  return engine_->transfer_leadership(partition, target);
}
Status NodeHost::report_applied(PartitionId partition, Index index) {
  return engine_->report_applied(partition, index);
}

Status NodeHost::add_partition(PartitionId partition, const std::vector<NodeId>& voters) {
  return engine_->add_partition(partition, voters);
}
void NodeHost::remove_partition(PartitionId partition, std::function<void(Status)> done) {
  engine_->remove_partition(partition, std::move(done));
}
std::future<Status> NodeHost::remove_partition(PartitionId partition) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  engine_->remove_partition(partition, [promise](Status s) { promise->set_value(s); });
  return future;
}
void NodeHost::create_partition(system::RoutingMode mode, system::HashRange range,
                                std::uint64_t expected_version,
                                std::function<void(const MapChangeResult&)> done) {
  system::CreatePartition c;
  c.expected_version = expected_version;
  c.mode = mode;
  if (mode == system::RoutingMode::HashRange) c.range = range;
  engine_->propose_system(c, std::move(done));
}
void NodeHost::remove_partition(PartitionId partition, std::uint64_t expected_version,
                                std::function<void(const MapChangeResult&)> done) {
  engine_->propose_system(system::RemovePartition{expected_version, partition}, std::move(done));
}
system::PartitionMap NodeHost::partition_map() const { return engine_->system_state().map; }
system::SystemState NodeHost::system_state() const { return engine_->system_state(); }
std::optional<system::Route> NodeHost::route(std::string_view key) const {
  return engine_->route_hash(system::key_hash(key));
}
std::optional<system::Route> NodeHost::route_hash(std::uint64_t key_hash) const {
  return engine_->route_hash(key_hash);
}
void NodeHost::set_delivery_paused(bool paused) { engine_->set_delivery_paused(paused); }

NodeId NodeHost::wait_for_leader(PartitionId partition, std::chrono::milliseconds timeout) {
  return engine_->wait_for_leader(partition, timeout);
}
bool NodeHost::is_leader(PartitionId partition) const { return engine_->is_leader(partition); }
NodeId NodeHost::leader_of(PartitionId partition) const { return engine_->leader_of(partition); }
std::vector<PartitionId> NodeHost::partitions() const { return engine_->partition_ids(); }
std::vector<PartitionStatus> NodeHost::status() const { return engine_->status(); }
NodeId NodeHost::id() const { return engine_->context().config.node_id; }
metrics::Registry& NodeHost::metrics() { return engine_->context().registry; }

}  // namespace synod::node
