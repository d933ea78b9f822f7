// synod_node_partition_map_json, synod_key_hash and synod_node_route(_hash): reading the
// committed partition map and routing keys through it (bindings/ROUTING.md).
#include <string>
#include <string_view>

#include "errors.h"
#include "handles.h"
#include "json.h"

using synod::capi::fail;
using synod::capi::guarded;
using synod::capi::JsonObject;
namespace sys = synod::system;

namespace {

int null_argument(const char* fn, const char* name) {
  return fail(SYNOD_E_INVALID_ARGUMENT, std::string(fn) + ": " + name + " is NULL");
}

const char* mode_name(sys::RoutingMode mode) {
  return mode == sys::RoutingMode::HashRange ? "hash_range" : "unrouted";
}

const char* state_name(sys::PartitionState state) {
  switch (state) {
    case sys::PartitionState::Active:
      return "active";
    case sys::PartitionState::Splitting:
      return "splitting";
    case sys::PartitionState::Draining:
      return "draining";
    case sys::PartitionState::Removed:
      return "removed";
  }
  return "unknown";
}

std::string map_json(const sys::PartitionMap& map) {
  std::string out;
  {
    JsonObject o(out);
    o.number("version", map.version);
    o.number("next_id", map.next_id);
    o.key("partitions") += '[';
    bool first = true;
    for (const auto& [id, p] : map.partitions) {
      if (!first) out += ',';
      first = false;
      JsonObject e(out);
      e.number("id", id);
      e.string("state", state_name(p.state));
      e.string("mode", mode_name(p.mode));
      const bool routed = p.mode == sys::RoutingMode::HashRange;
      e.number("lo", routed ? p.range.lo : 0);
      e.number("hi", routed ? p.range.hi : 0);
      e.number("generation", p.generation);
      e.number("peer", p.peer);
    }
    out += ']';
  }
  return out;
}

// Writes `route` out, or SYNOD_E_UNKNOWN_PARTITION when there is none.
int route_out(const char* fn, const std::optional<sys::Route>& route, uint64_t hash,
              uint64_t* out_partition, uint64_t* out_generation, int* out_state) {
  if (!route) {
    return fail(SYNOD_E_UNKNOWN_PARTITION,
                std::string(fn) + ": no partition owns key hash " + std::to_string(hash));
  }
  *out_partition = route->partition;
  *out_generation = route->generation;
  if (out_state) *out_state = static_cast<int>(route->state);
  return SYNOD_OK;
}

int check_route_outputs(const char* fn, synod_node* node, uint64_t* out_partition,
                        uint64_t* out_generation, int* out_state) {
  if (out_partition) *out_partition = 0;
  if (out_generation) *out_generation = 0;
  if (out_state) *out_state = 0;
  if (!node) return null_argument(fn, "node");
  if (!out_partition) return null_argument(fn, "out_partition");
  if (!out_generation) return null_argument(fn, "out_generation");
  return SYNOD_OK;
}

static_assert(SYNOD_PARTITION_DRAINING == static_cast<int>(sys::PartitionState::Draining));
static_assert(SYNOD_PARTITION_REMOVED == static_cast<int>(sys::PartitionState::Removed));
static_assert(SYNOD_ROUTING_HASH_RANGE == static_cast<int>(sys::RoutingMode::HashRange));

}  // namespace

extern "C" {

SYNOD_API int synod_node_partition_map_json(synod_node* node, char** out_json, size_t* out_len) {
  constexpr const char* fn = "synod_node_partition_map_json";
  if (out_json) *out_json = nullptr;
  return guarded(fn, [&]() -> int {
    if (!node) return null_argument(fn, "node");
    if (!out_json) return null_argument(fn, "out_json");
    return synod::capi::hand_out(fn, map_json(node->runtime->host().partition_map()), out_json,
                                 out_len);
  });
}

SYNOD_API int synod_key_hash(const uint8_t* key, size_t len, uint64_t* out_hash) {
  constexpr const char* fn = "synod_key_hash";
  return guarded(fn, [&]() -> int {
    if (!out_hash) return null_argument(fn, "out_hash");
    *out_hash = 0;
    if (!key && len != 0) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  std::string(fn) + ": key is NULL but len is " + std::to_string(len));
    }
    *out_hash = sys::key_hash(std::string_view(reinterpret_cast<const char*>(key), len));
    return SYNOD_OK;
  });
}

SYNOD_API int synod_node_route(synod_node* node, const uint8_t* key, size_t len,
                               uint64_t* out_partition, uint64_t* out_generation, int* out_state) {
  constexpr const char* fn = "synod_node_route";
  return guarded(fn, [&]() -> int {
    if (const int s = check_route_outputs(fn, node, out_partition, out_generation, out_state);
        s != SYNOD_OK) {
      return s;
    }
    if (!key && len != 0) {
      return fail(SYNOD_E_INVALID_ARGUMENT,
                  std::string(fn) + ": key is NULL but len is " + std::to_string(len));
    }
    const std::string_view k(reinterpret_cast<const char*>(key), len);
    const uint64_t hash = sys::key_hash(k);
    return route_out(fn, node->runtime->host().route_hash(hash), hash, out_partition,
                     out_generation, out_state);
  });
}

SYNOD_API int synod_node_route_hash(synod_node* node, uint64_t key_hash, uint64_t* out_partition,
                                    uint64_t* out_generation, int* out_state) {
  constexpr const char* fn = "synod_node_route_hash";
  return guarded(fn, [&]() -> int {
    if (const int s = check_route_outputs(fn, node, out_partition, out_generation, out_state);
        s != SYNOD_OK) {
      return s;
    }
    return route_out(fn, node->runtime->host().route_hash(key_hash), key_hash, out_partition,
                     out_generation, out_state);
  });
}

}  // extern "C"
