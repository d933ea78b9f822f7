// synod_snapshot_* and synod_node_request_snapshot: the host's side of saves and installs,
// and the handler that turns the engine's snapshot requests into events and handles.
#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "errors.h"
#include "handles.h"
#include "snapshot_handles.h"

using synod::capi::fail;
using synod::capi::guarded;
using synod::capi::OpenSnapshot;
namespace node = synod::node;

namespace synod::capi {

void OpenSnapshot::finish_locked(node::Status status, const std::string& message) {
  finished = true;
  // Released before done() returns to the engine, which may then drop its own ends.
  writer.reset();
  reader.reset();
  auto callback = std::move(done);
  callback(status, message);
}

std::uint64_t SnapshotHandles::open(std::shared_ptr<OpenSnapshot> snapshot) {
  std::lock_guard lock(mu_);
  if (closed_) return 0;
  const std::uint64_t handle = next_++;
  open_.emplace(handle, std::move(snapshot));
  return handle;
}

std::shared_ptr<OpenSnapshot> SnapshotHandles::find(std::uint64_t handle) const {
  std::lock_guard lock(mu_);
  const auto it = open_.find(handle);
  return it == open_.end() ? nullptr : it->second;
}

std::shared_ptr<OpenSnapshot> SnapshotHandles::take(std::uint64_t handle) {
  std::lock_guard lock(mu_);
  const auto it = open_.find(handle);
  if (it == open_.end()) return nullptr;
  auto snapshot = std::move(it->second);
  open_.erase(it);
  return snapshot;
}

void SnapshotHandles::close(const std::string& message) {
  decltype(open_) left;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    left.swap(open_);
  }
  // Outside mu_: done() reaches into the engine, which may open another handle (refused
  // now) on this very thread.
  for (auto& [handle, snapshot] : left) {
    std::lock_guard lock(snapshot->mu);
    if (!snapshot->finished) snapshot->finish_locked(node::Status::ShuttingDown, message);
  }
}

namespace {

synod_event snapshot_event(synod_event_type type, std::uint64_t partition, raft::Index index,
                           std::uint64_t handle) {
  synod_event e{};
  e.type = type;
  e.partition = partition;
  e.index = index;
  e.tag = handle;
  return e;
}

std::uint32_t reason_code(node::SnapshotReason reason) {
  switch (reason) {
    case node::SnapshotReason::Policy:
      return SYNOD_SNAPSHOT_POLICY;
    case node::SnapshotReason::Requested:
      return SYNOD_SNAPSHOT_REQUESTED;
    case node::SnapshotReason::Export:
      return SYNOD_SNAPSHOT_EXPORT;
  }
  return SYNOD_SNAPSHOT_POLICY;
}

// Registers `snapshot` and returns its handle; once the node is stopping, fails it instead
// and returns 0.
std::uint64_t open_or_refuse(SnapshotHandles& handles, std::shared_ptr<OpenSnapshot> snapshot) {
  const std::uint64_t handle = handles.open(snapshot);
  if (handle == 0) {
    std::lock_guard lock(snapshot->mu);
    snapshot->finish_locked(node::Status::ShuttingDown, "the node is stopping");
  }
  return handle;
}

}  // namespace

node::SnapshotHandler snapshot_handler(synod_node& n) {
  SnapshotHandles* handles = &n.snapshots;
  EventQueue* events = &n.events;
  node::SnapshotHandler handler;
  handler.save = [handles, events](node::SaveRequest request) {
    auto snapshot = std::make_shared<OpenSnapshot>();
    snapshot->writer = std::move(request.writer);
    snapshot->done = std::move(request.done);
    const std::uint64_t handle = open_or_refuse(*handles, std::move(snapshot));
    if (handle == 0) return;
    synod_event e = snapshot_event(SYNOD_EVENT_SNAPSHOT_SAVE, request.partition, request.index, handle);
    e.entry_type = reason_code(request.reason);
    events->push(e);
  };
  handler.install = [handles, events](node::InstallRequest request) {
    auto snapshot = std::make_shared<OpenSnapshot>();
    snapshot->reader = std::move(request.reader);
    snapshot->done = std::move(request.done);
    const std::uint64_t handle = open_or_refuse(*handles, std::move(snapshot));
    if (handle == 0) return;
    synod_event e = snapshot_event(SYNOD_EVENT_SNAPSHOT_INSTALL, request.partition, request.index, handle);
    e.term = request.term;
    e.entry_type = request.from_leader ? 1 : 0;
    events->push(e);
  };
  return handler;
}

}  // namespace synod::capi

namespace {

std::string prefixed(const char* function, const std::string& what) {
  return std::string(function) + ": " + what;
}

int null_argument(const char* function, const char* name) {
  return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(function, std::string(name) + " is NULL"));
}

int not_open(const char* function, std::uint64_t handle) {
  return fail(SYNOD_E_INVALID_ARGUMENT,
              prefixed(function, "snapshot " + std::to_string(handle) + " is not open (unknown or finished)"));
}

// Runs `body` on the open snapshot `handle` under its lock, or fails naming `function`.
template <typename Body>
int with_snapshot(const char* function, synod_node* n, std::uint64_t handle, Body&& body) {
  return guarded(function, [&]() -> int {
    if (!n) return null_argument(function, "node");
    const auto snapshot = n->snapshots.find(handle);
    if (!snapshot) return not_open(function, handle);
    std::lock_guard lock(snapshot->mu);
    if (snapshot->finished) return not_open(function, handle);
    return body(*snapshot);
  });
}

int wrong_kind(const char* function, std::uint64_t handle, const char* what) {
  return fail(SYNOD_E_INVALID_ARGUMENT,
              prefixed(function, "snapshot " + std::to_string(handle) + " is " + what));
}

}  // namespace

extern "C" {

SYNOD_API int synod_snapshot_write(synod_node* node, uint64_t snapshot, const uint8_t* data,
                                   size_t len) {
  constexpr const char* fn = "synod_snapshot_write";
  if (!data && len != 0) {
    return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "data is NULL but len is " + std::to_string(len)));
  }
  return with_snapshot(fn, node, snapshot, [&](OpenSnapshot& s) -> int {
    if (!s.writer) return wrong_kind(fn, snapshot, "being installed: it is read, not written");
    if (len == 0) return SYNOD_OK;
    if (!s.writer->write(data, len)) {
      return fail(SYNOD_E_STORAGE, prefixed(fn, "snapshot " + std::to_string(snapshot) + ": " + s.writer->why()));
    }
    s.written += len;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_snapshot_read(synod_node* node, uint64_t snapshot, uint8_t* buf,
                                  size_t cap, size_t* out_len) {
  constexpr const char* fn = "synod_snapshot_read";
  if (out_len) *out_len = 0;
  if (!out_len) return null_argument(fn, "out_len");
  if (!buf) return null_argument(fn, "buf");
  if (cap == 0) return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "cap is 0"));
  return with_snapshot(fn, node, snapshot, [&](OpenSnapshot& s) -> int {
    if (!s.reader) return wrong_kind(fn, snapshot, "being saved: it is written, not read");
    const std::size_t want = std::min<std::size_t>(cap, std::numeric_limits<std::int64_t>::max());
    const std::int64_t got = s.reader->read(buf, want);
    if (got < 0) {
      return fail(SYNOD_E_STORAGE, prefixed(fn, "snapshot " + std::to_string(snapshot) + ": " + s.reader->why()));
    }
    *out_len = static_cast<std::size_t>(got);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_snapshot_size(synod_node* node, uint64_t snapshot, uint64_t* out_bytes) {
  constexpr const char* fn = "synod_snapshot_size";
  if (out_bytes) *out_bytes = 0;
  if (!out_bytes) return null_argument(fn, "out_bytes");
  return with_snapshot(fn, node, snapshot, [&](OpenSnapshot& s) -> int {
    *out_bytes = s.reader ? s.reader->size() : s.written;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_snapshot_finish(synod_node* node, uint64_t snapshot, int status,
                                    const char* message) {
  constexpr const char* fn = "synod_snapshot_finish";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    node::Status outcome = node::Status::Ok;
    std::string text = message ? message : "";
    if (status > SYNOD_OK) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  prefixed(fn, "status " + std::to_string(status) + " is neither SYNOD_OK nor an error"));
    }
    if (!synod::capi::status_from_c(status, &outcome)) {
      // A C-only or unknown code: still a failure, reported as storage's, and named.
      outcome = node::Status::StorageFailure;
      text = std::string(synod_errstr(status)) + " (" + std::to_string(status) + ")" +
             (text.empty() ? "" : ": " + text);
    }
    const auto open = node->snapshots.take(snapshot);
    if (!open) return not_open(fn, snapshot);
    std::lock_guard lock(open->mu);
    if (open->finished) return not_open(fn, snapshot);
    if (outcome != node::Status::Ok && text.empty()) text = "the host failed it";
    open->finish_locked(outcome, text);
    return SYNOD_OK;
  });
}

}  // extern "C"
