// The gRPC transport's shared-secret mode against forged frames (what network_security_test.cc
// cannot send through a node): unsigned, replayed, stale, tampered, misattributed.
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
#include "network_harness.h"
#include "synod/transport/grpc_transport.h"
#include "synod/wire.grpc.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {
namespace {

namespace pb = synod::wire::v1;

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

BatchAuthenticator test_signer(
    BatchAuthenticator::WallClock clock = BatchAuthenticator::system_clock_ms) {
  return BatchAuthenticator(kTestSecret, std::chrono::seconds(30), 16, std::move(clock));
}

TEST(GrpcSecurity, AFrameWithoutItsSignatureIsRefusedAsUnauthenticated) {
  NetworkPair p =
      network_pair(grpc_maker(), TransportSecurity{}, test_security(SecurityMode::SharedSecret));
  RawClient<pb::Frame> client(p.two->listen_port());
  pb::Frame frame = frame_of(numbered_batch(kCluster, 1, 2, 3), test_signer(), 1);
  frame.clear_signature();
  client.send(frame);
  EXPECT_EQ(p.two->stats().refused_unauthenticated, 1u);
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
}

TEST(GrpcSecurity, AReplayedFrameIsRefused) {
  NetworkPair p = signed_pair(grpc_maker());
  const auto signer = test_signer();
  const pb::Frame frame = frame_of(numbered_batch(kCluster, 1, 2, 0), signer, 1);
  RawClient<pb::Frame> client(p.two->listen_port());
  client.send(frame);
  client.send(frame);
  // Also on another stream.
  RawClient<pb::Frame> again(p.two->listen_port());
  again.send(frame);
  expect_one_batch_and_replays_refused(p, 2);
}

TEST(GrpcSecurity, StaleAndTamperedFramesAreRefused) {
  NetworkPair p = signed_pair(grpc_maker());
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

// The plain endpoint has no SignedStream to offer.
TEST(GrpcSecurity, ASignedSenderCannotReachAnEndpointWithoutTheSecret) {
  NetworkPair p =
      network_pair(grpc_maker(), test_security(SecurityMode::SharedSecret), TransportSecurity{});
  std::uint64_t seq = 0;
  ASSERT_TRUE(eventually([&] {
    p.one->send(numbered_batch(kCluster, 1, 2, seq++));
    return p.one->stats().dropped_peer_down >= 5;
  }));
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
}

}  // namespace
}  // namespace synod::transport::testing
