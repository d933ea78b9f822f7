// Test plumbing for the network transports, written once for gRPC and REST: endpoints on
// ephemeral ports of 127.0.0.1 made through a NetworkMaker, a conformance harness that
// tells each endpoint about every other one, and started nodes and pairs with a
// recording inbox.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "conformance.h"
#include "synod/transport/grpc_transport.h"
#include "synod/transport/rest_transport.h"
#include "test_security.h"
#include "test_snapshot_files.h"
#include "test_util.h"

namespace synod::transport::testing {

// The cluster of the network tests' endpoints.
inline constexpr ClusterId kCluster = 7;

inline std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

// Options for an endpoint on an ephemeral loopback port, knowing no peers yet.
inline NetworkTransportOptions loopback_options(ClusterId cluster, NodeId self,
                                                TransportSecurity security = {}) {
  NetworkTransportOptions options;
  options.cluster = cluster;
  options.self = self;
  options.listen_address = "127.0.0.1:0";
  options.security = std::move(security);
  return options;
}

// Makes one kind of network transport: nullptr and *error when create() refuses.
using NetworkMaker =
    std::function<std::unique_ptr<NetworkTransport>(NetworkTransportOptions, std::string*)>;

template <class TransportT, class OptionsT>
NetworkMaker maker_of() {
  return
      [](NetworkTransportOptions options, std::string* error) -> std::unique_ptr<NetworkTransport> {
        OptionsT typed;
        static_cast<NetworkTransportOptions&>(typed) = std::move(options);
        return TransportT::create(std::move(typed), error);
      };
}
inline NetworkMaker grpc_maker() { return maker_of<GrpcTransport, GrpcTransportOptions>(); }
inline NetworkMaker rest_maker() { return maker_of<RestTransport, RestTransportOptions>(); }

// Fails the calling test (and returns nullptr) when the endpoint cannot be made.
inline std::unique_ptr<NetworkTransport> make_network(const NetworkMaker& maker,
                                                      NetworkTransportOptions options) {
  std::string error;
  auto transport = maker(std::move(options), &error);
  EXPECT_NE(transport, nullptr) << error;
  return transport;
}

// A port nothing listens on: one an endpoint had, closed again.
inline int closed_port(const NetworkMaker& maker) {
  auto transport = make_network(maker, loopback_options(1, 99));
  return transport ? transport->listen_port() : 1;
}

class NetworkHarness final : public TransportHarness {
 public:
  NetworkHarness(NetworkMaker maker, TransportSecurity security)
      : maker_(std::move(maker)), security_(std::move(security)) {}

  // The endpoints it made must outlive later make() calls, which introduce the new
  // endpoint to them (as in the conformance suite, where the harness outlives nothing).
  std::unique_ptr<Transport> make(ClusterId cluster, NodeId self) override {
    NetworkTransportOptions options = loopback_options(cluster, self, security_);
    options.snapshot_chunk_bytes = kConformanceChunkBytes;
    for (const auto& [id, endpoint] : endpoints_)
      options.peers[id] = loopback(endpoint->listen_port());
    auto transport = make_network(maker_, std::move(options));
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
  NetworkMaker maker_;
  TransportSecurity security_;
  std::map<NodeId, NetworkTransport*> endpoints_;
};

inline HarnessFactory network_factory(std::string name, NetworkMaker maker, SecurityMode mode) {
  return {std::move(name),
          [maker, mode] { return std::make_unique<NetworkHarness>(maker, test_security(mode)); }};
}

// A started endpoint, its snapshot files and what it received.
struct NetworkNode {
  TestSnapshotFiles files;
  Inbox inbox;
  // Declared after the inbox and the files so that it stops before they go away.
  std::unique_ptr<NetworkTransport> transport;

  NetworkTransport* operator->() { return transport.get(); }

  // Makes the endpoint with its handlers recording into the inbox, and starts it.
  void start(const NetworkMaker& maker, NetworkTransportOptions options) {
    transport = make_network(maker, std::move(options));
    ASSERT_NE(transport, nullptr);
    inbox.attach(*transport);
    transport->set_snapshot_files(&files);
    transport->start();
  }
};

// Two endpoints that know each other: 1 sends to 2.
struct NetworkPair {
  NetworkNode one;
  NetworkNode two;
  NetworkPair(const NetworkMaker& maker, NetworkTransportOptions options_one,
              NetworkTransportOptions options_two) {
    one.start(maker, std::move(options_one));
    if (!one.transport) return;
    options_two.peers[1] = loopback(one->listen_port());
    two.start(maker, std::move(options_two));
    if (!two.transport) return;
    one->set_peer(2, loopback(two->listen_port()));
  }
};

// Node 1 (security `one`) sends to node 2 (security `two`).
inline NetworkPair network_pair(const NetworkMaker& maker, TransportSecurity one = {},
                                TransportSecurity two = {}) {
  return NetworkPair(maker, loopback_options(kCluster, 1, std::move(one)),
                     loopback_options(kCluster, 2, std::move(two)));
}

// Both ends sign with the test's shared secret.
inline NetworkPair signed_pair(const NetworkMaker& maker) {
  return network_pair(maker, test_security(SecurityMode::SharedSecret),
                      test_security(SecurityMode::SharedSecret));
}

// Node 2 took one batch and refused each of `replays` copies of it.
inline void expect_one_batch_and_replays_refused(NetworkPair& p, std::uint64_t replays) {
  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.batches_received, 1u);
  EXPECT_EQ(stats.refused_replayed, replays);
}

}  // namespace synod::transport::testing
