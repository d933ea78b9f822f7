// Conformance harness for the gRPC transport: every endpoint listens on an ephemeral port
// of 127.0.0.1, and the harness tells each endpoint about every other one. Endpoints use
// the harness's security settings (plain text unless given).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "conformance.h"
#include "synod/transport/grpc_transport.h"
#include "test_security.h"
#include "test_util.h"

namespace synod::transport::testing {

inline std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

// Options for an endpoint on an ephemeral loopback port, knowing no peers yet.
inline GrpcTransportOptions loopback_options(ClusterId cluster, NodeId self) {
  GrpcTransportOptions options;
  options.cluster = cluster;
  options.self = self;
  options.listen_address = "127.0.0.1:0";
  return options;
}

// Fails the calling test (and returns nullptr) when the endpoint cannot be made.
inline std::unique_ptr<GrpcTransport> make_grpc(GrpcTransportOptions options) {
  std::string error;
  auto transport = GrpcTransport::create(std::move(options), &error);
  EXPECT_NE(transport, nullptr) << error;
  return transport;
}

class GrpcHarness final : public TransportHarness {
 public:
  explicit GrpcHarness(TransportSecurity security = {}) : security_(std::move(security)) {}

  // The endpoints it made must outlive later make() calls, which introduce the new
  // endpoint to them (as in the conformance suite, where the harness outlives nothing).
  std::unique_ptr<Transport> make(ClusterId cluster, NodeId self) override {
    GrpcTransportOptions options = loopback_options(cluster, self);
    options.security = security_;
    for (const auto& [id, endpoint] : endpoints_) options.peers[id] = loopback(endpoint->listen_port());
    auto transport = make_grpc(std::move(options));
    if (!transport) return nullptr;
    for (const auto& [id, endpoint] : endpoints_) {
      endpoint->set_peer(self, loopback(transport->listen_port()));
    }
    endpoints_[self] = transport.get();
    return transport;
  }
  bool await(const std::function<bool()>& done, env::Duration bound) override {
    return eventually(done, bound);
  }

 private:
  TransportSecurity security_;
  std::map<NodeId, GrpcTransport*> endpoints_;
};

}  // namespace synod::transport::testing
