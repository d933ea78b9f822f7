// The gRPC transport's own side: what a stranger speaking the wire protocol directly can
// send, and how it is refused. What both network transports share is in network_test.cc.
#include "synod/transport/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "network_harness.h"
#include "raw_wire.h"
#include "synod/wire.grpc.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {

namespace {

namespace pb = synod::wire::v1;

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

TEST(Grpc, ABatchWithOneBadEnvelopeDeliversTheRest) {
  NetworkPair p = network_pair(grpc_maker());
  RawClient client(p.two->listen_port());
  client.send(batch_with_a_bad_envelope());
  expect_the_rest_delivered(p.two);
}

TEST(Grpc, AStreamThatEndsMidTransferAbandonsItAndDeliversNothing) {
  NetworkPair p = network_pair(grpc_maker());
  const auto chunks = chunk_batches(install_snapshot(1, 2, 3), 10'000, 1, 1000);
  {
    RawClient client(p.two->listen_port());
    for (std::size_t i = 0; i < 4; ++i) client.send(chunks[i]);
  }
  ASSERT_TRUE(eventually([&] { return p.two->stats().snapshot_transfers_abandoned == 1; }));
  // What was written is discarded.
  EXPECT_EQ(p.two.files.discarded(), 1u);
  EXPECT_EQ(p.two.files.writers_open(), 0u);
  // The same chunks on a new stream continue nothing; the whole transfer arrives.
  RawClient client(p.two->listen_port());
  client.send(chunks[4]);
  EXPECT_EQ(p.two->stats().messages_malformed, 1u);
  for (const pb::Batch& chunk : chunks) client.send(chunk);
  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  EXPECT_TRUE(is_snapshot_batch(p.two.inbox.batches()[0]));
  EXPECT_EQ(p.two.files.committed(3, 1000), patterned(10'000, 1000));
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.snapshot_chunks_received, 4 + 1 + chunks.size());
  EXPECT_EQ(stats.batches_received, 1u);
}

TEST(Grpc, RefusesAndCountsForeignClusterUnknownSenderWrongDestinationAndVersion) {
  NetworkPair p = network_pair(grpc_maker());
  RawClient client(p.two->listen_port());
  for (const pb::Batch& wire : refused_then_good_batches()) client.send(wire);
  expect_each_refusal_counted(p.two);
}

}  // namespace
}  // namespace synod::transport::testing
