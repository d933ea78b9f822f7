// synod_config_*: building a node's settings, with every value checked as it is set.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "errors.h"
#include "handles.h"

using synod::capi::fail;
using synod::capi::guarded;

namespace {

constexpr std::size_t kMaxPayloadLimit = std::size_t{64} << 20;

// Runs `apply` on a non-NULL config, or fails naming `function`.
template <typename Apply>
int with_config(const char* function, synod_config* config, Apply&& apply) {
  return guarded(function, [&]() -> int {
    if (!config) return fail(SYNOD_E_INVALID_ARGUMENT, std::string(function) + ": config is NULL");
    std::lock_guard lock(config->mu);
    return apply(config->settings);
  });
}

int out_of_range(const char* function, const std::string& what) {
  return fail(SYNOD_E_INVALID_ARGUMENT, std::string(function) + ": " + what);
}

}  // namespace

extern "C" {

SYNOD_API int synod_config_new(synod_config** out) {
  return guarded("synod_config_new", [&]() -> int {
    if (!out) return fail(SYNOD_E_INVALID_ARGUMENT, "synod_config_new: out is NULL");
    *out = new synod_config();
    return SYNOD_OK;
  });
}

SYNOD_API void synod_config_free(synod_config* config) { delete config; }

SYNOD_API int synod_config_set_node_id(synod_config* config, uint64_t node_id) {
  constexpr const char* fn = "synod_config_set_node_id";
  return with_config(fn, config, [&](auto& s) -> int {
    if (node_id == 0) return out_of_range(fn, "node id 0 is reserved (no node)");
    s.host.node_id = node_id;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_cluster_id(synod_config* config, uint64_t cluster_id) {
  constexpr const char* fn = "synod_config_set_cluster_id";
  return with_config(fn, config, [&](auto& s) -> int {
    if (cluster_id == 0) return out_of_range(fn, "cluster id must be nonzero");
    s.host.cluster_id = cluster_id;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_add_member(synod_config* config, uint64_t node_id) {
  constexpr const char* fn = "synod_config_add_member";
  return with_config(fn, config, [&](auto& s) -> int {
    if (node_id == 0) return out_of_range(fn, "node id 0 is reserved (no node)");
    auto& members = s.host.initial_members;
    if (std::find(members.begin(), members.end(), node_id) == members.end()) {
      members.push_back(node_id);
    }
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_user_partitions(synod_config* config, uint32_t count) {
  constexpr const char* fn = "synod_config_set_user_partitions";
  return with_config(fn, config, [&](auto& s) -> int {
    if (count == 0 || count > (1u << 20)) {
      return out_of_range(fn, "count " + std::to_string(count) + " is not in 1..1048576");
    }
    s.host.user_partitions = count;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_tick_interval_ms(synod_config* config, uint32_t ms) {
  constexpr const char* fn = "synod_config_set_tick_interval_ms";
  return with_config(fn, config, [&](auto& s) -> int {
    if (ms == 0 || ms > 60'000) return out_of_range(fn, std::to_string(ms) + " ms is not in 1..60000");
    s.host.tick_interval = std::chrono::milliseconds(ms);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_election_ticks(synod_config* config, uint32_t ticks) {
  constexpr const char* fn = "synod_config_set_election_ticks";
  return with_config(fn, config, [&](auto& s) -> int {
    if (ticks < 2 || ticks > 100'000) {
      return out_of_range(fn, std::to_string(ticks) + " ticks is not in 2..100000");
    }
    s.host.election_ticks = static_cast<int>(ticks);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_heartbeat_ticks(synod_config* config, uint32_t ticks) {
  constexpr const char* fn = "synod_config_set_heartbeat_ticks";
  return with_config(fn, config, [&](auto& s) -> int {
    if (ticks < 1 || ticks > 100'000) {
      return out_of_range(fn, std::to_string(ticks) + " ticks is not in 1..100000");
    }
    s.host.heartbeat_ticks = static_cast<int>(ticks);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_max_payload_bytes(synod_config* config, size_t bytes) {
  constexpr const char* fn = "synod_config_set_max_payload_bytes";
  return with_config(fn, config, [&](auto& s) -> int {
    if (bytes == 0 || bytes > kMaxPayloadLimit) {
      return out_of_range(fn, std::to_string(bytes) + " bytes is not in 1..67108864");
    }
    s.host.max_payload_bytes = bytes;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_max_queued_requests(synod_config* config, size_t count) {
  constexpr const char* fn = "synod_config_set_max_queued_requests";
  return with_config(fn, config, [&](auto& s) -> int {
    if (count == 0 || count > (std::size_t{1} << 24)) {
      return out_of_range(fn, std::to_string(count) + " is not in 1..16777216");
    }
    s.host.max_queued_requests = count;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_max_pending_events(synod_config* config, size_t count) {
  constexpr const char* fn = "synod_config_set_max_pending_events";
  return with_config(fn, config, [&](auto& s) -> int {
    if (count < 2 || count > (std::size_t{1} << 24)) {
      return out_of_range(fn, std::to_string(count) + " is not in 2..16777216");
    }
    s.max_pending_events = count;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_request_timeout_ms(synod_config* config, uint32_t ms) {
  constexpr const char* fn = "synod_config_set_request_timeout_ms";
  return with_config(fn, config, [&](auto& s) -> int {
    if (ms == 0 || ms > 3'600'000) {
      return out_of_range(fn, std::to_string(ms) + " ms is not in 1..3600000");
    }
    s.host.request_timeout = std::chrono::milliseconds(ms);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_worker_threads(synod_config* config, uint32_t threads) {
  constexpr const char* fn = "synod_config_set_worker_threads";
  return with_config(fn, config, [&](auto& s) -> int {
    if (threads > 1024) return out_of_range(fn, std::to_string(threads) + " is not in 0..1024");
    s.worker_threads = threads;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_seed(synod_config* config, uint64_t seed) {
  return with_config("synod_config_set_seed", config, [&](auto& s) -> int {
    s.host.seed = seed;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_storage(synod_config* config, const char* engine,
                                       const char* directory) {
  constexpr const char* fn = "synod_config_set_storage";
  return with_config(fn, config, [&](auto& s) -> int {
    if (!engine) return out_of_range(fn, "engine is NULL");
    const std::string name = engine;
    if (name != "rocksdb" && name != "sqlite" && name != "memory") {
      return out_of_range(fn, "unknown engine \"" + name + "\" (rocksdb, sqlite or memory)");
    }
    if (name != "memory" && (!directory || *directory == '\0')) {
      return out_of_range(fn, "engine " + name + " needs a data directory");
    }
    s.store.engine = name;
    s.store.directory = name == "memory" || !directory ? std::string() : std::string(directory);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_sync(synod_config* config, int sync) {
  return with_config("synod_config_set_sync", config, [&](auto& s) -> int {
    s.host.sync = sync != 0;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_state_machine(synod_config* config, int model) {
  constexpr const char* fn = "synod_config_set_state_machine";
  return with_config(fn, config, [&](auto& s) -> int {
    switch (model) {
      case SYNOD_STATE_MACHINE_IN_MEMORY:
        s.host.snapshots.model = synod::node::StateMachineModel::InMemory;
        return SYNOD_OK;
      case SYNOD_STATE_MACHINE_DURABLE:
        s.host.snapshots.model = synod::node::StateMachineModel::Durable;
        return SYNOD_OK;
    }
    return out_of_range(fn, "model " + std::to_string(model) +
                                " is neither SYNOD_STATE_MACHINE_IN_MEMORY nor SYNOD_STATE_MACHINE_DURABLE");
  });
}

SYNOD_API int synod_config_set_snapshot_policy(synod_config* config, uint64_t every_entries,
                                               uint64_t every_bytes, uint64_t keep_entries) {
  return with_config("synod_config_set_snapshot_policy", config, [&](auto& s) -> int {
    s.host.snapshots.every_entries = every_entries;
    s.host.snapshots.every_bytes = every_bytes;
    s.host.snapshots.keep_entries = keep_entries;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_network(synod_config* config, synod_network* network) {
  constexpr const char* fn = "synod_config_set_network";
  return with_config(fn, config, [&](auto& s) -> int {
    if (!network) return out_of_range(fn, "network is NULL");
    s.transport.network = network->core;
    s.transport.kind = "memory";
    s.transport.listen_address.clear();
    return SYNOD_OK;
  });
}

namespace {

int set_network_transport(const char* fn, synod_config* config, const char* kind,
                          const char* listen_address) {
  return with_config(fn, config, [&](auto& s) -> int {
    if (!listen_address || *listen_address == '\0') {
      return out_of_range(fn, "listen address is NULL or empty");
    }
    s.transport.kind = kind;
    s.transport.listen_address = listen_address;
    s.transport.network.reset();
    return SYNOD_OK;
  });
}

}  // namespace

SYNOD_API int synod_config_set_grpc(synod_config* config, const char* listen_address) {
  return set_network_transport("synod_config_set_grpc", config, "grpc", listen_address);
}

SYNOD_API int synod_config_set_rest(synod_config* config, const char* listen_address) {
  return set_network_transport("synod_config_set_rest", config, "rest", listen_address);
}

SYNOD_API int synod_config_set_tls(synod_config* config, const char* ca_file,
                                   const char* cert_file, const char* key_file, int mutual) {
  constexpr const char* fn = "synod_config_set_tls";
  return with_config(fn, config, [&](auto& s) -> int {
    for (const auto& [name, value] : {std::pair{"ca_file", ca_file}, std::pair{"cert_file", cert_file},
                                      std::pair{"key_file", key_file}}) {
      if (!value || *value == '\0') return out_of_range(fn, std::string(name) + " is NULL or empty");
    }
    s.transport.security = {};
    s.transport.security.mode = mutual ? synod::transport::SecurityMode::MutualTls
                             : synod::transport::SecurityMode::Tls;
    s.transport.security.ca_file = ca_file;
    s.transport.security.cert_file = cert_file;
    s.transport.security.key_file = key_file;
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_shared_secret(synod_config* config, const uint8_t* secret,
                                             size_t len) {
  constexpr const char* fn = "synod_config_set_shared_secret";
  return with_config(fn, config, [&](auto& s) -> int {
    if (!secret && len != 0) return out_of_range(fn, "secret is NULL but len is " + std::to_string(len));
    if (len < 16) return out_of_range(fn, "a secret of " + std::to_string(len) + " bytes is shorter than 16");
    s.transport.security = {};
    s.transport.security.mode = synod::transport::SecurityMode::SharedSecret;
    s.transport.security.shared_secret.assign(reinterpret_cast<const char*>(secret), len);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_plain_text(synod_config* config) {
  return with_config("synod_config_set_plain_text", config, [&](auto& s) -> int {
    s.transport.security = {};
    return SYNOD_OK;
  });
}

SYNOD_API int synod_config_set_peer_address(synod_config* config, uint64_t node_id,
                                            const char* address) {
  constexpr const char* fn = "synod_config_set_peer_address";
  return with_config(fn, config, [&](auto& s) -> int {
    if (node_id == 0) return out_of_range(fn, "node id 0 is reserved (no node)");
    if (!address || *address == '\0') return out_of_range(fn, "address is NULL or empty");
    s.transport.peers[node_id] = address;
    return SYNOD_OK;
  });
}

}  // extern "C"
