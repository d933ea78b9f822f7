// The security modes of the network transports over loopback, written once for gRPC and
// REST: who is refused, and how it is counted. The conformance suite (network_test.cc)
// shows that each mode delivers between peers that share their certificates or secret;
// these cases show that other peers cannot. grpc_security_test.cc and
// rest_security_test.cc forge what a node never sends.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "network_harness.h"
#include "test_security.h"
#include "test_util.h"

namespace synod::transport::testing {
namespace {

struct Flavour {
  std::string name;
  NetworkMaker maker;
};

class NetworkSecurity : public ::testing::TestWithParam<Flavour> {
 protected:
  const NetworkMaker& maker() const { return GetParam().maker; }
  // Node 1 (security `one`) sends to node 2 (security `two`).
  NetworkPair pair(TransportSecurity one, TransportSecurity two) const {
    return NetworkPair(maker(), loopback_options(kCluster, 1, std::move(one)),
                       loopback_options(kCluster, 2, std::move(two)));
  }
  // Node 1 keeps sending, as the runtime would, until `bound_drops` of its batches were
  // dropped because the link to node 2 did not come up; node 2 must not have received any.
  void expect_no_link(TransportSecurity one, TransportSecurity two,
                      std::uint64_t bound_drops = 5) const {
    NetworkPair p = pair(std::move(one), std::move(two));
    std::uint64_t seq = 0;
    ASSERT_TRUE(eventually([&] {
      p.one->send(numbered_batch(kCluster, 1, 2, seq++));
      return p.one->stats().dropped_peer_down >= bound_drops;
    }));
    EXPECT_EQ(p.two.inbox.batch_count(), 0u);
    EXPECT_EQ(p.two->stats().batches_received, 0u);
  }
};

INSTANTIATE_TEST_SUITE_P(Network, NetworkSecurity,
                         ::testing::Values(Flavour{"Grpc", grpc_maker()},
                                           Flavour{"Rest", rest_maker()}),
                         [](const ::testing::TestParamInfo<Flavour>& info) {
                           return info.param.name;
                         });

TEST_P(NetworkSecurity, PlainTextIsReportedAtCreateAndTheOtherModesAreNot) {
  for (SecurityMode mode : {SecurityMode::Plain, SecurityMode::Tls, SecurityMode::MutualTls,
                            SecurityMode::SharedSecret}) {
    SCOPED_TRACE(to_string(mode));
    std::vector<std::string> warnings;
    NetworkTransportOptions options = loopback_options(kCluster, 1, test_security(mode));
    options.on_warning = [&](std::string_view message) { warnings.emplace_back(message); };
    auto transport = make_network(maker(), std::move(options));
    ASSERT_NE(transport, nullptr);
    if (mode == SecurityMode::Plain) {
      ASSERT_EQ(warnings.size(), 1u);
      EXPECT_NE(warnings[0].find("plain text: neither encrypted nor authenticated"),
                std::string::npos)
          << warnings[0];
    } else {
      EXPECT_TRUE(warnings.empty());
    }
  }
}

TEST_P(NetworkSecurity, CreateRefusesInvalidSecurity) {
  std::string error;
  EXPECT_EQ(maker()(loopback_options(kCluster, 1, secret("short")), &error), nullptr);
  EXPECT_NE(error.find("shared_secret has 5 bytes"), std::string::npos) << error;
  TransportSecurity tls = test_security(SecurityMode::Tls);
  tls.key_file = "/nonexistent/node.key";
  EXPECT_EQ(maker()(loopback_options(kCluster, 1, tls), &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/node.key"), std::string::npos) << error;
}

TEST_P(NetworkSecurity, AWrongSecretIsRefusedAndCounted) {
  NetworkPair p =
      pair(secret("not the cluster's secret, really"), test_security(SecurityMode::SharedSecret));
  for (std::uint64_t seq = 0; seq < 5; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two->stats().refused_bad_signature == 5; }));
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  EXPECT_EQ(p.two->stats().batches_received, 0u);
  // The link itself works: the batches were sent and answered, then refused.
  EXPECT_EQ(p.one->stats().batches_sent, 5u);
  EXPECT_EQ(dropped_total(p.one->stats()), 0u);
}

TEST_P(NetworkSecurity, UnsignedBatchesAreRefusedAsUnauthenticated) {
  // A node without the secret, sending as usual.
  NetworkPair p = pair(TransportSecurity{}, test_security(SecurityMode::SharedSecret));
  for (std::uint64_t seq = 0; seq < 3; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two->stats().refused_unauthenticated == 3; }));
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
}

TEST_P(NetworkSecurity, MutualTlsRefusesAClientCertificateOfAnotherCa) {
  TransportSecurity stranger = certificates().security(SecurityMode::MutualTls);
  stranger.cert_file = certificates().other_cert_file;
  stranger.key_file = certificates().other_key_file;
  expect_no_link(stranger, test_security(SecurityMode::MutualTls));
}

TEST_P(NetworkSecurity, MutualTlsRefusesAClientWithoutACertificate) {
  expect_no_link(test_security(SecurityMode::Tls), test_security(SecurityMode::MutualTls));
}

TEST_P(NetworkSecurity, TlsClientDoesNotTalkToAServerOfAnotherCa) {
  TransportSecurity suspicious = certificates().security(SecurityMode::Tls);
  suspicious.ca_file = certificates().other_ca_file;
  expect_no_link(suspicious, test_security(SecurityMode::Tls));
}

TEST_P(NetworkSecurity, PlainTextClientCannotReachATlsServer) {
  expect_no_link(TransportSecurity{}, test_security(SecurityMode::Tls));
}

TEST_P(NetworkSecurity, MutualTlsPeersDeliverBothWays) {
  NetworkPair p =
      pair(test_security(SecurityMode::MutualTls), test_security(SecurityMode::MutualTls));
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  p.two->send(numbered_batch(kCluster, 2, 1, 0));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 1; }));
  ASSERT_TRUE(eventually([&] { return p.one.inbox.batch_count() == 1; }));
}

}  // namespace
}  // namespace synod::transport::testing
