// Peer and listening addresses of the network transports: "host:port".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace synod::transport {

struct HostPort {
  std::string host;  // without brackets
  int port = 0;
};

// "host:port" with a numeric port of at most 65535; an IPv6 host in brackets. Nothing
// else: gRPC itself would bind a missing port as 443 and wrap a port beyond 65535.
std::optional<HostPort> parse_host_port(std::string_view address);

}  // namespace synod::transport
