// The gRPC transport's security modes over loopback: who is refused, and how it is counted.
// The conformance suite (grpc_test.cc) shows that each mode delivers between peers that
// share their certificates or secret; these cases show that other peers cannot.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "batch_authenticator.h"
#include "grpc_harness.h"
#include "synod/transport/grpc_transport.h"
#include "synod/wire.grpc.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {
namespace {

namespace pb = synod::wire::v1;
using namespace std::chrono_literals;

constexpr ClusterId kCluster = 7;

struct Node {
  Inbox inbox;
  // Declared after the inbox so that it stops before the inbox goes away.
  std::unique_ptr<GrpcTransport> transport;
  GrpcTransport* operator->() { return transport.get(); }
};

GrpcTransportOptions options_for(NodeId self, TransportSecurity security) {
  GrpcTransportOptions options = loopback_options(kCluster, self);
  options.security = std::move(security);
  return options;
}

void start_node(Node& node, GrpcTransportOptions options) {
  node.transport = make_grpc(std::move(options));
  ASSERT_NE(node.transport, nullptr);
  node.transport->set_receiver(node.inbox.receiver());
  node.transport->set_unreachable_handler(node.inbox.unreachable_handler());
  node.transport->start();
}

// Node 1 (security `one`) sends to node 2 (security `two`).
struct Pair {
  Node one;
  Node two;
  Pair(TransportSecurity one_security, TransportSecurity two_security) {
    start_node(one, options_for(1, std::move(one_security)));
    GrpcTransportOptions options_two = options_for(2, std::move(two_security));
    options_two.peers[1] = loopback(one->listen_port());
    start_node(two, std::move(options_two));
    one->set_peer(2, loopback(two->listen_port()));
  }
};

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
void expect_no_link(Pair& p, std::uint64_t bound_drops = 5) {
  std::uint64_t seq = 0;
  ASSERT_TRUE(eventually([&] {
    p.one->send(numbered_batch(kCluster, 1, 2, seq++));
    return p.one->stats().dropped_peer_down >= bound_drops;
  }));
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  EXPECT_EQ(p.two->stats().batches_received, 0u);
}

// A frame as an endpoint in shared-secret mode sends it, signed by `signer` for `sender`.
pb::Frame frame_of(const Batch& batch, const BatchAuthenticator& signer, NodeId sender) {
  pb::Batch wire;
  wire_codec::encode(batch, &wire);
  pb::Frame frame;
  frame.set_sender(sender);
  frame.set_batch(wire.SerializeAsString());
  const auto signature = signer.sign(frame.batch(), sender);
  EXPECT_TRUE(signature.has_value());
  if (signature) {
    frame.mutable_signature()->set_timestamp_ms(signature->timestamp_ms);
    frame.mutable_signature()->set_nonce(signature->nonce);
    frame.mutable_signature()->set_mac(signature->mac);
  }
  return frame;
}

// Speaks SignedStream or Stream directly, to send what a Synod node never would.
template <typename Out>
class RawClient {
 public:
  explicit RawClient(int port)
      : channel_(grpc::CreateChannel(loopback(port), grpc::InsecureChannelCredentials())),
        stub_(pb::Transport::NewStub(channel_)),
        stream_(open()) {
    pb::Ack greeting;
    EXPECT_TRUE(stream_->Read(&greeting));
  }
  ~RawClient() {
    stream_->WritesDone();
    stream_->Finish();
  }
  // Sends one and waits until the receiver has handled it.
  void send(const Out& out) {
    ASSERT_TRUE(stream_->Write(out));
    pb::Ack ack;
    ASSERT_TRUE(stream_->Read(&ack));
    EXPECT_EQ(ack.batches(), ++sent_);
  }

 private:
  std::unique_ptr<grpc::ClientReaderWriter<Out, pb::Ack>> open() {
    if constexpr (std::is_same_v<Out, pb::Frame>) {
      return stub_->SignedStream(&context_);
    } else {
      return stub_->Stream(&context_);
    }
  }

  grpc::ClientContext context_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Transport::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<Out, pb::Ack>> stream_;
  std::uint64_t sent_ = 0;
};

BatchAuthenticator test_signer(BatchAuthenticator::WallClock clock =
                                   BatchAuthenticator::system_clock_ms) {
  return BatchAuthenticator(kTestSecret, std::chrono::seconds(30), 16, std::move(clock));
}

TEST(GrpcSecurity, PlainTextIsReportedAtCreateAndTheOtherModesAreNot) {
  for (SecurityMode mode : {SecurityMode::Plain, SecurityMode::Tls, SecurityMode::MutualTls,
                            SecurityMode::SharedSecret}) {
    SCOPED_TRACE(to_string(mode));
    std::vector<std::string> warnings;
    GrpcTransportOptions options = options_for(1, test_security(mode));
    options.on_warning = [&](std::string_view message) { warnings.emplace_back(message); };
    auto transport = make_grpc(std::move(options));
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

TEST(GrpcSecurity, CreateRefusesInvalidSecurity) {
  std::string error;
  EXPECT_EQ(GrpcTransport::create(options_for(1, secret("short")), &error), nullptr);
  EXPECT_NE(error.find("shared_secret has 5 bytes"), std::string::npos) << error;
  TransportSecurity tls = test_security(SecurityMode::Tls);
  tls.key_file = "/nonexistent/node.key";
  EXPECT_EQ(GrpcTransport::create(options_for(1, tls), &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/node.key"), std::string::npos) << error;
}

TEST(GrpcSecurity, AWrongSecretIsRefusedAndCounted) {
  Pair p(secret("not the cluster's secret, really"), test_security(SecurityMode::SharedSecret));
  for (std::uint64_t seq = 0; seq < 5; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two->stats().refused_bad_signature == 5; }));
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  EXPECT_EQ(p.two->stats().batches_received, 0u);
  // The link itself works: the batches were sent and acknowledged, then refused.
  EXPECT_EQ(p.one->stats().batches_sent, 5u);
  EXPECT_EQ(dropped_total(p.one->stats()), 0u);
}

TEST(GrpcSecurity, UnsignedBatchesAreRefusedAsUnauthenticated) {
  // A node without the secret, sending as usual.
  Pair p(TransportSecurity{}, test_security(SecurityMode::SharedSecret));
  for (std::uint64_t seq = 0; seq < 3; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two->stats().refused_unauthenticated == 3; }));

  // A frame without its signature.
  RawClient<pb::Frame> client(p.two->listen_port());
  pb::Frame frame = frame_of(numbered_batch(kCluster, 1, 2, 3), test_signer(), 1);
  frame.clear_signature();
  client.send(frame);
  EXPECT_EQ(p.two->stats().refused_unauthenticated, 4u);
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
}

TEST(GrpcSecurity, AReplayedFrameIsRefused) {
  Pair p(test_security(SecurityMode::SharedSecret), test_security(SecurityMode::SharedSecret));
  const auto signer = test_signer();
  const pb::Frame frame = frame_of(numbered_batch(kCluster, 1, 2, 0), signer, 1);
  RawClient<pb::Frame> client(p.two->listen_port());
  client.send(frame);
  client.send(frame);
  // Also on another stream.
  RawClient<pb::Frame> again(p.two->listen_port());
  again.send(frame);
  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.batches_received, 1u);
  EXPECT_EQ(stats.refused_replayed, 2u);
}

TEST(GrpcSecurity, StaleAndTamperedFramesAreRefused) {
  Pair p(test_security(SecurityMode::SharedSecret), test_security(SecurityMode::SharedSecret));
  RawClient<pb::Frame> client(p.two->listen_port());
  const Batch batch = numbered_batch(kCluster, 1, 2, 0);

  const auto late_signer =
      test_signer([] { return BatchAuthenticator::system_clock_ms() - 3'600'000; });
  client.send(frame_of(batch, late_signer, 1));
  EXPECT_EQ(p.two->stats().refused_stale, 1u);

  pb::Frame tampered = frame_of(batch, test_signer(), 1);
  tampered.mutable_batch()->back() ^= 1;
  client.send(tampered);
  pb::Frame other_sender = frame_of(batch, test_signer(), 1);
  other_sender.set_sender(3);
  client.send(other_sender);
  EXPECT_EQ(p.two->stats().refused_bad_signature, 2u);

  // Signed correctly for sender 3, but the batch inside says it is from node 1.
  client.send(frame_of(batch, test_signer(), 3));
  EXPECT_EQ(p.two->stats().refused_malformed, 1u);

  // Signed bytes that are no batch.
  pb::Frame junk = frame_of(batch, test_signer(), 1);
  junk.set_batch("\xff\xff\xff");
  const auto signature = test_signer().sign(junk.batch(), 1);
  ASSERT_TRUE(signature.has_value());
  junk.mutable_signature()->set_timestamp_ms(signature->timestamp_ms);
  junk.mutable_signature()->set_nonce(signature->nonce);
  junk.mutable_signature()->set_mac(signature->mac);
  client.send(junk);
  EXPECT_EQ(p.two->stats().refused_malformed, 2u);

  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  client.send(frame_of(batch, test_signer(), 1));
  EXPECT_EQ(p.two.inbox.batch_count(), 1u);
}

TEST(GrpcSecurity, ASignedSenderCannotReachAnEndpointWithoutTheSecret) {
  Pair p(test_security(SecurityMode::SharedSecret), TransportSecurity{});
  expect_no_link(p);
}

TEST(GrpcSecurity, MutualTlsRefusesAClientCertificateOfAnotherCa) {
  TransportSecurity stranger = certificates().security(SecurityMode::MutualTls);
  stranger.cert_file = certificates().other_cert_file;
  stranger.key_file = certificates().other_key_file;
  Pair p(stranger, test_security(SecurityMode::MutualTls));
  expect_no_link(p);
}

TEST(GrpcSecurity, MutualTlsRefusesAClientWithoutACertificate) {
  Pair p(test_security(SecurityMode::Tls), test_security(SecurityMode::MutualTls));
  expect_no_link(p);
}

TEST(GrpcSecurity, TlsClientDoesNotTalkToAServerOfAnotherCa) {
  TransportSecurity suspicious = certificates().security(SecurityMode::Tls);
  suspicious.ca_file = certificates().other_ca_file;
  Pair p(suspicious, test_security(SecurityMode::Tls));
  expect_no_link(p);
}

TEST(GrpcSecurity, PlainTextClientCannotReachATlsServer) {
  Pair p(TransportSecurity{}, test_security(SecurityMode::Tls));
  expect_no_link(p);
}

TEST(GrpcSecurity, MutualTlsPeersDeliverBothWays) {
  Pair p(test_security(SecurityMode::MutualTls), test_security(SecurityMode::MutualTls));
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  p.two->send(numbered_batch(kCluster, 2, 1, 0));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 1; }));
  ASSERT_TRUE(eventually([&] { return p.one.inbox.batch_count() == 1; }));
}

}  // namespace
}  // namespace synod::transport::testing
