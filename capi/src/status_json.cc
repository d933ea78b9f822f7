// synod_node_status_json: the node's partitions and transport counters as JSON.
#include <string>

#include "errors.h"
#include "handles.h"
#include "json.h"

using synod::capi::fail;
using synod::capi::guarded;

namespace {

using synod::capi::JsonObject;

std::string status_json(const synod_node& n) {
  std::string out;
  {
    JsonObject root(out);
    root.number("node", n.id);
    root.key("partitions") += '[';
    bool first = true;
    for (const auto& p : n.runtime->host().status()) {
      if (!first) out += ',';
      first = false;
      JsonObject partition(out);
      partition.number("partition", p.partition);
      if (!p.storage_error.empty()) {
        partition.string("storage_error", p.storage_error);
        continue;
      }
      partition.string("role", synod::raft::to_string(p.raft.soft_state.role));
      partition.number("term", p.raft.hard_state.term);
      partition.number("leader", p.raft.soft_state.leader);
      partition.number("commit", p.raft.hard_state.commit);
      partition.number("applied", p.raft.applied);
      partition.number("last_index", p.raft.last_index);
      partition.boolean("quiescent", p.quiescent);
    }
    out += ']';
    const auto t = n.runtime->transport().stats();
    JsonObject transport(root.key("transport"));
    transport.number("batches_sent", t.batches_sent);
    transport.number("messages_sent", t.messages_sent);
    transport.number("batches_received", t.batches_received);
    transport.number("messages_received", t.messages_received);
    transport.number("bytes_sent", t.bytes_sent);
    transport.number("bytes_received", t.bytes_received);
    transport.number("reconnects", t.reconnects);
    transport.number("dropped_peer_unknown", t.dropped_peer_unknown);
    transport.number("dropped_peer_down", t.dropped_peer_down);
    transport.number("dropped_queue_full", t.dropped_queue_full);
    transport.number("dropped_link_cut", t.dropped_link_cut);
    transport.number("dropped_stopped", t.dropped_stopped);
    transport.number("messages_dropped", t.messages_dropped);
    transport.number("refused_foreign_cluster", t.refused_foreign_cluster);
    transport.number("refused_unknown_sender", t.refused_unknown_sender);
    transport.number("refused_wrong_destination", t.refused_wrong_destination);
    transport.number("refused_malformed", t.refused_malformed);
    transport.number("refused_unauthenticated", t.refused_unauthenticated);
    transport.number("refused_bad_signature", t.refused_bad_signature);
    transport.number("refused_stale", t.refused_stale);
    transport.number("refused_replayed", t.refused_replayed);
    transport.number("refused_replay_cache_full", t.refused_replay_cache_full);
    transport.number("messages_malformed", t.messages_malformed);
    transport.number("dropped_too_large", t.dropped_too_large);
    transport.number("dropped_snapshot_unavailable", t.dropped_snapshot_unavailable);
    transport.number("snapshot_chunks_sent", t.snapshot_chunks_sent);
    transport.number("snapshot_chunks_received", t.snapshot_chunks_received);
    transport.number("snapshot_bytes_sent", t.snapshot_bytes_sent);
    transport.number("snapshot_bytes_received", t.snapshot_bytes_received);
    transport.number("snapshot_transfers_failed", t.snapshot_transfers_failed);
    transport.number("snapshot_transfers_refused", t.snapshot_transfers_refused);
    transport.number("snapshot_transfers_abandoned", t.snapshot_transfers_abandoned);
  }
  return out;
}

}  // namespace

extern "C" {

SYNOD_API int synod_node_status_json(synod_node* node, char** out_json, size_t* out_len) {
  constexpr const char* fn = "synod_node_status_json";
  if (out_json) *out_json = nullptr;
  return guarded(fn, [&]() -> int {
    if (!node) return fail(SYNOD_E_INVALID_ARGUMENT, std::string(fn) + ": node is NULL");
    if (!out_json) return fail(SYNOD_E_INVALID_ARGUMENT, std::string(fn) + ": out_json is NULL");
    const std::string json = status_json(*node);
    return synod::capi::hand_out(fn, json, out_json, out_len);
  });
}

}  // extern "C"
