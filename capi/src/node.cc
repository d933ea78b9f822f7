// synod_node_*: making, running and stopping a node, and its requests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "handles.h"

using synod::capi::fail;
using synod::capi::guarded;
using synod::capi::status_of;
namespace node = synod::node;
namespace raft = synod::raft;

namespace {

std::string prefixed(const char* function, const std::string& what) {
  return std::string(function) + ": " + what;
}

int null_argument(const char* function, const char* name) {
  return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(function, std::string(name) + " is NULL"));
}

// Why calls on a stopped node are refused.
int stopped_error(const char* function, synod_node& n) {
  std::string why;
  {
    std::lock_guard lock(n.failure_mu);
    why = n.failure;
  }
  return fail(SYNOD_E_SHUTTING_DOWN,
              prefixed(function, why.empty() ? "the node was stopped" : why));
}

// Checks the node handle and that the node still runs.
int check_running(const char* function, synod_node* n) {
  if (!n) return null_argument(function, "node");
  if (n->stopped.load()) return stopped_error(function, *n);
  return SYNOD_OK;
}

// A request adds an event: refused while the host has not polled the queue down.
int check_event_room(const char* function, synod_node& n) {
  if (n.events.has_room()) return SYNOD_OK;
  return fail(SYNOD_E_QUEUE_FULL, prefixed(function, "too many events wait for synod_node_poll"));
}

int check_bytes(const char* function, const uint8_t* data, size_t len) {
  if (!data && len != 0) {
    return fail(SYNOD_E_INVALID_ARGUMENT,
                prefixed(function, "data is NULL but len is " + std::to_string(len)));
  }
  return SYNOD_OK;
}

bool hosts(const synod_node& n, uint64_t partition) {
  const auto ids = n.runtime->host().partitions();
  return std::binary_search(ids.begin(), ids.end(), partition);
}

int unknown_partition(const char* function, const synod_node& n, uint64_t partition) {
  return fail(SYNOD_E_UNKNOWN_PARTITION,
              prefixed(function, "partition " + std::to_string(partition) +
                                     " is not hosted by node " + std::to_string(n.id)));
}

// Text for a request refused with `status`.
std::string refusal(const char* function, uint64_t partition, node::Status status,
                    node::NodeId leader_hint) {
  std::string text =
      prefixed(function, "partition " + std::to_string(partition) + ": " + node::to_string(status));
  if (status == node::Status::NotLeader && leader_hint != raft::kNoNode) {
    text += " (leader: node " + std::to_string(leader_hint) + ")";
  }
  return text;
}

// A request whose answer may come back inside the call that made it (an immediate
// refusal) or later from an engine thread. Exactly one side wins the state change: the
// call returns an inline refusal as its status, anything else becomes an event.
template <typename Result>
struct Submission {
  enum State : int { kSubmitting, kRefusedInline, kAsync };
  std::atomic<int> state{kSubmitting};
  Result refusal;

  // Called with the answer; true when the caller returns it instead of an event.
  bool take_inline(const Result& result, bool refused) {
    if (!refused) return false;
    refusal = result;
    int expected = kSubmitting;
    return state.compare_exchange_strong(expected, kRefusedInline, std::memory_order_acq_rel);
  }
  // Called by the submitter once the engine returned; true when the request was refused.
  bool refused_inline() {
    int expected = kSubmitting;
    return !state.compare_exchange_strong(expected, kAsync, std::memory_order_acq_rel);
  }
};

synod_event result_event(synod_event_type type, uint64_t partition, uint64_t tag,
                         node::Status status) {
  synod_event e{};
  e.type = type;
  e.status = status_of(status);
  e.partition = partition;
  e.tag = tag;
  return e;
}

// What a log line concerns besides the node: a partition, and its term, when they apply.
struct LogScope {
  std::optional<node::PartitionId> partition;
  std::optional<raft::Term> term;
};

synod_event log_event(synod_log_level level, const LogScope& scope) {
  synod_event e{};
  e.type = SYNOD_EVENT_LOG;
  e.status = level;
  if (scope.partition) {
    e.entry_type |= static_cast<uint32_t>(SYNOD_LOG_HAS_PARTITION);
    e.partition = *scope.partition;
    if (scope.term) {
      e.entry_type |= static_cast<uint32_t>(SYNOD_LOG_HAS_TERM);
      e.term = *scope.term;
    }
  }
  return e;
}

void push_log(synod::capi::EventQueue& events, synod_log_level level, std::string text,
              const LogScope& scope = {}) {
  events.push(log_event(level, scope), raft::Bytes(std::move(text)));
}

// The C status for a part of the node that could not be built.
int build_error_status(synod::node::RuntimeError::Kind kind) {
  using Kind = synod::node::RuntimeError::Kind;
  switch (kind) {
    case Kind::Storage:
      return SYNOD_E_STORAGE;
    case Kind::Transport:
      return SYNOD_E_TRANSPORT;
    case Kind::Config:
      break;
  }
  return SYNOD_E_CONFIG;
}

int make_node(const synod::capi::NodeSettings& s, std::unique_ptr<synod_node>& out) {
  constexpr const char* fn = "synod_node_new";
  if (s.host.node_id == raft::kNoNode) {
    return fail(SYNOD_E_CONFIG, prefixed(fn, "no node id: call synod_config_set_node_id"));
  }
  auto n = std::make_unique<synod_node>();
  n->id = s.host.node_id;
  n->max_payload_bytes = s.host.max_payload_bytes;

  synod::node::NodeRuntimeOptions options = s;
  synod::capi::EventQueue* events = &n->events;
  options.store.on_warning = [events](const synod::storage::StorageWarning& warning) {
    push_log(*events, SYNOD_LOG_WARNING, "storage: " + warning.message,
             {warning.partition, warning.term});
  };
  options.transport.on_warning = [events](std::string_view message) {
    push_log(*events, SYNOD_LOG_WARNING, "transport: " + std::string(message));
  };
  synod::node::RuntimeError error;
  n->runtime = synod::node::NodeRuntime::create(std::move(options), &error);
  if (!n->runtime) {
    return fail(build_error_status(error.kind), prefixed(fn, error.message));
  }
  node::NodeHost& host = n->runtime->host();

  n->events.bound(s.max_pending_events, [&host](bool full) { host.set_delivery_paused(full); });
  // The queue outlives the runtime and so the registry (handles.h).
  host.metrics().gauge_collector("synod_event_queue_depth",
                                 "Events waiting for synod_node_poll (C ABI).", {},
                                 [events](synod::metrics::GaugeSink& out) {
                                   out.add({}, static_cast<double>(events->pending()));
                                 });
  host.set_apply_handler([events](const node::CommittedEntry& entry) {
    synod_event e{};
    e.type = SYNOD_EVENT_ENTRY;
    e.partition = entry.partition;
    e.index = entry.index;
    e.term = entry.term;
    e.entry_type = entry.type;
    events->push(e, entry.payload);
  });
  synod_node* raw = n.get();
  host.set_leader_handler([events, raw](const node::LeaderChange& change) {
    synod_event e{};
    e.type = SYNOD_EVENT_LEADER_CHANGED;
    e.partition = change.partition;
    e.term = change.term;
    e.leader_hint = change.leader;
    events->push(e);
    raw->leader_changed.notify_all();
  });
  host.set_snapshot_handler(synod::capi::snapshot_handler(*n));
  // A partition that stopped running while the node goes on (a snapshot it could not
  // install): its requests answer SYNOD_E_STORAGE from then on; the log says why.
  host.set_partition_failure_handler([events](const node::PartitionFailure& failure) {
    push_log(*events, SYNOD_LOG_ERROR,
             "partition " + std::to_string(failure.partition) + " halted: " + failure.why,
             {failure.partition, failure.term});
  });
  // Runs inside the NodeHost's stop, which every other stop() caller (synod_node_stop and
  // synod_node_free among them) waits for: the node is alive throughout.
  host.set_failure_handler([events, raw](const std::string& why) {
    {
      std::lock_guard lock(raw->failure_mu);
      raw->failure = why;
    }
    raw->stopped.store(true);
    push_log(*events, SYNOD_LOG_ERROR, why);
    events->close();
    raw->leader_changed.notify_all();
  });
  n->runtime->start();
  out = std::move(n);
  return SYNOD_OK;
}

void stop_node(synod_node& n) {
  std::lock_guard lock(n.stop_mu);
  if (std::exchange(n.stop_called, true)) return;
  n.stopped.store(true);
  // Before the engine stops, which may wait for the saves and installs it handed out.
  n.snapshots.close("the node stopped before the host finished the snapshot");
  // Also waits for a stop the node began itself (storage failure) to finish.
  n.runtime->stop();
  n.events.close();
  n.leader_changed.notify_all();
}

}  // namespace

extern "C" {

SYNOD_API int synod_node_new(const synod_config* config, synod_node** out) {
  constexpr const char* fn = "synod_node_new";
  if (out) *out = nullptr;
  return guarded(fn, [&]() -> int {
    if (!config) return null_argument(fn, "config");
    if (!out) return null_argument(fn, "out");
    synod::capi::NodeSettings settings;
    {
      // A copy, so that other threads may change the configuration while the node starts.
      std::lock_guard lock(config->mu);
      settings = config->settings;
    }
    std::unique_ptr<synod_node> n;
    if (const int status = make_node(settings, n); status != SYNOD_OK) return status;
    *out = n.release();
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_stop(synod_node* node) {
  constexpr const char* fn = "synod_node_stop";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    stop_node(*node);
    return SYNOD_OK;
  });
}

SYNOD_API void synod_node_free(synod_node* node) {
  if (!node) return;
  guarded("synod_node_free", [&]() -> int {
    stop_node(*node);
    delete node;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_poll(synod_node* node, synod_event* events, size_t max, int timeout_ms) {
  constexpr const char* fn = "synod_node_poll";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!events) return null_argument(fn, "events");
    if (max == 0) return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "max is 0"));
    if (timeout_ms < -1) {
      return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "timeout " + std::to_string(timeout_ms) +
                                                             " ms (use -1 to wait without limit)"));
    }
    const std::size_t limit = std::min<std::size_t>(max, std::numeric_limits<int>::max());
    return node->events.poll(events, limit, timeout_ms);
  });
}

SYNOD_API int synod_node_event_fd(synod_node* node, int* out_fd) {
  constexpr const char* fn = "synod_node_event_fd";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_fd) return null_argument(fn, "out_fd");
    *out_fd = node->events.fd();
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_pending_events(synod_node* node, size_t* out_count) {
  constexpr const char* fn = "synod_node_pending_events";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_count) return null_argument(fn, "out_count");
    *out_count = node->events.pending();
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_replicate(synod_node* node, uint64_t partition, uint32_t type,
                                   const uint8_t* data, size_t len, uint64_t tag) {
  constexpr const char* fn = "synod_node_replicate";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (const int s = check_event_room(fn, *node); s != SYNOD_OK) return s;
    if (const int s = check_bytes(fn, data, len); s != SYNOD_OK) return s;
    if (type == 0) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  prefixed(fn, "entry type 0 is reserved for the engine"));
    }
    if (len > node->max_payload_bytes) {
      return fail(SYNOD_E_PAYLOAD_TOO_LARGE,
                  prefixed(fn, std::to_string(len) + " bytes exceed the limit of " +
                                   std::to_string(node->max_payload_bytes)));
    }
    auto submission = std::make_shared<Submission<node::ReplicationResult>>();
    synod::capi::EventQueue* events = &node->events;
    node->runtime->host().replicate(
        partition, type, raft::Bytes::copy_of(std::span<const uint8_t>(data, len)),
        [submission, events, partition, tag](const node::ReplicationResult& r) {
          if (submission->take_inline(r, r.status != node::Status::Ok)) return;
          synod_event e = result_event(SYNOD_EVENT_REPLICATED, partition, tag, r.status);
          e.index = r.index;
          e.term = r.term;
          e.leader_hint = r.leader_hint;
          events->push(e);
        });
    if (!submission->refused_inline()) return SYNOD_OK;
    const auto& r = submission->refusal;
    return fail(status_of(r.status), refusal(fn, partition, r.status, r.leader_hint));
  });
}

SYNOD_API int synod_node_replicate_batch(synod_node* node, uint64_t partition,
                                         const synod_entry* entries, size_t count, uint64_t tag) {
  constexpr const char* fn = "synod_node_replicate_batch";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (const int s = check_event_room(fn, *node); s != SYNOD_OK) return s;
    if (!entries && count != 0) return null_argument(fn, "entries");
    if (count == 0) return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "the batch is empty"));
    std::vector<node::NodeHost::BatchEntry> batch;
    batch.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const synod_entry& e = entries[i];
      const std::string where = "entry " + std::to_string(i) + ": ";
      if (!e.data && e.len != 0) {
        return fail(SYNOD_E_INVALID_ARGUMENT,
                    prefixed(fn, where + "data is NULL but len is " + std::to_string(e.len)));
      }
      if (e.type == 0) {
        return fail(SYNOD_E_INVALID_ARGUMENT,
                    prefixed(fn, where + "entry type 0 is reserved for the engine"));
      }
      if (e.len > node->max_payload_bytes) {
        return fail(SYNOD_E_PAYLOAD_TOO_LARGE,
                    prefixed(fn, where + std::to_string(e.len) + " bytes exceed the limit of " +
                                     std::to_string(node->max_payload_bytes)));
      }
      batch.push_back({e.type, raft::Bytes::copy_of(std::span<const uint8_t>(e.data, e.len))});
    }
    // A batch refused before the call returns is refused whole, with one status.
    auto submission = std::make_shared<Submission<node::ReplicationResult>>();
    synod::capi::EventQueue* events = &node->events;
    node->runtime->host().replicate_batch(
        partition, std::move(batch),
        [submission, events, partition, tag](const std::vector<node::ReplicationResult>& results) {
          const bool refused_whole =
              std::all_of(results.begin(), results.end(), [&](const auto& r) {
                return r.status != node::Status::Ok && r.status == results.front().status &&
                       r.index == 0;
              });
          if (submission->take_inline(results.front(), refused_whole)) return;
          for (std::size_t i = 0; i < results.size(); ++i) {
            const auto& r = results[i];
            synod_event e = result_event(SYNOD_EVENT_REPLICATED, partition, tag, r.status);
            e.index = r.index;
            e.term = r.term;
            e.leader_hint = r.leader_hint;
            e.batch_position = static_cast<uint32_t>(i);
            events->push(e);
          }
        });
    if (!submission->refused_inline()) return SYNOD_OK;
    const auto& r = submission->refusal;
    return fail(status_of(r.status), refusal(fn, partition, r.status, r.leader_hint));
  });
}

SYNOD_API int synod_node_read_index(synod_node* node, uint64_t partition, uint64_t tag) {
  constexpr const char* fn = "synod_node_read_index";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (const int s = check_event_room(fn, *node); s != SYNOD_OK) return s;
    auto submission = std::make_shared<Submission<node::ReadResult>>();
    synod::capi::EventQueue* events = &node->events;
    node->runtime->host().read_index(
        partition, [submission, events, partition, tag](const node::ReadResult& r) {
          if (submission->take_inline(r, r.status != node::Status::Ok)) return;
          synod_event e = result_event(SYNOD_EVENT_READ_INDEX, partition, tag, r.status);
          e.index = r.index;
          e.leader_hint = r.leader_hint;
          events->push(e);
        });
    if (!submission->refused_inline()) return SYNOD_OK;
    const auto& r = submission->refusal;
    return fail(status_of(r.status), refusal(fn, partition, r.status, r.leader_hint));
  });
}

SYNOD_API int synod_node_replicate_wait(synod_node* node, uint64_t partition, uint32_t type,
                                        const uint8_t* data, size_t len, synod_result* out) {
  constexpr const char* fn = "synod_node_replicate_wait";
  return guarded(fn, [&]() -> int {
    if (!out) return null_argument(fn, "out");
    *out = synod_result{};
    auto finish = [&](int status) {
      out->status = status;
      return status;
    };
    if (const int s = check_running(fn, node); s != SYNOD_OK) return finish(s);
    if (const int s = check_bytes(fn, data, len); s != SYNOD_OK) return finish(s);
    if (type == 0) {
      return finish(
          fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "entry type 0 is reserved for the engine")));
    }
    if (len > node->max_payload_bytes) {
      return finish(fail(SYNOD_E_PAYLOAD_TOO_LARGE,
                         prefixed(fn, std::to_string(len) + " bytes exceed the limit of " +
                                          std::to_string(node->max_payload_bytes))));
    }
    const node::ReplicationResult r =
        node->runtime->host()
            .replicate(partition, type, raft::Bytes::copy_of(std::span<const uint8_t>(data, len)))
            .get();
    out->index = r.index;
    out->term = r.term;
    out->leader_hint = r.leader_hint;
    if (r.status != node::Status::Ok) {
      return finish(fail(status_of(r.status), refusal(fn, partition, r.status, r.leader_hint)));
    }
    return finish(SYNOD_OK);
  });
}

SYNOD_API int synod_node_read_index_wait(synod_node* node, uint64_t partition, synod_result* out) {
  constexpr const char* fn = "synod_node_read_index_wait";
  return guarded(fn, [&]() -> int {
    if (!out) return null_argument(fn, "out");
    *out = synod_result{};
    if (const int s = check_running(fn, node); s != SYNOD_OK) return out->status = s;
    auto promise = std::make_shared<std::promise<node::ReadResult>>();
    auto answered = promise->get_future();
    node->runtime->host().read_index(
        partition, [promise](const node::ReadResult& r) { promise->set_value(r); });
    const node::ReadResult r = answered.get();
    out->index = r.index;
    out->leader_hint = r.leader_hint;
    if (r.status != node::Status::Ok) {
      return out->status =
                 fail(status_of(r.status), refusal(fn, partition, r.status, r.leader_hint));
    }
    return out->status = SYNOD_OK;
  });
}

SYNOD_API int synod_node_report_applied(synod_node* node, uint64_t partition, uint64_t index) {
  constexpr const char* fn = "synod_node_report_applied";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    const node::Status status = node->runtime->host().report_applied(partition, index);
    if (status == node::Status::Ok) return SYNOD_OK;
    if (status == node::Status::InvalidArgument) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  prefixed(fn, "partition " + std::to_string(partition) + ": index " +
                                   std::to_string(index) + " has not been delivered yet"));
    }
    return fail(status_of(status), refusal(fn, partition, status, raft::kNoNode));
  });
}

SYNOD_API int synod_node_request_snapshot(synod_node* node, uint64_t partition, uint64_t tag) {
  constexpr const char* fn = "synod_node_request_snapshot";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (const int s = check_event_room(fn, *node); s != SYNOD_OK) return s;
    struct Outcome {
      node::Status status = node::Status::Ok;
      raft::Index index = 0;
    };
    auto submission = std::make_shared<Submission<Outcome>>();
    synod::capi::EventQueue* events = &node->events;
    node->runtime->host().request_snapshot(
        partition, [submission, events, partition, tag](node::Status status, raft::Index index) {
          if (submission->take_inline({status, index}, status != node::Status::Ok)) return;
          synod_event e = result_event(SYNOD_EVENT_SNAPSHOT_DONE, partition, tag, status);
          e.index = index;
          events->push(e);
        });
    if (!submission->refused_inline()) return SYNOD_OK;
    return fail(status_of(submission->refusal.status),
                refusal(fn, partition, submission->refusal.status, raft::kNoNode));
  });
}

SYNOD_API int synod_node_is_leader(synod_node* node, uint64_t partition, int* out_is_leader) {
  constexpr const char* fn = "synod_node_is_leader";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_is_leader) return null_argument(fn, "out_is_leader");
    *out_is_leader = 0;
    if (!hosts(*node, partition)) return unknown_partition(fn, *node, partition);
    *out_is_leader = node->runtime->host().is_leader(partition) ? 1 : 0;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_leader(synod_node* node, uint64_t partition, uint64_t* out_leader) {
  constexpr const char* fn = "synod_node_leader";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_leader) return null_argument(fn, "out_leader");
    *out_leader = 0;
    if (!hosts(*node, partition)) return unknown_partition(fn, *node, partition);
    *out_leader = node->runtime->host().leader_of(partition);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_wait_for_leader(synod_node* node, uint64_t partition, int timeout_ms,
                                         uint64_t* out_leader) {
  constexpr const char* fn = "synod_node_wait_for_leader";
  return guarded(fn, [&]() -> int {
    if (!out_leader) return null_argument(fn, "out_leader");
    *out_leader = 0;
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (timeout_ms < -1) {
      return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "timeout " + std::to_string(timeout_ms) +
                                                             " ms (use -1 to wait without limit)"));
    }
    if (!hosts(*node, partition)) return unknown_partition(fn, *node, partition);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::unique_lock lock(node->leader_mu);
    while (true) {
      *out_leader = node->runtime->host().leader_of(partition);
      if (*out_leader != raft::kNoNode) return SYNOD_OK;
      if (node->stopped.load()) return stopped_error(fn, *node);
      if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) break;
      // Leader changes and stop() notify; the slice covers a change published just after
      // its notification.
      node->leader_changed.wait_for(lock, std::chrono::milliseconds(10));
    }
    return fail(SYNOD_E_TIMEOUT,
                prefixed(fn, "no leader of partition " + std::to_string(partition) + " within " +
                                 std::to_string(timeout_ms) + " ms"));
  });
}

SYNOD_API int synod_node_transfer_leadership(synod_node* node, uint64_t partition,
                                             uint64_t target) {
  constexpr const char* fn = "synod_node_transfer_leadership";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (target == 0) return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "target node id 0"));
    const node::Status status = node->runtime->host().transfer_leadership(partition, target);
    if (status == node::Status::Ok) return SYNOD_OK;
    return fail(status_of(status),
                refusal(fn, partition, status, node->runtime->host().leader_of(partition)));
  });
}

SYNOD_API int synod_node_id(synod_node* node, uint64_t* out_id) {
  constexpr const char* fn = "synod_node_id";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_id) return null_argument(fn, "out_id");
    *out_id = node->id;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_partitions(synod_node* node, uint64_t* out, size_t max,
                                    size_t* out_count) {
  constexpr const char* fn = "synod_node_partitions";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_count) return null_argument(fn, "out_count");
    if (!out && max != 0) return null_argument(fn, "out");
    const auto ids = node->runtime->host().partitions();
    std::copy_n(ids.begin(), std::min(max, ids.size()), out);
    *out_count = ids.size();
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_listen_port(synod_node* node, int* out_port) {
  constexpr const char* fn = "synod_node_listen_port";
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_port) return null_argument(fn, "out_port");
    *out_port = 0;
    const auto* transport = node->runtime->network_transport();
    if (!transport) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  prefixed(fn, "the node uses no network transport (gRPC or REST)"));
    }
    *out_port = transport->listen_port();
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_set_peer_address(synod_node* node, uint64_t node_id, const char* address) {
  constexpr const char* fn = "synod_node_set_peer_address";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (node_id == 0) return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "node id 0"));
    if (!address || *address == '\0') {
      return fail(SYNOD_E_INVALID_ARGUMENT, prefixed(fn, "address is NULL or empty"));
    }
    auto* transport = node->runtime->network_transport();
    if (!transport) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  prefixed(fn, "the node uses no network transport (gRPC or REST)"));
    }
    if (node_id == node->id) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  prefixed(fn, "node " + std::to_string(node_id) + " is this node"));
    }
    transport->set_peer(node_id, address);
    return SYNOD_OK;
  });
}

}  // extern "C"

// Partition map changes: proposals on partition 0, answered by SYNOD_EVENT_PARTITION_MAP.
namespace {

static_assert(SYNOD_MAP_STALE_MAP_VERSION ==
              static_cast<int>(synod::system::Status::StaleMapVersion));
static_assert(SYNOD_MAP_SYSTEM_PARTITION ==
              static_cast<int>(synod::system::Status::SystemPartition));
static_assert(SYNOD_MAP_OVERLAPPING == static_cast<int>(synod::system::Status::Overlapping));
static_assert(SYNOD_MAP_NOT_ADJACENT == static_cast<int>(synod::system::Status::NotAdjacent));

// Text for a map change refused with `r`: the node status, and the map's own reason.
std::string map_refusal(const char* function, const node::MapChangeResult& r) {
  std::string text =
      prefixed(function, std::string("partition map change: ") + node::to_string(r.status));
  if (r.detail != synod::system::Status::Ok) {
    text += std::string(" (") + synod::system::to_string(r.detail) + ")";
  }
  if (r.status == node::Status::NotLeader && r.leader_hint != raft::kNoNode) {
    text += " (leader of partition 0: node " + std::to_string(r.leader_hint) + ")";
  }
  return text;
}

// Submits a map change through `propose` (which hands the engine its callback) and turns
// its answer into a return status or one SYNOD_EVENT_PARTITION_MAP.
template <typename Propose>
int submit_map_change(const char* fn, synod_node& n, uint64_t named, uint64_t tag,
                      Propose&& propose) {
  // Only the leader of partition 0 proposes: refused now rather than by an event, as
  // replicate does (leadership lost after this check is reported by the event).
  if (!n.runtime->host().is_leader(node::kSystemPartition)) {
    node::MapChangeResult r;
    r.status = node::Status::NotLeader;
    r.leader_hint = n.runtime->host().leader_of(node::kSystemPartition);
    return fail(SYNOD_E_NOT_LEADER, map_refusal(fn, r));
  }
  auto submission = std::make_shared<Submission<node::MapChangeResult>>();
  synod::capi::EventQueue* events = &n.events;
  propose([submission, events, named, tag](const node::MapChangeResult& r) {
    // A change that reached the log (index set) is answered by the event even when the
    // answer comes before this call returns: the map's reason travels in the event.
    if (submission->take_inline(r, r.status != node::Status::Ok && r.index == 0)) return;
    synod_event e =
        result_event(SYNOD_EVENT_PARTITION_MAP, named != 0 ? named : r.partition, tag, r.status);
    e.index = r.index;
    e.term = r.map_version;
    e.leader_hint = r.leader_hint;
    e.entry_type = static_cast<uint32_t>(r.detail);
    std::string reason;
    if (r.detail != synod::system::Status::Ok) reason = synod::system::to_string(r.detail);
    events->push(e, raft::Bytes(std::move(reason)));
  });
  if (!submission->refused_inline()) return SYNOD_OK;
  return fail(status_of(submission->refusal.status), map_refusal(fn, submission->refusal));
}

}  // namespace

extern "C" {

SYNOD_API int synod_node_create_partition(synod_node* node, int mode, uint64_t lo, uint64_t hi,
                                          uint64_t expected_version, uint64_t tag) {
  constexpr const char* fn = "synod_node_create_partition";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (mode != SYNOD_ROUTING_UNROUTED && mode != SYNOD_ROUTING_HASH_RANGE) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  prefixed(fn, "unknown routing mode " + std::to_string(mode)));
    }
    synod::system::HashRange range;
    if (mode == SYNOD_ROUTING_HASH_RANGE) {
      if (lo > hi) {
        return fail(
            SYNOD_E_INVALID_ARGUMENT,
            prefixed(fn, "range lo " + std::to_string(lo) + " is above hi " + std::to_string(hi)));
      }
      range = {lo, hi};
    }
    if (const int s = check_event_room(fn, *node); s != SYNOD_OK) return s;
    const auto routing = mode == SYNOD_ROUTING_HASH_RANGE ? synod::system::RoutingMode::HashRange
                                                          : synod::system::RoutingMode::Unrouted;
    return submit_map_change(fn, *node, 0, tag, [&](auto done) {
      node->runtime->host().create_partition(routing, range, expected_version, std::move(done));
    });
  });
}

SYNOD_API int synod_node_remove_partition(synod_node* node, uint64_t partition,
                                          uint64_t expected_version, uint64_t tag) {
  constexpr const char* fn = "synod_node_remove_partition";
  return guarded(fn, [&]() -> int {
    if (const int s = check_running(fn, node); s != SYNOD_OK) return s;
    if (partition == node::kSystemPartition) {
      return fail(SYNOD_E_SYSTEM_PARTITION,
                  prefixed(fn, "partition 0 is the system partition and cannot be removed"));
    }
    if (const int s = check_event_room(fn, *node); s != SYNOD_OK) return s;
    return submit_map_change(fn, *node, partition, tag, [&](auto done) {
      node->runtime->host().remove_partition(partition, expected_version, std::move(done));
    });
  });
}

}  // extern "C"
