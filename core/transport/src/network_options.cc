#include "network_options.h"

#include "host_port.h"
#include "snapshot_stream.h"

namespace synod::transport {

std::string check_network_options(const NetworkTransportOptions& o, std::string_view name) {
  const std::string prefix = std::string(name) + ": ";
  if (o.self == raft::kNoNode) return prefix + "self is node id 0";
  if (!parse_host_port(o.listen_address)) {
    return prefix + "listen address '" + o.listen_address + "' is not host:port";
  }
  for (const auto& [id, address] : o.peers) {
    if (!parse_host_port(address)) {
      return prefix + "address '" + address + "' of node " + std::to_string(id) +
             " is not host:port";
    }
  }
  if (o.max_queued_batches_per_peer == 0) return prefix + "max_queued_batches_per_peer is 0";
  if (std::string problem = snapshot_stream::check_options(
          o.snapshot_chunk_bytes, o.max_snapshot_bytes, o.max_message_bytes);
      !problem.empty()) {
    return prefix + problem;
  }
  if (o.reconnect_min.count() <= 0 || o.reconnect_max < o.reconnect_min) {
    return prefix + "need 0 < reconnect_min <= reconnect_max";
  }
  if (std::string problem; !validate(o.security, &problem)) return prefix + problem;
  return {};
}

void warn_if_plain_text(const NetworkTransportOptions& o, std::string_view name) {
  if (o.security.mode != SecurityMode::Plain || !o.on_warning) return;
  o.on_warning(std::string(name) + ": node " + std::to_string(o.self) + " listens on " +
               o.listen_address +
               " in plain text: neither encrypted nor authenticated, so anyone who can reach "
               "it can take part in the cluster; set security to Tls, MutualTls or "
               "SharedSecret");
}

}  // namespace synod::transport
