// The structs behind the opaque handles of synod.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "event_queue.h"
#include "snapshot_handles.h"
#include "synod.h"
#include "synod/node/node_host.h"
#include "synod/node/node_runtime.h"

namespace synod::capi {

// A node's settings: the composition root's options, which synod_config_* fills in,
// and what only the C ABI needs.
struct NodeSettings : node::NodeRuntimeOptions {
  // Events waiting for synod_node_poll before the node pushes back.
  std::size_t max_pending_events = 65536;
};

}  // namespace synod::capi

// An in-process network with the thread that delivers its batches. Shared by the handle
// and every node attached to it, so either may go first.
struct synod_network {
  std::shared_ptr<synod::node::InProcessNetwork> core;
};

struct synod_config {
  // Setters and synod_node_new may run on several threads at once (synod.h allows any
  // call on any thread): each holds mu while it reads or changes the settings.
  mutable std::mutex mu;
  synod::capi::NodeSettings settings;
};

struct synod_node {
  // Members are destroyed in reverse order of declaration. So the runtime goes first:
  // it stops the NodeHost, joins the threads that run its tasks, and only then frees the
  // transport and the store (node_runtime.h); and last goes what the handlers and
  // warnings of all of them reach: the state below and the event queue.
  synod::capi::EventQueue events;
  // Saves and installs handed to the host; emptied (each finished as failed) before the
  // runtime stops, so none outlives the engine it reports to.
  synod::capi::SnapshotHandles snapshots;
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
  std::unique_ptr<synod::node::NodeRuntime> runtime;
};
