// The REST transport's security modes over loopback: who is refused, and how it is
// counted. The conformance suite (rest_test.cc) shows that each mode delivers between
// peers that share their certificates or secret; these cases show that others cannot.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "batch_authenticator.h"
#include "rest_harness.h"
#include "synod/transport/rest_transport.h"
#include "synod/wire.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {
namespace {

namespace pb = synod::wire::v1;
using namespace std::chrono_literals;

constexpr ClusterId kCluster = 7;

// Node 1 (security `one`) sends to node 2 (security `two`).
RestPair pair(TransportSecurity one, TransportSecurity two) {
  return RestPair(rest_options(kCluster, 1, std::move(one)), rest_options(kCluster, 2, std::move(two)));
}

TransportSecurity secret(std::string key) {
  TransportSecurity security = test_security(SecurityMode::SharedSecret);
  security.shared_secret = std::move(key);
  return security;
}

const TestCertificates& certificates() {
  std::string error;
  const TestCertificates* made = TestCertificates::get(&error);
  if (!made) {
    ADD_FAILURE() << "cannot make test certificates: " << error;
    static const TestCertificates none;
    return none;
  }
  return *made;
}

// Node 1 keeps sending, as the runtime would, until `bound_drops` of its batches were
// dropped because the link to node 2 did not come up; node 2 must not have received any.
void expect_no_link(RestPair& p, std::uint64_t bound_drops = 5) {
  std::uint64_t seq = 0;
  ASSERT_TRUE(eventually([&] {
    p.one->send(numbered_batch(kCluster, 1, 2, seq++));
    return p.one->stats().dropped_peer_down >= bound_drops;
  }));
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  EXPECT_EQ(p.two->stats().batches_received, 0u);
}

BatchAuthenticator test_signer(BatchAuthenticator::WallClock clock =
                                   BatchAuthenticator::system_clock_ms) {
  return BatchAuthenticator(kTestSecret, std::chrono::seconds(30), 16, std::move(clock));
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string body_of(const Batch& batch) {
  pb::Batch wire;
  wire_codec::encode(batch, &wire);
  return wire.SerializeAsString();
}

// The headers of `body` signed by `signer` for `sender`.
httplib::Headers signed_headers(const std::string& body, const BatchAuthenticator& signer,
                                NodeId sender) {
  const auto signature = signer.sign(body, sender);
  EXPECT_TRUE(signature.has_value());
  if (!signature) return {};
  return {{"X-Synod-Sender", std::to_string(sender)},
          {"X-Synod-Timestamp", std::to_string(signature->timestamp_ms)},
          {"X-Synod-Nonce", hex(signature->nonce)},
          {"X-Synod-Signature", hex(signature->mac)}};
}

int post(int port, const std::string& body, const httplib::Headers& headers) {
  httplib::Client client("127.0.0.1", port);
  const auto result =
      client.Post(RestTransport::kBatchPath, headers, body, RestTransport::kContentType);
  return result ? result->status : 0;
}

TEST(RestSecurity, PlainTextIsReportedAtCreateAndTheOtherModesAreNot) {
  for (SecurityMode mode : {SecurityMode::Plain, SecurityMode::Tls, SecurityMode::MutualTls,
                            SecurityMode::SharedSecret}) {
    SCOPED_TRACE(to_string(mode));
    std::vector<std::string> warnings;
    RestTransportOptions options = rest_options(kCluster, 1, test_security(mode));
    options.on_warning = [&](std::string_view message) { warnings.emplace_back(message); };
    auto transport = make_rest(std::move(options));
    ASSERT_NE(transport, nullptr);
    if (mode == SecurityMode::Plain) {
      ASSERT_EQ(warnings.size(), 1u);
      EXPECT_NE(warnings[0].find("plain text"), std::string::npos) << warnings[0];
    } else {
      EXPECT_TRUE(warnings.empty());
    }
  }
}

TEST(RestSecurity, CreateRefusesInvalidSecurity) {
  std::string error;
  EXPECT_EQ(RestTransport::create(rest_options(kCluster, 1, secret("short")), &error), nullptr);
  EXPECT_NE(error.find("shared_secret has 5 bytes"), std::string::npos) << error;
  TransportSecurity tls = test_security(SecurityMode::Tls);
  tls.key_file = "/nonexistent/node.key";
  EXPECT_EQ(RestTransport::create(rest_options(kCluster, 1, tls), &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/node.key"), std::string::npos) << error;
}

TEST(RestSecurity, AWrongSecretIsRefusedAndCounted) {
  RestPair p = pair(secret("not the cluster's secret, really"),
                    test_security(SecurityMode::SharedSecret));
  for (std::uint64_t seq = 0; seq < 5; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two->stats().refused_bad_signature == 5; }));
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  EXPECT_EQ(p.two->stats().batches_received, 0u);
  // The link itself works: the batches were sent and answered, then refused.
  EXPECT_EQ(p.one->stats().batches_sent, 5u);
  EXPECT_EQ(dropped_total(p.one->stats()), 0u);
}

TEST(RestSecurity, UnsignedBatchesAreRefusedAsUnauthenticated) {
  // A node without the secret, sending as usual.
  RestPair p = pair(TransportSecurity{}, test_security(SecurityMode::SharedSecret));
  for (std::uint64_t seq = 0; seq < 3; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two->stats().refused_unauthenticated == 3; }));

  // Headers that are there but do not parse.
  const std::string body = body_of(numbered_batch(kCluster, 1, 2, 3));
  httplib::Headers headers = signed_headers(body, test_signer(), 1);
  headers.find("X-Synod-Nonce")->second = "not hex";
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 401);
  EXPECT_EQ(p.two->stats().refused_unauthenticated, 4u);
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
}

TEST(RestSecurity, AReplayedBatchIsRefused) {
  RestPair p = pair(test_security(SecurityMode::SharedSecret),
                    test_security(SecurityMode::SharedSecret));
  const std::string body = body_of(numbered_batch(kCluster, 1, 2, 0));
  const httplib::Headers headers = signed_headers(body, test_signer(), 1);
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 200);
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 401);
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 401);
  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.batches_received, 1u);
  EXPECT_EQ(stats.refused_replayed, 2u);
}

TEST(RestSecurity, StaleTamperedAndMisattributedBatchesAreRefused) {
  RestPair p = pair(test_security(SecurityMode::SharedSecret),
                    test_security(SecurityMode::SharedSecret));
  const int port = p.two->listen_port();
  const std::string body = body_of(numbered_batch(kCluster, 1, 2, 0));

  const auto late_signer =
      test_signer([] { return BatchAuthenticator::system_clock_ms() - 3'600'000; });
  EXPECT_EQ(post(port, body, signed_headers(body, late_signer, 1)), 401);
  EXPECT_EQ(p.two->stats().refused_stale, 1u);

  std::string tampered = body;
  const httplib::Headers headers = signed_headers(body, test_signer(), 1);
  tampered.back() ^= 1;
  EXPECT_EQ(post(port, tampered, headers), 401);
  httplib::Headers other_sender = signed_headers(body, test_signer(), 1);
  other_sender.find("X-Synod-Sender")->second = "3";
  EXPECT_EQ(post(port, body, other_sender), 401);
  EXPECT_EQ(p.two->stats().refused_bad_signature, 2u);

  // Signed correctly for sender 3, but the batch says it is from node 1.
  EXPECT_EQ(post(port, body, signed_headers(body, test_signer(), 3)), 400);
  // Signed bytes that are no batch.
  const std::string junk = "\xff\xff\xff";
  EXPECT_EQ(post(port, junk, signed_headers(junk, test_signer(), 1)), 400);
  EXPECT_EQ(p.two->stats().refused_malformed, 2u);

  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  EXPECT_EQ(post(port, body, signed_headers(body, test_signer(), 1)), 200);
  EXPECT_EQ(p.two.inbox.batch_count(), 1u);
}

TEST(RestSecurity, MutualTlsRefusesAClientCertificateOfAnotherCa) {
  TransportSecurity stranger = certificates().security(SecurityMode::MutualTls);
  stranger.cert_file = certificates().other_cert_file;
  stranger.key_file = certificates().other_key_file;
  RestPair p = pair(stranger, test_security(SecurityMode::MutualTls));
  expect_no_link(p);
}

TEST(RestSecurity, MutualTlsRefusesAClientWithoutACertificate) {
  RestPair p = pair(test_security(SecurityMode::Tls), test_security(SecurityMode::MutualTls));
  expect_no_link(p);
}

TEST(RestSecurity, TlsClientDoesNotTalkToAServerOfAnotherCa) {
  TransportSecurity suspicious = certificates().security(SecurityMode::Tls);
  suspicious.ca_file = certificates().other_ca_file;
  RestPair p = pair(suspicious, test_security(SecurityMode::Tls));
  expect_no_link(p);
}

TEST(RestSecurity, PlainTextClientCannotReachATlsServer) {
  RestPair p = pair(TransportSecurity{}, test_security(SecurityMode::Tls));
  expect_no_link(p);
}

TEST(RestSecurity, MutualTlsPeersDeliverBothWays) {
  RestPair p = pair(test_security(SecurityMode::MutualTls), test_security(SecurityMode::MutualTls));
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  p.two->send(numbered_batch(kCluster, 2, 1, 0));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 1; }));
  ASSERT_TRUE(eventually([&] { return p.one.inbox.batch_count() == 1; }));
}

}  // namespace
}  // namespace synod::transport::testing
