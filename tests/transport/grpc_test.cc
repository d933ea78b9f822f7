// The gRPC transport's own side: what a stranger speaking the wire protocol directly can
// send, and how it is refused. What both network transports share is in network_test.cc.
#include "synod/transport/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "network_harness.h"
#include "snapshot_stream.h"
#include "synod/wire.grpc.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {

namespace {

namespace pb = synod::wire::v1;
using namespace std::chrono_literals;

constexpr ClusterId kCluster = 7;

NetworkPair plain_pair() {
  return NetworkPair(grpc_maker(), loopback_options(kCluster, 1), loopback_options(kCluster, 2));
}

// Speaks the wire protocol directly, to send what a Synod node never would.
class RawClient {
 public:
  explicit RawClient(int port)
      : channel_(grpc::CreateChannel(loopback(port), grpc::InsecureChannelCredentials())),
        stub_(pb::Transport::NewStub(channel_)),
        stream_(stub_->Stream(&context_)) {
    pb::Ack greeting;
    EXPECT_TRUE(stream_->Read(&greeting));
  }
  ~RawClient() {
    stream_->WritesDone();
    stream_->Finish();
  }
  // Sends one batch and waits until the receiver has handled it.
  void send(const pb::Batch& batch) {
    ASSERT_TRUE(stream_->Write(batch));
    pb::Ack ack;
    ASSERT_TRUE(stream_->Read(&ack));
    EXPECT_EQ(ack.batches(), ++sent_);
  }

 private:
  grpc::ClientContext context_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Transport::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::Batch, pb::Ack>> stream_;
  std::uint64_t sent_ = 0;
};

pb::Batch wire_batch(const Batch& batch) {
  pb::Batch wire;
  wire_codec::encode(batch, &wire);
  return wire;
}

TEST(Grpc, ABatchWithOneBadEnvelopeDeliversTheRest) {
  NetworkPair p = plain_pair();
  pb::Batch wire = wire_batch(numbered_batch(kCluster, 1, 2, 5, 3));
  wire.mutable_envelopes(1)->mutable_message()->set_type(static_cast<pb::MessageType>(42));
  RawClient client(p.two->listen_port());
  client.send(wire);

  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  const Batch got = p.two.inbox.batches()[0];
  ASSERT_EQ(got.envelopes.size(), 2u);
  EXPECT_EQ(got.envelopes[0].partition, 0u);
  EXPECT_EQ(got.envelopes[1].partition, 2u);
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.batches_received, 1u);
  EXPECT_EQ(stats.messages_received, 2u);
  EXPECT_EQ(stats.messages_malformed, 1u);
}

// The chunk batches the real sender makes for `envelope`, from node 1 to node 2.
std::vector<pb::Batch> chunk_batches(const Envelope& envelope, std::uint64_t transfer,
                                     std::size_t chunk_bytes) {
  snapshot_stream::SnapshotCursor cursor(Batch{kCluster, 1, 2, {envelope}}, transfer, chunk_bytes);
  std::vector<pb::Batch> chunks;
  while (!cursor.done()) cursor.next(&chunks.emplace_back());
  return chunks;
}

TEST(Grpc, AStreamThatEndsMidTransferAbandonsItAndDeliversNothing) {
  NetworkPair p = plain_pair();
  const auto chunks = chunk_batches(snapshot_envelope(1, 2, 3, 10'000), 1, 1000);
  {
    RawClient client(p.two->listen_port());
    for (std::size_t i = 0; i < 4; ++i) client.send(chunks[i]);
  }
  ASSERT_TRUE(eventually([&] { return p.two->stats().snapshot_transfers_abandoned == 1; }));
  // The same chunks on a new stream continue nothing; the whole transfer arrives.
  RawClient client(p.two->listen_port());
  client.send(chunks[4]);
  EXPECT_EQ(p.two->stats().messages_malformed, 1u);
  for (const pb::Batch& chunk : chunks) client.send(chunk);
  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  EXPECT_TRUE(is_snapshot_batch(p.two.inbox.batches()[0]));
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.snapshot_chunks_received, 4 + 1 + chunks.size());
  EXPECT_EQ(stats.batches_received, 1u);
}

TEST(Grpc, RefusesAndCountsForeignClusterUnknownSenderWrongDestinationAndVersion) {
  NetworkPair p = plain_pair();
  RawClient client(p.two->listen_port());
  client.send(wire_batch(numbered_batch(kCluster + 1, 1, 2, 0)));
  client.send(wire_batch(numbered_batch(kCluster, 5, 2, 1)));
  client.send(wire_batch(numbered_batch(kCluster, 1, 3, 2)));
  pb::Batch future = wire_batch(numbered_batch(kCluster, 1, 2, 3));
  future.set_wire_version((wire_codec::kWireMajor + 1) << 16);
  client.send(future);
  client.send(wire_batch(numbered_batch(kCluster, 1, 2, 4)));

  // Only the last one surfaced.
  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  EXPECT_EQ(seq_of(p.two.inbox.batches()[0]), 4u);
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.refused_foreign_cluster, 1u);
  EXPECT_EQ(stats.refused_unknown_sender, 1u);
  EXPECT_EQ(stats.refused_wrong_destination, 1u);
  EXPECT_EQ(stats.refused_malformed, 1u);
  EXPECT_EQ(stats.batches_received, 1u);
}

}  // namespace
}  // namespace synod::transport::testing
