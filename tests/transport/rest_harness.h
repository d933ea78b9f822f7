// Conformance harness for the REST transport: every endpoint listens on an ephemeral port
// of 127.0.0.1, and the harness tells each endpoint about every other one. Endpoints use
// the harness's security settings (plain text unless given).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "conformance.h"
#include "synod/transport/rest_transport.h"
#include "test_security.h"
#include "test_util.h"

namespace synod::transport::testing {

inline std::string rest_address(int port) { return "127.0.0.1:" + std::to_string(port); }

// Options for an endpoint on an ephemeral loopback port, knowing no peers yet.
inline RestTransportOptions rest_options(ClusterId cluster, NodeId self,
                                         TransportSecurity security = {}) {
  RestTransportOptions options;
  options.cluster = cluster;
  options.self = self;
  options.listen_address = "127.0.0.1:0";
  options.security = std::move(security);
  return options;
}

// Fails the calling test (and returns nullptr) when the endpoint cannot be made.
inline std::unique_ptr<RestTransport> make_rest(RestTransportOptions options) {
  std::string error;
  auto transport = RestTransport::create(std::move(options), &error);
  EXPECT_NE(transport, nullptr) << error;
  return transport;
}

class RestHarness final : public TransportHarness {
 public:
  explicit RestHarness(TransportSecurity security = {}) : security_(std::move(security)) {}

  // The endpoints it made must outlive later make() calls, which introduce the new
  // endpoint to them (as in the conformance suite, where the harness outlives nothing).
  std::unique_ptr<Transport> make(ClusterId cluster, NodeId self) override {
    RestTransportOptions options = rest_options(cluster, self, security_);
    for (const auto& [id, endpoint] : endpoints_) {
      options.peers[id] = rest_address(endpoint->listen_port());
    }
    auto transport = make_rest(std::move(options));
    if (!transport) return nullptr;
    for (const auto& [id, endpoint] : endpoints_) {
      endpoint->set_peer(self, rest_address(transport->listen_port()));
    }
    endpoints_[self] = transport.get();
    return transport;
  }
  bool await(const std::function<bool()>& done, env::Duration bound) override {
    return eventually(done, bound);
  }

 private:
  TransportSecurity security_;
  std::map<NodeId, RestTransport*> endpoints_;
};

// A started endpoint and what it received.
struct RestNode {
  Inbox inbox;
  // Declared after the inbox so that it stops before the inbox goes away.
  std::unique_ptr<RestTransport> transport;

  RestTransport* operator->() { return transport.get(); }

  // Makes the endpoint with its handlers recording into the inbox, and starts it.
  void start(RestTransportOptions options) {
    transport = make_rest(std::move(options));
    ASSERT_NE(transport, nullptr);
    transport->set_receiver(inbox.receiver());
    transport->set_unreachable_handler(inbox.unreachable_handler());
    transport->start();
  }
};

// Two endpoints that know each other: 1 sends to 2.
struct RestPair {
  RestNode one;
  RestNode two;
  explicit RestPair(RestTransportOptions options_one, RestTransportOptions options_two) {
    one.start(std::move(options_one));
    if (!one.transport) return;
    options_two.peers[1] = rest_address(one->listen_port());
    two.start(std::move(options_two));
    if (!two.transport) return;
    one->set_peer(2, rest_address(two->listen_port()));
  }
};

inline HarnessFactory rest_factory(std::string name, SecurityMode mode) {
  return {std::move(name), [mode] { return std::make_unique<RestHarness>(test_security(mode)); }};
}

}  // namespace synod::transport::testing
