// NodeRuntime: the one composition root of a node on real threads. From one options
// object it builds the worker pool and the timer, the sync thread, the log store, the
// transport and the NodeHost, hands each to the next, and tears them down in the order
// that keeps every thread away from what is already gone. The C ABI, synod-kv, the
// benchmarks, the crash writer and the demo build their nodes with it; only the
// simulator (virtual time on one thread) wires a NodeHost by hand.
//
//   NodeRuntimeOptions o;
//   o.host.node_id = 1;
//   o.host.initial_members = {1, 2, 3};
//   o.store.engine = "rocksdb";
//   o.store.directory = "/var/lib/synod/1";
//   o.transport.kind = "grpc";
//   o.transport.listen_address = "0.0.0.0:7001";
//   o.transport.peers = {{2, "10.0.0.2:7001"}, {3, "10.0.0.3:7001"}};
//   RuntimeError error;
//   auto runtime = NodeRuntime::create(o, &error);   // nullptr: error.message says why
//   runtime->host().set_apply_handler(...);
//   runtime->start();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "synod/env/clock.h"
#include "synod/env/random.h"
#include "synod/env/scheduler.h"
#include "synod/env/thread_pool.h"
#include "synod/node/node_host.h"
#include "synod/storage/durable_log_store.h"
#include "synod/storage/log_store.h"
#include "synod/transport/in_memory.h"
#include "synod/transport/network_transport.h"
#include "synod/transport/security.h"

namespace synod::node {

// A steady clock, a pool of worker threads and a timer thread that hands expired timers to
// the pool. A runtime owns one of its own unless given one to share (several nodes in one
// process, or a node and an in-process network, on the same threads).
class RuntimeThreads {
 public:
  // `workers` == 0: one per hardware core.
  explicit RuntimeThreads(std::size_t workers = 0);
  RuntimeThreads(const RuntimeThreads&) = delete;
  RuntimeThreads& operator=(const RuntimeThreads&) = delete;

  const env::Clock& clock() const { return clock_; }
  env::Clock& clock() { return clock_; }
  env::Executor& executor() { return pool_; }
  env::Scheduler& scheduler() { return timer_; }

 private:
  // In this order, so that the timer (which posts to the pool) is joined before the pool,
  // and both before the clock they read goes.
  env::SteadyClock clock_;
  env::ThreadPool pool_;
  env::TimerThread timer_;
};

// An in-process network (transport::InMemoryNetwork) with the threads that deliver its
// batches; nodes in one process join it with TransportOptions::network. Shared by its
// creator and every runtime on it, so either may go first.
class InProcessNetwork {
 public:
  // Delivers on `threads`, or, when null, on a worker and a timer of its own. `seed` drives
  // the fault choices (transport::LinkFaults), of which there are none until set.
  explicit InProcessNetwork(std::shared_ptr<RuntimeThreads> threads = nullptr,
                            std::uint64_t seed = 1);
  InProcessNetwork(const InProcessNetwork&) = delete;
  InProcessNetwork& operator=(const InProcessNetwork&) = delete;

  // Fault injection (isolate, heal, per-link faults) goes through the network itself.
  transport::InMemoryNetwork& network() { return network_; }

 private:
  std::shared_ptr<RuntimeThreads> threads_;
  env::Random random_;
  transport::InMemoryNetwork network_;
};

// Where the node keeps its log.
struct StoreOptions {
  // "memory" (nothing survives the runtime), "rocksdb" or "sqlite".
  std::string engine = "memory";
  // The durable engines' data directory, created if missing.
  std::string directory;
  // A store to use instead of opening one; `engine` and `directory` are then ignored.
  // Shared, so that a caller may read it before the node runs or keep it past the
  // runtime (a node restarted in the same process).
  std::shared_ptr<storage::LogStore> existing;
  // Snapshot files: with a durable engine in <directory>/snapshots, with "memory" in
  // memory. Like `existing`, one to use instead (a node restarted in the same process
  // keeps its snapshots with its log).
  std::shared_ptr<storage::SnapshotStore> existing_snapshots;
  // The durable stores' warnings (a repaired file, a damaged partition, say), with the
  // partition they concern as data; none are reported when unset.
  std::function<void(const storage::StorageWarning&)> on_warning;
};

// How the node talks to the others.
struct TransportOptions {
  // "memory": an endpoint on `network`. "grpc" or "rest": a transport::NetworkTransport
  // listening on `listen_address` and dialling `peers`.
  std::string kind = "memory";
  // "memory" only. Null: a private network on the runtime's threads, which serves only a
  // cluster of this node alone.
  std::shared_ptr<InProcessNetwork> network;
  // "grpc" and "rest": "host:port"; port 0 binds an ephemeral one (see listen_port()).
  std::string listen_address;
  // "grpc" and "rest": node id -> "host:port" of the other nodes. This node may be listed
  // (one map for every node of a cluster); it is left out. More may follow at runtime
  // through network_transport()->set_peer().
  std::map<NodeId, std::string> peers;
  transport::TransportSecurity security;
  // "grpc" and "rest": the transport's warnings (plain text in use, say).
  transport::WarningSink on_warning;
};

// Whether a cycle's storage sync runs on a thread of its own (NodeHostConfig::
// sync_executor), so that the workers go on with other partitions while the disk syncs.
enum class SyncThread {
  // On when the node syncs (NodeHostConfig::sync) a store opened here with a durable
  // engine; off for the memory engine and for an existing store.
  Auto,
  On,
  Off,
};

struct NodeRuntimeOptions {
  // The node: ids, members, partitions, ticks, limits. Its environment pointers (store,
  // transport, clock, scheduler, executor, sync_executor) must be left null: the runtime
  // sets them. Defaults filled in here: no initial_members means this node alone, and
  // seed 0 means a seed drawn from std::random_device.
  NodeHostConfig host;
  StoreOptions store;
  TransportOptions transport;
  // The threads to run on, shared with others; null: a RuntimeThreads of its own with
  // `worker_threads` workers (0: one per hardware core).
  std::shared_ptr<RuntimeThreads> threads;
  std::size_t worker_threads = 0;
  SyncThread sync_thread = SyncThread::Auto;
};

// Why create() failed: which part refused, and a message naming it.
struct RuntimeError {
  enum class Kind {
    // The options, or the stored state the NodeHost found, are unusable.
    Config,
    // The store cannot be opened.
    Storage,
    // The transport cannot be made (a port in use, bad security settings).
    Transport,
  };
  Kind kind = Kind::Config;
  std::string message;
};

class NodeRuntime {
 public:
  // Builds everything and creates the NodeHost (opening or bootstrapping its partitions),
  // not yet started: set the handlers, then start(). Nothing is left running on failure.
  static std::unique_ptr<NodeRuntime> create(NodeRuntimeOptions options, RuntimeError* error);
  // Stops, then tears down (see the members for the order).
  ~NodeRuntime();
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  void start();
  // Stops the NodeHost (every pending request is answered) and the transport.
  // Idempotent; the destructor calls it. Handlers set on the host may run until it returns.
  void stop();

  NodeHost& host() { return *host_; }
  storage::LogStore& store() { return *store_; }
  // Shared, so that a caller may keep it past the runtime (see existing_snapshots).
  const std::shared_ptr<storage::SnapshotStore>& snapshot_store() { return snapshots_; }
  transport::Transport& transport() { return *transport_; }
  // The gRPC or REST transport (listen_port(), set_peer(), remove_peer()); null with
  // "memory".
  transport::NetworkTransport* network_transport() { return network_transport_; }
  const env::Clock& clock() const { return threads_->clock(); }
  env::Scheduler& scheduler() { return threads_->scheduler(); }
  env::Executor& executor() { return threads_->executor(); }

 private:
  NodeRuntime() = default;
  bool build(NodeRuntimeOptions& options, RuntimeError& error);

  // Destroyed in reverse order: the NodeHost first (it was stopped already: no tick, no
  // cycle, no request left); then the sync thread and, when this runtime alone holds
  // them, the timer and the workers, each joined, so that no task that still holds the
  // engine can touch what follows; then the transport, then the network it is attached to
  // (the network's threads outlive it: it holds them), and last the store, which the
  // engine and its tasks used up to the end, with the snapshot files.
  std::shared_ptr<storage::LogStore> store_;
  std::shared_ptr<storage::SnapshotStore> snapshots_;
  std::shared_ptr<InProcessNetwork> network_;
  std::unique_ptr<transport::Transport> transport_;
  transport::NetworkTransport* network_transport_ = nullptr;
  std::shared_ptr<RuntimeThreads> threads_;
  std::unique_ptr<env::ThreadPool> sync_thread_;
  std::unique_ptr<NodeHost> host_;
};

}  // namespace synod::node
