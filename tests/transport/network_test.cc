// The network transports (gRPC and REST), written once: the conformance suite over
// loopback in every security mode, plus what only a real network shows: peers that are
// down, restart, move or are removed at runtime, a slow peer beside a healthy one,
// bounded queues, and stop() racing with delivery. Meant to run under the sanitizers too.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "network_harness.h"
#include "synod/wire.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {

INSTANTIATE_TEST_SUITE_P(
    Network, TransportConformance,
    ::testing::Values(
        network_factory("grpc", grpc_maker(), SecurityMode::Plain),
        network_factory("grpc_tls", grpc_maker(), SecurityMode::Tls),
        network_factory("grpc_mtls", grpc_maker(), SecurityMode::MutualTls),
        network_factory("grpc_shared_secret", grpc_maker(), SecurityMode::SharedSecret),
        network_factory("rest", rest_maker(), SecurityMode::Plain),
        network_factory("rest_tls", rest_maker(), SecurityMode::Tls),
        network_factory("rest_mtls", rest_maker(), SecurityMode::MutualTls),
        network_factory("rest_shared_secret", rest_maker(), SecurityMode::SharedSecret)),
    harness_name);

namespace {

using namespace std::chrono_literals;

struct Flavour {
  std::string name;
  NetworkMaker maker;
};

class NetworkTransportTest : public ::testing::TestWithParam<Flavour> {
 protected:
  const NetworkMaker& maker() const { return GetParam().maker; }
  NetworkTransportOptions options(NodeId self) const { return loopback_options(kCluster, self); }
  NetworkPair pair(NetworkTransportOptions one) const {
    return NetworkPair(maker(), std::move(one), options(2));
  }
  NetworkPair pair() const { return pair(options(1)); }
  int closed_port() const { return testing::closed_port(maker()); }
};

INSTANTIATE_TEST_SUITE_P(Network, NetworkTransportTest,
                         ::testing::Values(Flavour{"Grpc", grpc_maker()},
                                           Flavour{"Rest", rest_maker()}),
                         [](const ::testing::TestParamInfo<Flavour>& info) {
                           return info.param.name;
                         });

// Holds the receiver of a node: the first batch waits in it until release(), so that the
// sender's link to that node is stuck on it.
class Gate {
 public:
  ~Gate() { release(); }
  Transport::Receiver receiver(std::atomic<int>& delivered) {
    return [this, &delivered](Batch&&) {
      std::unique_lock lock(mu_);
      entered_ = true;
      changed_.notify_all();
      // Bounded, so that a failing test cannot hang here.
      changed_.wait_for(lock, 60s, [&] { return released_; });
      ++delivered;
    };
  }
  bool await_entered() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 30s, [&] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool released_ = false;
};

TEST_P(NetworkTransportTest, PeerDownDropsCountsAndReports) {
  NetworkNode one;
  NetworkTransportOptions o = options(1);
  o.peers[2] = loopback(closed_port());
  one.start(maker(), std::move(o));
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

TEST_P(NetworkTransportTest, CountsTheWireBytesOfEveryBatchOnBothSides) {
  NetworkPair p = pair();
  std::uint64_t expected = 0;
  constexpr std::uint64_t kCount = 20;
  for (std::uint64_t i = 0; i < kCount; ++i) {
    // Batches of different sizes, so that a count of batches cannot pass for bytes.
    Batch batch = numbered_batch(kCluster, 1, 2, i, 1 + i % 3);
    synod::wire::v1::Batch wire;
    wire_codec::encode(batch, &wire);
    expected += wire.ByteSizeLong();
    p.one->send(std::move(batch));
  }
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == kCount; }));
  EXPECT_EQ(p.one->stats().bytes_sent, expected);
  EXPECT_EQ(p.two->stats().bytes_received, expected);
  EXPECT_EQ(p.one->stats().messages_sent, p.two->stats().messages_received);
  EXPECT_EQ(p.one->stats().reconnects, 0u);
}

TEST_P(NetworkTransportTest, PeerRestartReconnectsAndDeliveryResumes) {
  NetworkPair p = pair();
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
  NetworkNode again;
  NetworkTransportOptions o = options(2);
  o.listen_address = loopback(port);
  o.peers[1] = loopback(p.one->listen_port());
  again.start(maker(), std::move(o));
  ASSERT_TRUE(eventually([&] {
    p.one->send(numbered_batch(kCluster, 1, 2, seq++));
    return again.inbox.batch_count() > 0;
  }));
  // The dials after the link broke are counted; the first dial was not.
  EXPECT_GE(p.one->stats().reconnects, 1u);
  // Once connected, the link is healthy again: nothing else is lost.
  const auto dropped = dropped_total(p.one->stats());
  const auto received = again.inbox.batch_count();
  for (int i = 0; i < 50; ++i) p.one->send(numbered_batch(kCluster, 1, 2, seq++));
  ASSERT_TRUE(eventually([&] { return again.inbox.batch_count() >= received + 50; }));
  EXPECT_EQ(dropped_total(p.one->stats()), dropped);
}

TEST_P(NetworkTransportTest, SetPeerRedirectsFromADeadAddress) {
  NetworkTransportOptions o = options(1);
  o.peers[2] = loopback(closed_port());
  NetworkNode one;
  one.start(maker(), std::move(o));
  one->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(eventually([&] { return one->stats().dropped_peer_down == 1; }));

  NetworkNode two;
  NetworkTransportOptions options_two = options(2);
  options_two.peers[1] = loopback(one->listen_port());
  two.start(maker(), std::move(options_two));
  one->set_peer(2, loopback(two->listen_port()));
  std::uint64_t seq = 1;
  ASSERT_TRUE(eventually([&] {
    one->send(numbered_batch(kCluster, 1, 2, seq++));
    return two.inbox.batch_count() > 0;
  }));
}

// Node 2 moves: a new endpoint for it on another port. Once told, node 1 sends there, and
// nothing more reaches the old one.
TEST_P(NetworkTransportTest, SetPeerAtRuntimeMovesALiveLinkToTheNewAddress) {
  NetworkPair p = pair();
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 1; }));

  NetworkNode moved;
  NetworkTransportOptions o = options(2);
  o.peers[1] = loopback(p.one->listen_port());
  moved.start(maker(), std::move(o));
  p.one->set_peer(2, loopback(moved->listen_port()));
  for (std::uint64_t seq = 1; seq <= 20; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return moved.inbox.batch_count() == 20; }));
  EXPECT_EQ(p.two.inbox.batch_count(), 1u);
  const auto batches = moved.inbox.batches();
  for (std::uint64_t i = 0; i < 20; ++i) EXPECT_EQ(seq_of(batches[i]), i + 1);
  // Batch 0 arrived, but its acknowledgment may not have when the link moved: it is then
  // reported lost (a false alarm Raft only answers with a probe). Nothing sent after the
  // move is lost.
  EXPECT_LE(dropped_total(p.one->stats()), 1u);
}

// remove_peer() while a batch to the peer is stuck in its receiver and more wait behind:
// all of them are lost and reported, snapshots included, the peer is unknown from then on
// both ways, and set_peer() brings it back.
TEST_P(NetworkTransportTest, RemovePeerAtRuntimeLosesItsQueueAndForgetsIt) {
  NetworkPair p = pair();
  Gate gate;
  std::atomic<int> delivered{0};
  p.two->set_receiver(gate.receiver(delivered));
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(gate.await_entered());
  Batch with_snapshot = numbered_batch(kCluster, 1, 2, 1);
  with_snapshot.envelopes.push_back(install_snapshot(1, 2, 9));
  put_snapshot(p.one.files, with_snapshot.envelopes.back(), 100);
  p.one->send(with_snapshot);
  for (std::uint64_t seq = 2; seq < 6; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  // The snapshot goes apart from its batch.
  EXPECT_EQ(p.one->stats().batches_sent, 7u);

  p.one->remove_peer(2);
  // The six queued parts at least (the one in the receiver may still be acknowledged).
  ASSERT_TRUE(eventually([&] { return p.one->stats().dropped_peer_unknown >= 6; }));
  ASSERT_TRUE(eventually([&] { return p.one.inbox.lost_count() >= 6; }));
  ASSERT_TRUE(eventually([&] { return p.one.inbox.status_count() == 1; }));
  const auto status = p.one.inbox.statuses()[0];
  EXPECT_EQ(status.peer, 2u);
  EXPECT_EQ(status.partition, 9u);
  EXPECT_FALSE(status.delivered);
  gate.release();

  // Unknown from now on, both ways.
  const auto before = p.one->stats().dropped_peer_unknown;
  p.one->send(numbered_batch(kCluster, 1, 2, 6));
  EXPECT_EQ(p.one->stats().dropped_peer_unknown, before + 1);
  p.one->remove_peer(2);
  p.two->send(numbered_batch(kCluster, 2, 1, 0));
  ASSERT_TRUE(eventually([&] { return p.one->stats().refused_unknown_sender == 1; }));
  EXPECT_EQ(p.one.inbox.batch_count(), 0u);

  // Back again. (Batches reported lost may still have reached node 2: lost means that
  // the sender cannot tell.)
  p.one->set_peer(2, loopback(p.two->listen_port()));
  p.two.inbox.attach(*p.two.transport);
  p.one->send(numbered_batch(kCluster, 1, 2, 7));
  ASSERT_TRUE(eventually([&] {
    for (const Batch& batch : p.two.inbox.batches()) {
      if (seq_of(batch) == 7) return true;
    }
    return false;
  }));
}

// Node 3's receiver holds the link from node 1 stuck on one batch; node 1 goes on
// delivering to node 2 meanwhile, and send() returns at once for both.
TEST_P(NetworkTransportTest, AStuckPeerDoesNotDelayAnother) {
  NetworkNode one;
  NetworkNode two;
  NetworkNode three;
  one.start(maker(), options(1));
  for (auto [node, id] : {std::pair{&two, NodeId{2}}, std::pair{&three, NodeId{3}}}) {
    NetworkTransportOptions o = options(id);
    o.peers[1] = loopback(one->listen_port());
    node->start(maker(), std::move(o));
    one->set_peer(id, loopback((*node)->listen_port()));
  }
  Gate gate;
  std::atomic<int> delivered{0};
  three->set_receiver(gate.receiver(delivered));
  one->send(numbered_batch(kCluster, 1, 3, 0));
  ASSERT_TRUE(gate.await_entered());
  for (std::uint64_t seq = 0; seq < 100; ++seq) {
    one->send(numbered_batch(kCluster, 1, 3, seq + 1));
    one->send(numbered_batch(kCluster, 1, 2, seq));
  }
  ASSERT_TRUE(eventually([&] { return two.inbox.batch_count() == 100; }));
  EXPECT_EQ(delivered.load(), 0);
  gate.release();
  ASSERT_TRUE(eventually([&] { return delivered.load() == 101; }));
  EXPECT_EQ(dropped_total(one->stats()), 0u);
}

// Node 3's address accepts connections and never answers: the dial (or the first request)
// hangs. Node 2 gets everything while node 1 has not yet given up on node 3.
TEST_P(NetworkTransportTest, ABlackholedPeerDoesNotDelayAnother) {
  const int hole = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(hole, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(hole, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(hole, 16), 0);
  ASSERT_EQ(::getsockname(hole, reinterpret_cast<sockaddr*>(&address), &length), 0);
  {
    NetworkTransportOptions o = options(1);
    o.peers[3] = loopback(ntohs(address.sin_port));
    NetworkPair p(maker(), std::move(o), options(2));
    for (std::uint64_t seq = 0; seq < 50; ++seq) {
      p.one->send(numbered_batch(kCluster, 1, 3, seq));
      p.one->send(numbered_batch(kCluster, 1, 2, seq));
    }
    ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 50; }));
    // The link to node 3 still waits (gRPC gives a dial 5 s, REST an answer 30 s).
    EXPECT_EQ(p.one->stats().dropped_peer_down, 0u);
  }
  ::close(hole);
}

TEST_P(NetworkTransportTest, OversizedBatchIsDroppedAtTheSenderAndTheLinkGoesOn) {
  NetworkTransportOptions o = options(1);
  o.max_message_bytes = 1 << 20;
  NetworkPair p = pair(std::move(o));
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

TEST_P(NetworkTransportTest, TheBatchInFlightAndTheQueuedOnesShareTheQueueBound) {
  NetworkTransportOptions o = options(1);
  o.max_queued_batches_per_peer = 4;
  NetworkPair p = pair(std::move(o));
  Gate gate;
  std::atomic<int> delivered{0};
  p.two->set_receiver(gate.receiver(delivered));
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(gate.await_entered());
  // Batch 0 is being handled, so not yet acknowledged: three more fit.
  for (std::uint64_t seq = 1; seq <= 10; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  EXPECT_EQ(p.one->stats().dropped_queue_full, 7u);
  gate.release();
  ASSERT_TRUE(eventually([&] { return delivered.load() == 4; }));
  EXPECT_EQ(p.one->stats().batches_sent, 4u);
}

TEST_P(NetworkTransportTest, StopFromInsideTheReceiverReturnsAndEndsDelivery) {
  NetworkPair p = pair();
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

TEST_P(NetworkTransportTest, StopFromInsideTheUnreachableHandlerReturns) {
  NetworkTransportOptions o = options(1);
  o.peers[2] = loopback(closed_port());
  auto one = make_network(maker(), std::move(o));
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

TEST_P(NetworkTransportTest, NoDeliveryOnceStopHasReturned) {
  NetworkPair p = pair();
  std::atomic<bool> stopped{false};
  std::atomic<int> late{0};
  std::atomic<int> received{0};
  p.two->set_receiver([&](Batch&&) {
    if (stopped.load()) ++late;
    ++received;
  });
  std::atomic<bool> done{false};
  std::thread traffic([&] {
    for (std::uint64_t seq = 0; !done.load(); ++seq)
      p.one->send(numbered_batch(kCluster, 1, 2, seq));
  });
  // Stop in the middle of the traffic, not before it started.
  EXPECT_TRUE(eventually([&] { return received.load() >= 100; }));
  p.two->stop();
  stopped = true;
  EXPECT_TRUE(eventually([&] { return p.one->stats().dropped_peer_down >= 100; }));
  done = true;
  traffic.join();
  EXPECT_EQ(late.load(), 0);
}

TEST_P(NetworkTransportTest, ConcurrentSendersHaveEveryBatchDeliveredInLinkOrder) {
  constexpr NodeId kNodes = 3;
  constexpr std::uint64_t kPerLink = 300;
  std::mutex mu;
  std::map<std::pair<NodeId, NodeId>, std::uint64_t> next;
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::uint64_t> out_of_order{0};
  std::vector<std::unique_ptr<NetworkTransport>> nodes;
  for (NodeId id = 1; id <= kNodes; ++id) {
    nodes.push_back(make_network(maker(), options(id)));
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

TEST_P(NetworkTransportTest, CreateRefusesAnAddressInUseABadAddressAndBadOptions) {
  auto first = make_network(maker(), options(1));
  ASSERT_NE(first, nullptr);
  std::string error;
  NetworkTransportOptions o = options(2);
  o.listen_address = loopback(first->listen_port());
  EXPECT_EQ(maker()(o, &error), nullptr);
  EXPECT_FALSE(error.empty());

  for (const char* bad : {"127.0.0.1:99999", "127.0.0.1", "127.0.0.1:x", "::1:5", "", "[]:5"}) {
    SCOPED_TRACE(bad);
    error.clear();
    o.listen_address = bad;
    EXPECT_EQ(maker()(o, &error), nullptr);
    EXPECT_FALSE(error.empty());
  }

  error.clear();
  o = options(2);
  o.peers[1] = "nowhere";
  EXPECT_EQ(maker()(o, &error), nullptr);
  EXPECT_FALSE(error.empty());

  error.clear();
  EXPECT_EQ(maker()(options(raft::kNoNode), &error), nullptr);
  EXPECT_FALSE(error.empty());
}

// The link breaks while a snapshot streams: the transfer is lost and reported not
// delivered once, the receiver discards what it wrote (gRPC as the stream ends; REST,
// which cannot tell, once the sender's next transfer begins), and a later one arrives.
TEST_P(NetworkTransportTest, ALinkBrokenMidTransferDiscardsTheFileAndALaterSnapshotArrives) {
  auto one = options(1);
  one.snapshot_chunk_bytes = 16 << 10;
  NetworkPair p = pair(std::move(one));
  p.one.files.hold_reads_at(1 << 20);
  const Envelope broken = install_snapshot(1, 2, 5, 1);
  put_snapshot(p.one.files, broken, 4 << 20);
  p.one->send(Batch{kCluster, 1, 2, {broken}});
  ASSERT_TRUE(p.one.files.await_read_held());
  const int port = p.two->listen_port();
  p.one->set_peer(2, loopback(closed_port()));
  p.one.files.release_reads();
  ASSERT_TRUE(eventually([&] { return p.one.inbox.status_count() == 1; }));
  EXPECT_FALSE(p.one.inbox.statuses()[0].delivered);
  EXPECT_EQ(p.two.files.commits(), 0u);
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);

  // Sent again, as the runtime would, until one arrives (the back-off may drop some).
  p.one->set_peer(2, loopback(port));
  const Envelope good = install_snapshot(1, 2, 6, 2);
  const std::string file = put_snapshot(p.one.files, good, 100'000);
  std::size_t sent = 0;
  ASSERT_TRUE(eventually([&] {
    if (p.two.files.committed(6, 1002)) return true;
    if (p.one.inbox.status_count() == 1 + sent) {
      p.one->send(Batch{kCluster, 1, 2, {good}});
      ++sent;
    }
    return false;
  }));
  EXPECT_EQ(p.two.files.committed(6, 1002), file);
  ASSERT_TRUE(eventually([&] { return p.two.files.writers_open() == 0; }));
  EXPECT_EQ(p.two.files.discarded(), 1u);
  EXPECT_FALSE(p.two.files.committed(5, 1001).has_value());
  EXPECT_EQ(p.two->stats().snapshot_transfers_abandoned, 1u);
  ASSERT_TRUE(eventually([&] { return p.one.files.readers_open() == 0; }));
}

TEST_P(NetworkTransportTest, SendBeforeStartIsDroppedAsStoppedAndNotReported) {
  auto one = make_network(maker(), options(1));
  ASSERT_NE(one, nullptr);
  Inbox inbox;
  inbox.attach(*one);
  Batch batch = numbered_batch(kCluster, 1, 2, 0);
  batch.envelopes.push_back(install_snapshot(1, 2, 3));
  one->send(batch);
  // The heartbeat and, apart, the snapshot.
  EXPECT_EQ(one->stats().dropped_stopped, 2u);
  one->stop();
  EXPECT_EQ(inbox.status_count(), 0u);
  EXPECT_EQ(inbox.lost_count(), 0u);
}

}  // namespace
}  // namespace synod::transport::testing
