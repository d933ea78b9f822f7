// The structs behind the opaque handles of synod.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "event_queue.h"
#include "synod.h"
#include "synod/env/clock.h"
#include "synod/env/random.h"
#include "synod/env/thread_pool.h"
#include "synod/node/node_host.h"
#include "synod/storage/log_store.h"
#include "synod/transport/grpc_transport.h"
#include "synod/transport/in_memory.h"
#include "synod/transport/rest_transport.h"
#include "synod/transport/security.h"

namespace synod::capi {

// An in-process network with the threads that deliver its batches. Shared by the handle
// and every node attached to it, so either may go first.
struct NetworkCore {
  env::SteadyClock clock;
  env::ThreadPool pool{1};
  env::TimerThread timers{clock, pool};
  env::Random random{0x5e70d};
  transport::InMemoryNetwork network{timers, pool, random};
};

struct NodeSettings {
  node::NodeHostConfig host;
  std::uint32_t worker_threads = 0;
  // Events waiting for synod_node_poll before the node pushes back.
  std::size_t max_pending_events = 65536;
  std::string storage_engine = "memory";
  std::string storage_directory;
  std::shared_ptr<NetworkCore> network;
  // A network transport ("grpc" or "rest") when listen_address is set.
  std::string network_transport;
  std::string listen_address;
  synod::transport::TransportSecurity security;
  std::map<node::NodeId, std::string> peer_addresses;
};

}  // namespace synod::capi

struct synod_network {
  std::shared_ptr<synod::capi::NetworkCore> core;
};

struct synod_config {
  // Setters and synod_node_new may run on several threads at once (synod.h allows any
  // call on any thread): each holds mu while it reads or changes the settings.
  mutable std::mutex mu;
  synod::capi::NodeSettings settings;
};

struct synod_node {
  // Members are destroyed in reverse order of declaration. So the NodeHost goes first;
  // then the threads that run its tasks (the sync thread, the timer, then the workers the
  // timer posts to; each joined, so no task is left); then the transport and the store
  // those tasks used; and last what the handlers and warnings of all of them reach: the
  // clock, the network, the state below and the event queue.
  synod::capi::EventQueue events;
  synod::node::NodeId id = 0;
  std::size_t max_payload_bytes = 0;
  // Wakes synod_node_wait_for_leader on leader changes and on stop.
  std::mutex leader_mu;
  std::condition_variable leader_changed;
  // Calls are refused: the host stopped the node, or it stopped itself.
  std::atomic<bool> stopped{false};
  // Why the node stopped itself (its store failed). A reader may see `stopped` set by
  // synod_node_stop while the failure handler is still writing this, so it is read and
  // written only under failure_mu.
  std::mutex failure_mu;
  std::string failure;
  std::mutex stop_mu;
  // synod_node_stop or synod_node_free has run; guarded by stop_mu.
  bool stop_called = false;
  std::shared_ptr<synod::capi::NetworkCore> network;
  synod::env::SteadyClock clock;
  std::unique_ptr<synod::storage::LogStore> store;
  std::unique_ptr<synod::transport::Transport> transport;
  // Set with a network transport (gRPC or REST): its bound port and its peer setter.
  std::function<int()> listen_port;
  std::function<void(synod::node::NodeId, std::string)> set_peer;
  std::unique_ptr<synod::env::ThreadPool> workers;
  std::unique_ptr<synod::env::TimerThread> timers;
  std::unique_ptr<synod::env::ThreadPool> sync_thread;
  std::unique_ptr<synod::node::NodeHost> host;
};
