// synod_network_*: the in-process transport.
#include "errors.h"
#include "handles.h"

using synod::capi::fail;
using synod::capi::guarded;

extern "C" {

SYNOD_API int synod_network_new(synod_network** out) {
  return guarded("synod_network_new", [&]() -> int {
    if (!out) return fail(SYNOD_E_INVALID_ARGUMENT, "synod_network_new: out is NULL");
    *out = nullptr;
    auto handle = std::make_unique<synod_network>();
    handle->core = std::make_shared<synod::node::InProcessNetwork>();
    *out = handle.release();
    return SYNOD_OK;
  });
}

SYNOD_API void synod_network_free(synod_network* network) { delete network; }

SYNOD_API int synod_network_isolate(synod_network* network, uint64_t node_id) {
  return guarded("synod_network_isolate", [&]() -> int {
    if (!network) return fail(SYNOD_E_INVALID_ARGUMENT, "synod_network_isolate: network is NULL");
    if (node_id == 0) return fail(SYNOD_E_INVALID_ARGUMENT, "synod_network_isolate: node id 0");
    network->core->network().isolate(node_id);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_network_heal(synod_network* network) {
  return guarded("synod_network_heal", [&]() -> int {
    if (!network) return fail(SYNOD_E_INVALID_ARGUMENT, "synod_network_heal: network is NULL");
    network->core->network().heal();
    return SYNOD_OK;
  });
}

}  // extern "C"
