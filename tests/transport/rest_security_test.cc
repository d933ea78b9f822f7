// The REST transport's shared-secret mode against forged requests (what
// network_security_test.cc cannot send through a node): bad headers, replayed, stale,
// tampered, misattributed.
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
#include "network_harness.h"
#include "synod/transport/rest_transport.h"
#include "synod/wire.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {
namespace {

namespace pb = synod::wire::v1;

BatchAuthenticator test_signer(
    BatchAuthenticator::WallClock clock = BatchAuthenticator::system_clock_ms) {
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

TEST(RestSecurity, SignatureHeadersThatDoNotParseAreRefusedAsUnauthenticated) {
  NetworkPair p =
      network_pair(rest_maker(), TransportSecurity{}, test_security(SecurityMode::SharedSecret));
  const std::string body = body_of(numbered_batch(kCluster, 1, 2, 3));
  httplib::Headers headers = signed_headers(body, test_signer(), 1);
  headers.find("X-Synod-Nonce")->second = "not hex";
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 401);
  EXPECT_EQ(p.two->stats().refused_unauthenticated, 1u);
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
}

TEST(RestSecurity, AReplayedBatchIsRefused) {
  NetworkPair p = signed_pair(rest_maker());
  const std::string body = body_of(numbered_batch(kCluster, 1, 2, 0));
  const httplib::Headers headers = signed_headers(body, test_signer(), 1);
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 200);
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 401);
  EXPECT_EQ(post(p.two->listen_port(), body, headers), 401);
  expect_one_batch_and_replays_refused(p, 2);
}

TEST(RestSecurity, StaleTamperedAndMisattributedBatchesAreRefused) {
  NetworkPair p = signed_pair(rest_maker());
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

}  // namespace
}  // namespace synod::transport::testing
