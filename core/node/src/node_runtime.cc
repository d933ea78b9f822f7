// NodeRuntime: building a node's parts in order, and failing with the part that refused.
#include "synod/node/node_runtime.h"

#include <random>
#include <stdexcept>
#include <utility>

#include "synod/storage/open_log_store.h"
#include "synod/transport/grpc_transport.h"
#include "synod/transport/rest_transport.h"

namespace synod::node {

RuntimeThreads::RuntimeThreads(std::size_t workers) : pool_(workers), timer_(clock_, pool_) {}

InProcessNetwork::InProcessNetwork(std::shared_ptr<RuntimeThreads> threads, std::uint64_t seed)
    : threads_(threads ? std::move(threads) : std::make_shared<RuntimeThreads>(1)),
      random_(seed),
      network_(threads_->scheduler(), threads_->executor(), random_) {}

namespace {

bool refuse(RuntimeError& error, RuntimeError::Kind kind, std::string message) {
  error.kind = kind;
  error.message = std::move(message);
  return false;
}

bool environment_set(const NodeHostConfig& c) {
  return c.store || c.snapshot_store || c.transport || c.clock || c.scheduler || c.executor || c.sync_executor;
}

// The gRPC or REST transport `Kind` the options ask for.
template <typename Kind, typename KindOptions>
std::unique_ptr<Kind> make_network_transport(const NodeRuntimeOptions& o, std::string* error) {
  KindOptions options;
  options.cluster = o.host.cluster_id;
  options.self = o.host.node_id;
  options.listen_address = o.transport.listen_address;
  options.peers = o.transport.peers;
  options.peers.erase(o.host.node_id);
  options.security = o.transport.security;
  options.on_warning = o.transport.on_warning;
  return Kind::create(std::move(options), error);
}

}  // namespace

std::unique_ptr<NodeRuntime> NodeRuntime::create(NodeRuntimeOptions options, RuntimeError* error) {
  RuntimeError local;
  RuntimeError& why = error ? *error : local;
  std::unique_ptr<NodeRuntime> runtime(new NodeRuntime());
  // On failure the half-built runtime is destroyed here, in the same order as a whole one.
  if (!runtime->build(options, why)) return nullptr;
  return runtime;
}

bool NodeRuntime::build(NodeRuntimeOptions& o, RuntimeError& error) {
  using Kind = RuntimeError::Kind;
  NodeHostConfig& host = o.host;
  if (host.node_id == raft::kNoNode) return refuse(error, Kind::Config, "no node id (node id 0)");
  if (host.election_ticks <= host.heartbeat_ticks) {
    return refuse(error, Kind::Config,
                  "election ticks (" + std::to_string(host.election_ticks) +
                      ") must exceed heartbeat ticks (" + std::to_string(host.heartbeat_ticks) + ")");
  }
  if (environment_set(host)) {
    return refuse(error, Kind::Config,
                  "the NodeHostConfig's store, transport, clock, scheduler and executors are "
                  "set by the runtime and must be left null");
  }
  const std::string& kind = o.transport.kind;
  if (kind != "memory" && kind != "grpc" && kind != "rest") {
    return refuse(error, Kind::Config,
                  "unknown transport \"" + kind + "\" (memory, grpc or rest)");
  }
  if (host.initial_members.empty()) host.initial_members = {host.node_id};
  if (host.seed == 0) host.seed = std::random_device{}() ^ (host.node_id << 32);

  // The store first: a node that cannot keep its log has nothing to listen for.
  const bool durable_opened_here = !o.store.existing && o.store.engine != "memory";
  if (o.store.existing) {
    store_ = std::move(o.store.existing);
  } else {
    storage::DurableStoreOptions store_options;
    store_options.on_warning = o.store.on_warning;
    std::unique_ptr<storage::LogStore> opened;
    const auto status =
        storage::open_log_store(o.store.engine, o.store.directory, store_options, opened);
    if (!status.ok()) {
      return refuse(error, Kind::Storage,
                    "cannot open the " + o.store.engine + " store in \"" + o.store.directory +
                        "\": " + status.to_string());
    }
    store_ = std::move(opened);
  }
  if (o.store.existing_snapshots) {
    snapshots_ = std::move(o.store.existing_snapshots);
  } else if (o.store.engine == "memory" || o.store.directory.empty()) {
    snapshots_ = storage::make_memory_snapshot_store();
  } else {
    const std::string directory = o.store.directory + "/snapshots";
    storage::StorageStatus status;
    snapshots_ = storage::open_disk_snapshot_store(directory, &status);
    if (!snapshots_) {
      return refuse(error, Kind::Storage,
                    "cannot open the snapshot files in \"" + directory + "\": " + status.to_string());
    }
  }

  threads_ = o.threads ? std::move(o.threads) : std::make_shared<RuntimeThreads>(o.worker_threads);

  std::string transport_error;
  if (kind == "grpc") {
    auto made = make_network_transport<transport::GrpcTransport, transport::GrpcTransportOptions>(
        o, &transport_error);
    network_transport_ = made.get();
    transport_ = std::move(made);
  } else if (kind == "rest") {
    auto made = make_network_transport<transport::RestTransport, transport::RestTransportOptions>(
        o, &transport_error);
    network_transport_ = made.get();
    transport_ = std::move(made);
  } else {
    network_ = o.transport.network;
    if (!network_) {
      const auto& members = host.initial_members;
      if (!(members.size() == 1 && members[0] == host.node_id)) {
        return refuse(error, Kind::Config,
                      "a cluster of several members needs a transport: an in-process network "
                      "shared by its nodes, or grpc or rest");
      }
      network_ = std::make_shared<InProcessNetwork>(threads_);
    }
    try {
      transport_ = std::make_unique<transport::InMemoryTransport>(network_->network(),
                                                                  host.cluster_id, host.node_id);
    } catch (const std::invalid_argument&) {
      return refuse(error, Kind::Config,
                    "node " + std::to_string(host.node_id) + " is already attached to this network");
    }
  }
  if (!transport_) {
    return refuse(error, Kind::Transport,
                  (kind == "grpc" ? "gRPC" : "REST") + std::string(" transport on ") +
                      o.transport.listen_address + ": " + transport_error);
  }

  const bool sync_thread =
      o.sync_thread == SyncThread::On ||
      (o.sync_thread == SyncThread::Auto && host.sync && durable_opened_here);
  if (sync_thread) sync_thread_ = std::make_unique<env::ThreadPool>(1);

  host.store = store_.get();
  host.snapshot_store = snapshots_.get();
  host.transport = transport_.get();
  host.clock = &threads_->clock();
  host.scheduler = &threads_->scheduler();
  host.executor = &threads_->executor();
  host.sync_executor = sync_thread_.get();
  std::string host_error;
  host_ = NodeHost::create(host, &host_error);
  if (!host_) return refuse(error, Kind::Config, host_error);
  return true;
}

NodeRuntime::~NodeRuntime() { stop(); }

void NodeRuntime::start() { host_->start(); }

void NodeRuntime::stop() {
  // The host first: it stops ticking and receiving and answers what is pending, with the
  // transport still there for the cycles it waits for. A runtime that failed to build may
  // have a transport and no host.
  if (host_) host_->stop();
  if (transport_) transport_->stop();
}

}  // namespace synod::node
