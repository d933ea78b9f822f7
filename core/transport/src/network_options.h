// Checks and warnings about NetworkTransportOptions that both network transports share.
#pragma once

#include <string>
#include <string_view>

#include "synod/transport/network_transport.h"

namespace synod::transport {

// Empty when `options` are usable; otherwise why not, prefixed with `name` ("grpc
// transport").
std::string check_network_options(const NetworkTransportOptions& options, std::string_view name);

// Tells options.on_warning, if set, that the endpoint listens in plain text.
void warn_if_plain_text(const NetworkTransportOptions& options, std::string_view name);

}  // namespace synod::transport
