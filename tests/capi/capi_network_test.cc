// Three nodes over the network transports on 127.0.0.1, through the C ABI alone: gRPC and
// REST, in plain text, with a shared secret and with mutual TLS (certificates made at test
// time with openssl).
#include <string>
#include <vector>

#include "capi_harness.h"
#include "test_certificates.h"

namespace synod::capi_test {
namespace {

using synod::transport::testing::TestCertificates;

enum class Security { Plain, SharedSecret, MutualTls };

struct Setup {
  const char* transport;  // "grpc" or "rest"
  Security security;
};

std::string name_of(const ::testing::TestParamInfo<Setup>& info) {
  const char* security = info.param.security == Security::Plain          ? "Plain"
                         : info.param.security == Security::SharedSecret ? "SharedSecret"
                                                                         : "MutualTls";
  return std::string(info.param.transport) + security;
}

const std::string kSecret = "a cluster secret of 32 bytes....";

// Sets the transport of `c` listening on an ephemeral loopback port.
void listen(synod_config* c, const char* transport) {
  const int status = std::string(transport) == "grpc" ? synod_config_set_grpc(c, "127.0.0.1:0")
                                                      : synod_config_set_rest(c, "127.0.0.1:0");
  ASSERT_EQ(status, SYNOD_OK) << synod_last_error();
}

void secure(synod_config* c, Security security, const std::string& secret) {
  if (security == Security::SharedSecret) {
    ASSERT_EQ(synod_config_set_shared_secret(c, reinterpret_cast<const std::uint8_t*>(secret.data()),
                                             secret.size()),
              SYNOD_OK)
        << synod_last_error();
  } else if (security == Security::MutualTls) {
    std::string error;
    const TestCertificates* certs = TestCertificates::get(&error);
    ASSERT_NE(certs, nullptr) << error;
    ASSERT_EQ(synod_config_set_tls(c, certs->ca_file.c_str(), certs->cert_file.c_str(),
                                   certs->key_file.c_str(), 1),
              SYNOD_OK)
        << synod_last_error();
  }
}

// Three nodes that know each other's ports; node i+1 at position i.
std::vector<std::unique_ptr<PolledNode>> start_cluster(const Setup& setup,
                                                       const std::vector<std::string>& secrets) {
  std::vector<std::unique_ptr<PolledNode>> nodes;
  std::vector<int> ports;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    ConfigPtr c = fast_config(id, {1, 2, 3});
    listen(c.get(), setup.transport);
    secure(c.get(), setup.security, secrets[id - 1]);
    nodes.push_back(std::make_unique<PolledNode>(make_node(c.get())));
    int port = 0;
    EXPECT_EQ(synod_node_listen_port(nodes.back()->get(), &port), SYNOD_OK);
    EXPECT_GT(port, 0);
    ports.push_back(port);
  }
  for (std::uint64_t id = 1; id <= 3; ++id) {
    for (std::uint64_t peer = 1; peer <= 3; ++peer) {
      if (peer == id) continue;
      const std::string address = "127.0.0.1:" + std::to_string(ports[peer - 1]);
      EXPECT_EQ(synod_node_set_peer_address(nodes[id - 1]->get(), peer, address.c_str()), SYNOD_OK)
          << synod_last_error();
    }
  }
  return nodes;
}

class CapiNetwork : public ::testing::TestWithParam<Setup> {};

TEST_P(CapiNetwork, ClusterOnLoopbackElectsAndReplicates) {
  auto nodes = start_cluster(GetParam(), {kSecret, kSecret, kSecret});
  // Plain text is reported to the host as a warning; the secure modes are not.
  nodes[0]->drain();
  bool warned = false;
  for (const auto& e : nodes[0]->of_type(SYNOD_EVENT_LOG)) {
    if (e.raw.status != SYNOD_LOG_WARNING || e.data.find("plain text") == std::string::npos) {
      continue;
    }
    warned = true;
    // About the whole node: no partition, no term.
    EXPECT_EQ(e.raw.entry_type, 0u);
    EXPECT_EQ(e.raw.partition, 0u);
    EXPECT_EQ(e.raw.term, 0u);
  }
  EXPECT_EQ(warned, GetParam().security == Security::Plain);

  std::uint64_t leader = 0;
  ASSERT_EQ(synod_node_wait_for_leader(nodes[0]->get(), 1, 20000, &leader), SYNOD_OK);
  synod_result r{};
  const std::string payload = "over the network";
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

TEST_P(CapiNetwork, ListenAddressInUseIsATransportError) {
  ConfigPtr first = fast_config(1, {1});
  listen(first.get(), GetParam().transport);
  secure(first.get(), GetParam().security, kSecret);
  NodePtr holder = make_node(first.get());
  int port = 0;
  ASSERT_EQ(synod_node_listen_port(holder.get(), &port), SYNOD_OK);
  ConfigPtr second = fast_config(2, {2});
  const std::string taken = "127.0.0.1:" + std::to_string(port);
  ASSERT_EQ(std::string(GetParam().transport) == "grpc" ? synod_config_set_grpc(second.get(), taken.c_str())
                                                        : synod_config_set_rest(second.get(), taken.c_str()),
            SYNOD_OK);
  synod_node* n = nullptr;
  EXPECT_EQ(synod_node_new(second.get(), &n), SYNOD_E_TRANSPORT);
  EXPECT_EQ(n, nullptr);
  EXPECT_NE(std::string(synod_last_error()).find(taken), std::string::npos) << synod_last_error();
}

INSTANTIATE_TEST_SUITE_P(Transports, CapiNetwork,
                         ::testing::Values(Setup{"grpc", Security::Plain},
                                           Setup{"rest", Security::Plain},
                                           Setup{"grpc", Security::SharedSecret},
                                           Setup{"rest", Security::SharedSecret},
                                           Setup{"grpc", Security::MutualTls},
                                           Setup{"rest", Security::MutualTls}),
                         name_of);

// A node with another secret is refused by the others, which count its batches, and it
// never gets the cluster's entries.
TEST(CapiNetworkSecurity, NodeWithTheWrongSecretIsRefusedAndCounted) {
  auto nodes = start_cluster({"grpc", Security::SharedSecret},
                             {kSecret, kSecret, "another secret of the same size"});
  std::uint64_t leader = 0;
  ASSERT_EQ(synod_node_wait_for_leader(nodes[0]->get(), 1, 20000, &leader), SYNOD_OK);
  ASSERT_NE(leader, 3u);
  synod_result r{};
  const std::string payload = "secret";
  ASSERT_TRUE(nodes[0]->poll_until([&](const auto&) {
    return synod_node_replicate_wait(nodes[leader - 1]->get(), 1, 1,
                                     reinterpret_cast<const std::uint8_t*>(payload.data()),
                                     payload.size(), &r) == SYNOD_OK;
  }));
  ASSERT_TRUE(nodes[0]->poll_until([&](const auto&) {
    char* json = nullptr;
    if (synod_node_status_json(nodes[leader - 1]->get(), &json, nullptr) != SYNOD_OK) return false;
    const std::string text(json);
    synod_free(json);
    return text.find("\"refused_bad_signature\":0,") == std::string::npos;
  }));
  nodes[2]->drain();
  for (const auto& e : nodes[2]->of_type(SYNOD_EVENT_ENTRY)) EXPECT_NE(e.data, payload);
}

TEST(CapiNetworkSecurity, BadSecuritySettingsAreRefused) {
  ConfigPtr c = fast_config(1, {1});
  const auto refused = SYNOD_E_INVALID_ARGUMENT;
  EXPECT_EQ(synod_config_set_tls(nullptr, "a", "b", "c", 0), refused);
  EXPECT_EQ(synod_config_set_tls(c.get(), nullptr, "b", "c", 0), refused);
  EXPECT_NE(std::string(synod_last_error()).find("ca_file"), std::string::npos);
  EXPECT_EQ(synod_config_set_tls(c.get(), "a", "", "c", 1), refused);
  EXPECT_EQ(synod_config_set_tls(c.get(), "a", "b", nullptr, 1), refused);
  EXPECT_EQ(synod_config_set_shared_secret(c.get(), nullptr, 20), refused);
  const std::uint8_t short_secret[15] = {};
  EXPECT_EQ(synod_config_set_shared_secret(c.get(), short_secret, sizeof short_secret), refused);
  EXPECT_NE(std::string(synod_last_error()).find("shorter than 16"), std::string::npos);
  EXPECT_EQ(synod_config_set_shared_secret(nullptr, short_secret, 15), refused);
  EXPECT_EQ(synod_config_set_plain_text(nullptr), refused);
  EXPECT_EQ(synod_config_set_rest(c.get(), ""), refused);
  EXPECT_EQ(synod_config_set_rest(nullptr, "127.0.0.1:0"), refused);

  // Files that do not exist are found when the node is made.
  ASSERT_EQ(synod_config_set_rest(c.get(), "127.0.0.1:0"), SYNOD_OK);
  ASSERT_EQ(synod_config_set_tls(c.get(), "/nonexistent/ca.pem", "/nonexistent/cert.pem",
                                 "/nonexistent/key.pem", 1),
            SYNOD_OK);
  synod_node* n = nullptr;
  EXPECT_EQ(synod_node_new(c.get(), &n), SYNOD_E_TRANSPORT);
  EXPECT_EQ(n, nullptr);
  EXPECT_NE(std::string(synod_last_error()).find("/nonexistent/"), std::string::npos)
      << synod_last_error();
}

}  // namespace
}  // namespace synod::capi_test
