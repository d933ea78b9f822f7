// The gRPC transport: the conformance suite over loopback, plus what only a real network
// shows: bad input on the wire, refusals, peers that are down or restart, bounded queues
// and stop() racing with delivery. Meant to run under the sanitizers too.
#include "synod/transport/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "grpc_harness.h"
#include "snapshot_stream.h"
#include "synod/wire.grpc.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {

namespace {
HarnessFactory grpc_factory(std::string name, SecurityMode mode) {
  return {std::move(name), [mode] { return std::make_unique<GrpcHarness>(test_security(mode)); }};
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(Grpc, TransportConformance,
                         ::testing::Values(grpc_factory("grpc", SecurityMode::Plain),
                                           grpc_factory("grpc_tls", SecurityMode::Tls),
                                           grpc_factory("grpc_mtls", SecurityMode::MutualTls),
                                           grpc_factory("grpc_shared_secret",
                                                        SecurityMode::SharedSecret)),
                         harness_name);

namespace {

namespace pb = synod::wire::v1;
using namespace std::chrono_literals;

constexpr ClusterId kCluster = 7;

// A started endpoint and what it received.
struct Node {
  Inbox inbox;
  // Declared after the inbox so that it stops before the inbox goes away.
  std::unique_ptr<GrpcTransport> transport;

  GrpcTransport* operator->() { return transport.get(); }
};

// Makes node `self`, knowing `peers`, with its handlers recording into `node`.
void start_node(Node& node, GrpcTransportOptions options) {
  node.transport = make_grpc(std::move(options));
  ASSERT_NE(node.transport, nullptr);
  node.transport->set_receiver(node.inbox.receiver());
  node.transport->set_unreachable_handler(node.inbox.unreachable_handler());
  node.transport->start();
}

// Two nodes that know each other: 1 sends to 2.
struct Pair {
  Node one;
  Node two;
  explicit Pair(GrpcTransportOptions options_one = loopback_options(kCluster, 1),
                GrpcTransportOptions options_two = loopback_options(kCluster, 2)) {
    start_node(one, std::move(options_one));
    options_two.peers[1] = loopback(one->listen_port());
    start_node(two, std::move(options_two));
    one->set_peer(2, loopback(two->listen_port()));
  }
};

// A port nothing listens on: one an endpoint had, closed again.
int closed_port() {
  auto transport = make_grpc(loopback_options(kCluster, 99));
  return transport ? transport->listen_port() : 1;
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
  Pair p;
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
  Pair p;
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
  Pair p;
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

TEST(Grpc, PeerDownDropsCountsAndReports) {
  Node one;
  GrpcTransportOptions options = loopback_options(kCluster, 1);
  options.peers[2] = loopback(closed_port());
  start_node(one, std::move(options));
  // Keeps sending, as the runtime would; some are dropped on the failed dial, some at
  // once while the back-off runs.
  std::uint64_t seq = 0;
  ASSERT_TRUE(eventually([&] {
    one->send(numbered_batch(kCluster, 1, 2, seq++, 2));
    return one->stats().dropped_peer_down >= 10;
  }));
  ASSERT_TRUE(eventually([&] { return one.inbox.lost_count() >= 10; }));
  for (const auto& lost : one.inbox.lost()) {
    EXPECT_EQ(lost.peer, 2u);
    EXPECT_EQ(lost.envelopes.size(), 2u);
  }
  const auto stats = one->stats();
  EXPECT_EQ(stats.messages_dropped, 2 * dropped_total(stats));
  EXPECT_EQ(stats.batches_received, 0u);
}

TEST(Grpc, PeerRestartReconnectsAndDeliveryResumes) {
  Pair p;
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 1; }));

  const int port = p.two->listen_port();
  p.two.transport.reset();
  std::uint64_t seq = 1;
  ASSERT_TRUE(eventually([&] {
    p.one->send(numbered_batch(kCluster, 1, 2, seq++));
    return p.one->stats().dropped_peer_down > 0;
  }));

  // Back on the same address: node 1 finds it again by itself.
  Node again;
  GrpcTransportOptions options = loopback_options(kCluster, 2);
  options.listen_address = loopback(port);
  options.peers[1] = loopback(p.one->listen_port());
  start_node(again, std::move(options));
  ASSERT_TRUE(eventually([&] {
    p.one->send(numbered_batch(kCluster, 1, 2, seq++));
    return again.inbox.batch_count() > 0;
  }));
  // Once connected, the link is healthy again: nothing else is lost.
  const auto dropped = dropped_total(p.one->stats());
  const auto received = again.inbox.batch_count();
  for (int i = 0; i < 50; ++i) p.one->send(numbered_batch(kCluster, 1, 2, seq++));
  ASSERT_TRUE(eventually([&] { return again.inbox.batch_count() >= received + 50; }));
  EXPECT_EQ(dropped_total(p.one->stats()), dropped);
}

TEST(Grpc, SetPeerRedirectsToTheNewAddress) {
  GrpcTransportOptions options = loopback_options(kCluster, 1);
  options.peers[2] = loopback(closed_port());
  Node one;
  start_node(one, std::move(options));
  one->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(eventually([&] { return one->stats().dropped_peer_down == 1; }));

  Node two;
  GrpcTransportOptions options_two = loopback_options(kCluster, 2);
  options_two.peers[1] = loopback(one->listen_port());
  start_node(two, std::move(options_two));
  one->set_peer(2, loopback(two->listen_port()));
  std::uint64_t seq = 1;
  ASSERT_TRUE(eventually([&] {
    one->send(numbered_batch(kCluster, 1, 2, seq++));
    return two.inbox.batch_count() > 0;
  }));
}

TEST(Grpc, OversizedBatchIsDroppedAndCountedAndTheLinkGoesOn) {
  GrpcTransportOptions options = loopback_options(kCluster, 1);
  options.max_message_bytes = 1 << 20;
  Pair p(options);
  // Entries travel whole (only snapshots stream in chunks).
  Batch big = numbered_batch(kCluster, 1, 2, 0);
  big.envelopes[0].message.type = raft::MessageType::Append;
  big.envelopes[0].message.entries.push_back(
      {11, 3, raft::EntryType::Normal, 0, patterned_bytes(2 << 20, 0)});
  p.one->send(big);
  EXPECT_EQ(p.one->stats().dropped_too_large, 1u);
  // The runtime hears of it like of any loss.
  ASSERT_TRUE(eventually([&] { return p.one.inbox.lost_count() == 1; }));

  p.one->send(numbered_batch(kCluster, 1, 2, 1));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 1; }));
  EXPECT_EQ(seq_of(p.two.inbox.batches()[0]), 1u);
}

TEST(Grpc, UnacknowledgedAndQueuedBatchesShareTheQueueBound) {
  GrpcTransportOptions options = loopback_options(kCluster, 1);
  options.max_queued_batches_per_peer = 4;
  Pair p(options);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::atomic<int> delivered{0};
  p.two->set_receiver([&](Batch&&) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    ++delivered;
  });
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return entered; }));
  }
  // Batch 0 is being handled, so not acknowledged: three more fit.
  for (std::uint64_t seq = 1; seq <= 10; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  EXPECT_EQ(p.one->stats().dropped_queue_full, 7u);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(eventually([&] { return delivered.load() == 4; }));
  EXPECT_EQ(p.one->stats().batches_sent, 4u);
}

TEST(Grpc, StopFromInsideTheReceiverReturnsAndEndsDelivery) {
  Pair p;
  std::atomic<int> calls{0};
  std::atomic<bool> returned{false};
  p.two->set_receiver([&](Batch&&) {
    ++calls;
    p.two->stop();
    returned = true;
  });
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  p.one->send(numbered_batch(kCluster, 1, 2, 1));
  ASSERT_TRUE(eventually([&] { return returned.load(); }));
  // The second batch is lost, not delivered, and the sender learns so.
  ASSERT_TRUE(eventually([&] { return p.one->stats().dropped_peer_down >= 1; }));
  EXPECT_EQ(calls.load(), 1);
  // Stopping again from outside waits for the teardown the handler started.
  p.two->stop();
  EXPECT_EQ(calls.load(), 1);
}

TEST(Grpc, StopFromInsideTheUnreachableHandlerReturns) {
  GrpcTransportOptions options = loopback_options(kCluster, 1);
  options.peers[2] = loopback(closed_port());
  auto one = make_grpc(std::move(options));
  ASSERT_NE(one, nullptr);
  std::atomic<bool> returned{false};
  one->set_unreachable_handler([&](NodeId, std::vector<Envelope>&&) {
    one->stop();
    returned = true;
  });
  one->start();
  std::uint64_t seq = 0;
  ASSERT_TRUE(eventually([&] {
    if (!returned.load()) one->send(numbered_batch(kCluster, 1, 2, seq++));
    return returned.load();
  }));
  one->send(numbered_batch(kCluster, 1, 2, seq++));
  EXPECT_GE(one->stats().dropped_stopped, 1u);
}

TEST(Grpc, NoDeliveryOnceStopHasReturned) {
  Pair p;
  std::atomic<bool> stopped{false};
  std::atomic<int> late{0};
  std::atomic<int> received{0};
  p.two->set_receiver([&](Batch&&) {
    if (stopped.load()) ++late;
    ++received;
  });
  std::atomic<bool> done{false};
  std::thread traffic([&] {
    for (std::uint64_t seq = 0; !done.load(); ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  });
  // Stop in the middle of the stream, not before it started.
  EXPECT_TRUE(eventually([&] { return received.load() >= 100; }));
  p.two->stop();
  stopped = true;
  EXPECT_TRUE(eventually([&] { return p.one->stats().dropped_peer_down >= 100; }));
  done = true;
  traffic.join();
  EXPECT_EQ(late.load(), 0);
}

TEST(Grpc, ConcurrentSendersHaveEveryBatchDeliveredInLinkOrder) {
  constexpr NodeId kNodes = 3;
  constexpr std::uint64_t kPerLink = 300;
  std::mutex mu;
  std::map<std::pair<NodeId, NodeId>, std::uint64_t> next;
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::uint64_t> out_of_order{0};
  std::vector<std::unique_ptr<GrpcTransport>> nodes;
  for (NodeId id = 1; id <= kNodes; ++id) {
    nodes.push_back(make_grpc(loopback_options(kCluster, id)));
    ASSERT_NE(nodes.back(), nullptr);
  }
  for (NodeId a = 1; a <= kNodes; ++a) {
    for (NodeId b = 1; b <= kNodes; ++b) {
      if (a != b) nodes[a - 1]->set_peer(b, loopback(nodes[b - 1]->listen_port()));
    }
    nodes[a - 1]->set_receiver([&](Batch&& batch) {
      std::lock_guard lock(mu);
      if (seq_of(batch) != next[{batch.from, batch.to}]++) ++out_of_order;
      ++total;
    });
  }
  for (auto& node : nodes) node->start();
  std::vector<std::thread> senders;
  for (NodeId from = 1; from <= kNodes; ++from) {
    senders.emplace_back([&, from] {
      for (std::uint64_t seq = 0; seq < kPerLink; ++seq) {
        for (NodeId to = 1; to <= kNodes; ++to) {
          if (to != from) nodes[from - 1]->send(numbered_batch(kCluster, from, to, seq));
        }
      }
    });
  }
  for (auto& t : senders) t.join();
  constexpr std::uint64_t kExpected = kNodes * (kNodes - 1) * kPerLink;
  ASSERT_TRUE(eventually([&] { return total.load() == kExpected; })) << total.load();
  EXPECT_EQ(out_of_order.load(), 0u);
  for (auto& node : nodes) {
    const auto stats = node->stats();
    EXPECT_EQ(stats.batches_sent, (kNodes - 1) * kPerLink);
    EXPECT_EQ(stats.batches_received, (kNodes - 1) * kPerLink);
    EXPECT_EQ(dropped_total(stats), 0u);
  }
  // Stopped before the receiver's state goes away.
  for (auto& node : nodes) node->stop();
}

TEST(Grpc, CreateRefusesAnAddressInUseABadAddressAndBadOptions) {
  auto first = make_grpc(loopback_options(kCluster, 1));
  ASSERT_NE(first, nullptr);
  std::string error;
  GrpcTransportOptions options = loopback_options(kCluster, 2);
  options.listen_address = loopback(first->listen_port());
  EXPECT_EQ(GrpcTransport::create(options, &error), nullptr);
  EXPECT_FALSE(error.empty());

  for (const char* bad : {"127.0.0.1:99999", "127.0.0.1", "127.0.0.1:x", "::1:5", ""}) {
    SCOPED_TRACE(bad);
    error.clear();
    options.listen_address = bad;
    EXPECT_EQ(GrpcTransport::create(options, &error), nullptr);
    EXPECT_FALSE(error.empty());
  }

  error.clear();
  EXPECT_EQ(GrpcTransport::create(loopback_options(kCluster, raft::kNoNode), &error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(Grpc, SendBeforeStartIsDroppedAsStopped) {
  auto one = make_grpc(loopback_options(kCluster, 1));
  ASSERT_NE(one, nullptr);
  one->send(numbered_batch(kCluster, 1, 2, 0));
  EXPECT_EQ(one->stats().dropped_stopped, 1u);
}

}  // namespace
}  // namespace synod::transport::testing
