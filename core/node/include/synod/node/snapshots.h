// Host snapshots: how a NodeHost asks its host to save, export and install state, and
// when it compacts the log behind them.
//
// Two host models (SnapshotPolicy::model):
//   - InMemory: the host's state lives in memory and is rebuilt on restart. The engine
//     asks for a snapshot every `every_entries` entries or `every_bytes` bytes of log
//     applied since the last one, compacts the log behind it (keeping `keep_entries` for
//     slow followers), and after a restart installs the latest snapshot before delivering
//     the entries above it.
//   - Durable: the host keeps its state in its own database and reports how far it has
//     durably applied (NodeHost::report_applied). No periodic snapshots: the log is
//     compacted behind the applied floor (keeping `keep_entries`), and a snapshot is asked
//     for only when a follower or learner needs one (it fell behind the compacted prefix):
//     the host exports its state, and the follower's host imports it.
//
// Ordering. A save request is delivered in log order, right after the entry at its index:
// the host's state when it handles the request is its state at that index. An install is
// delivered in log order too: every entry below it first, then the install, then only
// entries above it; no entry is delivered while an install is unfinished.
//
// Completion. The host writes (or reads) the data and then calls done() once, from any
// thread, now or later. A save the host fails is retried by policy later; a snapshot it
// has not completed keeps the log uncompacted. An install it fails leaves the partition
// halted (it reports StorageFailure) and is reported through the failure log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "synod/node/status.h"
#include "synod/raft/types.h"

namespace synod::node {

enum class StateMachineModel : std::uint8_t { InMemory, Durable };

struct SnapshotPolicy {
  StateMachineModel model = StateMachineModel::InMemory;
  // InMemory: snapshot after this many entries (0: never by count) or this many bytes of
  // entry payload (0: never by size) applied since the last snapshot. Both 0 with the
  // InMemory model: snapshots only on request (NodeHost::request_snapshot) or when a
  // follower needs one.
  std::uint64_t every_entries = 0;
  std::uint64_t every_bytes = 0;
  // Entries kept below the snapshot (InMemory) or the applied floor (Durable) when the
  // log is compacted, so a follower a little behind catches up from the log.
  std::uint64_t keep_entries = 1024;
};

// The host's end of one snapshot being saved: it writes its state, then calls done().
// Writes are streamed to a file; nothing is held whole in memory.
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  // Appends bytes; false (with why() set) once the file cannot be written.
  virtual bool write(const void* data, std::size_t size) = 0;
  virtual const std::string& why() const = 0;
};

// The host's end of one snapshot being installed: it reads the state, then calls done().
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  // Total size of the data.
  virtual std::uint64_t size() const = 0;
  // Reads up to `size` bytes; returns how many (0 at the end), or -1 when the data is
  // damaged (why() says how; the host must then fail the install).
  virtual std::int64_t read(void* out, std::size_t size) = 0;
  virtual const std::string& why() const = 0;
};

// Reads what is left of `reader` into `out`; false when the data is damaged (reader.why()
// says how). For states small enough to hold whole; large ones are better read in pieces.
inline bool read_all(SnapshotReader& reader, std::string& out) {
  char chunk[16384];
  for (;;) {
    const std::int64_t got = reader.read(chunk, sizeof chunk);
    if (got < 0) return false;
    if (got == 0) return true;
    out.append(chunk, static_cast<std::size_t>(got));
  }
}

enum class SnapshotReason : std::uint8_t {
  Policy,     // InMemory: the entries or bytes since the last snapshot passed the policy
  Requested,  // NodeHost::request_snapshot
  Export,     // a follower is behind the compacted prefix and needs the host's state
};

struct SaveRequest {
  std::uint64_t partition = 0;
  raft::Index index = 0;
  SnapshotReason reason = SnapshotReason::Policy;
  std::shared_ptr<SnapshotWriter> writer;
  // Call once: Ok when everything was written, or an error status and a message.
  std::function<void(Status, const std::string& message)> done;
};

struct InstallRequest {
  std::uint64_t partition = 0;
  raft::Index index = 0;
  raft::Term term = 0;
  // True when the snapshot came from the leader, false when it is this node's own latest
  // snapshot, installed again after a restart (InMemory model).
  bool from_leader = false;
  std::shared_ptr<SnapshotReader> reader;
  // Call once: Ok when the host's state was replaced by the snapshot's, or an error.
  std::function<void(Status, const std::string& message)> done;
};

// Set with NodeHost::set_snapshot_handler before start(). Both run on engine tasks in log
// order (see above) and must not block on the NodeHost; they may hand the work to another
// thread and call done() from there.
struct SnapshotHandler {
  std::function<void(SaveRequest)> save;
  std::function<void(InstallRequest)> install;
};

}  // namespace synod::node
