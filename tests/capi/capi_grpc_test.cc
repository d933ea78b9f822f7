// Three nodes over the gRPC transport on 127.0.0.1, through the C ABI alone.
#include <string>

#include "capi_harness.h"

namespace synod::capi_test {
namespace {

TEST(CapiGrpc, ClusterOnLoopbackElectsAndReplicates) {
  std::vector<std::unique_ptr<PolledNode>> nodes;
  std::vector<int> ports;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    ConfigPtr c = fast_config(id, {1, 2, 3});
    ASSERT_EQ(synod_config_set_grpc(c.get(), "127.0.0.1:0"), SYNOD_OK);
    nodes.push_back(std::make_unique<PolledNode>(make_node(c.get())));
    ASSERT_NE(nodes.back()->get(), nullptr);
    int port = 0;
    ASSERT_EQ(synod_node_listen_port(nodes.back()->get(), &port), SYNOD_OK);
    ASSERT_GT(port, 0);
    ports.push_back(port);
  }
  for (std::uint64_t id = 1; id <= 3; ++id) {
    for (std::uint64_t peer = 1; peer <= 3; ++peer) {
      if (peer == id) continue;
      const std::string address = "127.0.0.1:" + std::to_string(ports[peer - 1]);
      ASSERT_EQ(synod_node_set_peer_address(nodes[id - 1]->get(), peer, address.c_str()), SYNOD_OK)
          << synod_last_error();
    }
  }
  // The plain-text warning reaches the host as a log event.
  nodes[0]->drain();
  bool warned = false;
  for (const auto& e : nodes[0]->of_type(SYNOD_EVENT_LOG)) {
    warned |= e.raw.status == SYNOD_LOG_WARNING && e.data.find("plain text") != std::string::npos;
  }
  EXPECT_TRUE(warned);

  std::uint64_t leader = 0;
  ASSERT_EQ(synod_node_wait_for_leader(nodes[0]->get(), 1, 20000, &leader), SYNOD_OK);
  synod_result r{};
  const std::string payload = "over grpc";
  const auto* data = reinterpret_cast<const std::uint8_t*>(payload.data());
  ASSERT_TRUE(nodes[0]->poll_until([&](const auto&) {
    std::uint64_t current = 0;
    synod_node_leader(nodes[0]->get(), 1, &current);
    return current != 0 &&
           synod_node_replicate_wait(nodes[current - 1]->get(), 1, 1, data, payload.size(), &r) == SYNOD_OK;
  }));
  for (auto& n : nodes) {
    ASSERT_TRUE(n->poll_until([&](const auto& events) {
      for (const auto& e : events) {
        if (e.raw.type == SYNOD_EVENT_ENTRY && e.data == payload) return e.raw.index == r.index;
      }
      return false;
    }));
  }
}

TEST(CapiGrpc, ListenAddressInUseIsATransportError) {
  ConfigPtr first = fast_config(1, {1});
  ASSERT_EQ(synod_config_set_grpc(first.get(), "127.0.0.1:0"), SYNOD_OK);
  NodePtr holder = make_node(first.get());
  int port = 0;
  ASSERT_EQ(synod_node_listen_port(holder.get(), &port), SYNOD_OK);
  ConfigPtr second = fast_config(2, {2});
  const std::string taken = "127.0.0.1:" + std::to_string(port);
  ASSERT_EQ(synod_config_set_grpc(second.get(), taken.c_str()), SYNOD_OK);
  synod_node* n = nullptr;
  EXPECT_EQ(synod_node_new(second.get(), &n), SYNOD_E_TRANSPORT);
  EXPECT_EQ(n, nullptr);
  EXPECT_NE(std::string(synod_last_error()).find("gRPC"), std::string::npos) << synod_last_error();
}

}  // namespace
}  // namespace synod::capi_test
