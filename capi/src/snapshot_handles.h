// The snapshots a node has handed to its host to save or install, by the handle number
// their events carry. Engine tasks open them; host threads write, read and finish them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "synod.h"
#include "synod/node/snapshots.h"

namespace synod::capi {

// One save or install, from its event until the host (or the node's stop) finishes it.
struct OpenSnapshot {
  // Exactly one of the two is set: a save writes, an install reads.
  std::shared_ptr<node::SnapshotWriter> writer;
  std::shared_ptr<node::SnapshotReader> reader;
  std::function<void(node::Status, const std::string&)> done;

  // Serialises the calls on this handle, so that a finish waits for a write or read in
  // progress on another thread, and a call that looked the handle up just before the
  // finish sees `finished` and touches nothing.
  std::mutex mu;
  bool finished = false;  // guarded by mu
  std::uint64_t written = 0;  // guarded by mu: a save's bytes so far

  // Under mu: marks it finished and calls done once.
  void finish_locked(node::Status status, const std::string& message);
};

class SnapshotHandles {
 public:
  // Registers `snapshot` and returns its handle (never 0, never reused), or 0 once the
  // table is closed: the caller then fails the request itself.
  std::uint64_t open(std::shared_ptr<OpenSnapshot> snapshot);
  // The open snapshot `handle` names, or null.
  std::shared_ptr<OpenSnapshot> find(std::uint64_t handle) const;
  // Removes `handle` for its caller to finish; null when it is not open.
  std::shared_ptr<OpenSnapshot> take(std::uint64_t handle);
  // Refuses new handles from now on and finishes every open one as failed with
  // `message` (ShuttingDown).
  void close(const std::string& message);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, std::shared_ptr<OpenSnapshot>> open_;
  std::uint64_t next_ = 1;
  bool closed_ = false;
};

// The node's snapshot handler: each save or install becomes a handle in n.snapshots and
// an event in n.events, in the order the engine hands them over.
node::SnapshotHandler snapshot_handler(synod_node& n);

}  // namespace synod::capi
