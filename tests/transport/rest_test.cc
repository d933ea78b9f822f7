// The REST transport: the conformance suite over loopback in every security mode, plus
// what only a real network shows: bad input on the wire, refusals, peers that are down or
// restart, bounded queues, connection reuse and stop() racing with delivery.
#include "synod/transport/rest_transport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "rest_harness.h"
#include "snapshot_stream.h"
#include "synod/wire.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {

INSTANTIATE_TEST_SUITE_P(Rest, TransportConformance,
                         ::testing::Values(rest_factory("rest", SecurityMode::Plain),
                                           rest_factory("rest_tls", SecurityMode::Tls),
                                           rest_factory("rest_mtls", SecurityMode::MutualTls),
                                           rest_factory("rest_shared_secret",
                                                        SecurityMode::SharedSecret)),
                         harness_name);

namespace {

namespace pb = synod::wire::v1;
using namespace std::chrono_literals;

constexpr ClusterId kCluster = 7;

RestPair plain_pair(RestTransportOptions one = rest_options(kCluster, 1)) {
  return RestPair(std::move(one), rest_options(kCluster, 2));
}

// A port nothing listens on: one an endpoint had, closed again.
int closed_port() {
  auto transport = make_rest(rest_options(kCluster, 99));
  return transport ? transport->listen_port() : 1;
}

std::string body_of(const Batch& batch) {
  pb::Batch wire;
  wire_codec::encode(batch, &wire);
  return wire.SerializeAsString();
}

// Posts `body` as a stranger would, and returns the HTTP status (0: no answer).
int post(int port, const std::string& body,
         const std::string& content_type = RestTransport::kContentType) {
  httplib::Client client("127.0.0.1", port);
  const auto result = client.Post(RestTransport::kBatchPath, body, content_type);
  return result ? result->status : 0;
}

// Connections accepted on `port` of this process that are still open.
int accepted_connections(int port) {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  while (const dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    sockaddr_in local{};
    socklen_t length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != port) {
      continue;
    }
    int listening = 1;
    socklen_t size = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0 && !listening) ++count;
  }
  closedir(dir);
  return count;
}

TEST(Rest, ANewTransferAbandonsAnUnfinishedOneAndABadChunkIsRefused) {
  RestPair p = plain_pair();
  const int port = p.two->listen_port();
  auto chunks_of = [](const Envelope& envelope, std::uint64_t transfer) {
    snapshot_stream::SnapshotCursor cursor(Batch{kCluster, 1, 2, {envelope}}, transfer, 1000);
    std::vector<std::string> bodies;
    while (!cursor.done()) {
      pb::Batch wire;
      cursor.next(&wire);
      bodies.push_back(wire.SerializeAsString());
    }
    return bodies;
  };
  const Envelope second = snapshot_envelope(1, 2, 4, 3000, 2);
  const auto a = chunks_of(snapshot_envelope(1, 2, 3, 3000, 1), 1);
  const auto b = chunks_of(second, 2);
  ASSERT_EQ(post(port, a[0]), 200);
  ASSERT_EQ(post(port, a[1]), 200);
  // Out of order: refused, and the transfer is given up.
  EXPECT_EQ(post(port, a[3]), 400);
  EXPECT_EQ(p.two->stats().snapshot_transfers_abandoned, 1u);
  ASSERT_EQ(post(port, a[0]), 200);
  for (const std::string& chunk : b) ASSERT_EQ(post(port, chunk), 200);

  ASSERT_EQ(p.two.inbox.batch_count(), 1u);
  const Batch got = p.two.inbox.batches()[0];
  ASSERT_TRUE(is_snapshot_batch(got));
  EXPECT_EQ(got.envelopes[0].partition, 4u);
  expect_same_message(got.envelopes[0].message, second.message);
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.snapshot_transfers_abandoned, 2u);
  EXPECT_EQ(stats.messages_malformed, 1u);
  EXPECT_EQ(stats.snapshot_chunks_received, 4 + b.size());
}

TEST(Rest, ABatchWithOneBadEnvelopeDeliversTheRest) {
  RestPair p = plain_pair();
  pb::Batch wire;
  wire_codec::encode(numbered_batch(kCluster, 1, 2, 5, 3), &wire);
  wire.mutable_envelopes(1)->mutable_message()->set_type(static_cast<pb::MessageType>(42));
  // The receiver answers once it has handed the batch over.
  ASSERT_EQ(post(p.two->listen_port(), wire.SerializeAsString()), 200);

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

TEST(Rest, RefusesAndCountsForeignClusterUnknownSenderWrongDestinationAndVersion) {
  RestPair p = plain_pair();
  const int port = p.two->listen_port();
  EXPECT_EQ(post(port, body_of(numbered_batch(kCluster + 1, 1, 2, 0))), 403);
  EXPECT_EQ(post(port, body_of(numbered_batch(kCluster, 5, 2, 1))), 403);
  EXPECT_EQ(post(port, body_of(numbered_batch(kCluster, 1, 3, 2))), 421);
  pb::Batch future;
  wire_codec::encode(numbered_batch(kCluster, 1, 2, 3), &future);
  future.set_wire_version((wire_codec::kWireMajor + 1) << 16);
  EXPECT_EQ(post(port, future.SerializeAsString()), 400);
  EXPECT_EQ(post(port, body_of(numbered_batch(kCluster, 1, 2, 4))), 200);

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

TEST(Rest, AStrangerPostingGarbageOrAnotherContentTypeIsRefused) {
  RestPair p = plain_pair();
  const int port = p.two->listen_port();
  EXPECT_EQ(post(port, "\xff\xff\xff\xff not protobuf"), 400);
  EXPECT_EQ(post(port, ""), 400);
  EXPECT_EQ(post(port, body_of(numbered_batch(kCluster, 1, 2, 0)), "application/json"), 415);
  EXPECT_EQ(post(port, body_of(numbered_batch(kCluster, 1, 2, 1)), "text/plain"), 415);
  httplib::Client client("127.0.0.1", port);
  const auto other_path = client.Post("/synod/v1/other", body_of(numbered_batch(kCluster, 1, 2, 2)),
                                      RestTransport::kContentType);
  ASSERT_TRUE(other_path);
  EXPECT_EQ(other_path->status, 404);
  const auto get = client.Get(RestTransport::kBatchPath);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404);

  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
  const auto stats = p.two->stats();
  EXPECT_EQ(stats.refused_malformed, 4u);
  EXPECT_EQ(stats.batches_received, 0u);
  // A parameter on the media type is fine.
  EXPECT_EQ(post(port, body_of(numbered_batch(kCluster, 1, 2, 3)),
                 "Application/X-Protobuf; proto=synod.wire.v1.Batch"),
            200);
  EXPECT_EQ(p.two.inbox.batch_count(), 1u);
}

TEST(Rest, AnOversizedBodyIsRefusedAndTheEndpointGoesOn) {
  RestTransportOptions options = rest_options(kCluster, 2);
  options.max_message_bytes = 1 << 16;
  options.peers[1] = "127.0.0.1:1";
  RestNode two;
  two.start(std::move(options));
  Batch big = numbered_batch(kCluster, 1, 2, 0);
  big.envelopes[0].message.type = raft::MessageType::Append;
  big.envelopes[0].message.entries.push_back(
      {1, 3, raft::EntryType::Normal, 0, raft::Bytes(std::string(1 << 17, 'x'))});
  EXPECT_EQ(post(two->listen_port(), body_of(big)), 413);

  // Without a declared length too (chunked): the limit is the endpoint's, not httplib's.
  httplib::Client client("127.0.0.1", two->listen_port());
  const std::string body = body_of(big);
  const auto chunked = client.Post(
      RestTransport::kBatchPath,
      [&](std::size_t offset, httplib::DataSink& sink) {
        if (offset < body.size()) {
          sink.write(body.data() + offset, std::min<std::size_t>(4096, body.size() - offset));
        } else {
          sink.done();
        }
        return true;
      },
      RestTransport::kContentType);
  // The endpoint stops reading at the limit; it answers 413 or hangs up on the stream.
  if (chunked) {
    EXPECT_EQ(chunked->status, 413);
  }

  EXPECT_EQ(post(two->listen_port(), body_of(numbered_batch(kCluster, 1, 2, 1))), 200);
  ASSERT_EQ(two.inbox.batch_count(), 1u);
  EXPECT_EQ(seq_of(two.inbox.batches()[0]), 1u);
  EXPECT_GE(two->stats().refused_malformed, chunked ? 2u : 1u);
}

TEST(Rest, OversizedBatchIsDroppedAtTheSenderAndTheLinkGoesOn) {
  RestTransportOptions options = rest_options(kCluster, 1);
  options.max_message_bytes = 1 << 20;
  RestPair p = plain_pair(std::move(options));
  // Entries travel whole (only snapshots stream in chunks).
  Batch big = numbered_batch(kCluster, 1, 2, 0);
  big.envelopes[0].message.type = raft::MessageType::Append;
  big.envelopes[0].message.entries.push_back(
      {11, 3, raft::EntryType::Normal, 0, patterned_bytes(2 << 20, 0)});
  p.one->send(big);
  EXPECT_EQ(p.one->stats().dropped_too_large, 1u);
  ASSERT_TRUE(eventually([&] { return p.one.inbox.lost_count() == 1; }));

  p.one->send(numbered_batch(kCluster, 1, 2, 1));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 1; }));
  EXPECT_EQ(seq_of(p.two.inbox.batches()[0]), 1u);
}

TEST(Rest, BatchesToOnePeerShareOneKeptAliveConnection) {
  RestPair p = plain_pair();
  for (std::uint64_t seq = 0; seq < 200; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 200; }));
  EXPECT_EQ(accepted_connections(p.two->listen_port()), 1);
}

TEST(Rest, StopIsPromptWithIdleConnectionsOpen) {
  RestPair p = plain_pair();
  p.one->send(numbered_batch(kCluster, 1, 2, 0));
  p.two->send(numbered_batch(kCluster, 2, 1, 0));
  ASSERT_TRUE(eventually([&] {
    return p.one.inbox.batch_count() == 1 && p.two.inbox.batch_count() == 1;
  }));
  ASSERT_EQ(accepted_connections(p.two->listen_port()), 1);
  // The server would keep an idle connection for 30 s; stop() closes it at once.
  const auto began = std::chrono::steady_clock::now();
  p.two->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
  EXPECT_EQ(accepted_connections(p.two->listen_port()), 0);
}

TEST(Rest, PeerDownDropsCountsAndReports) {
  RestNode one;
  RestTransportOptions options = rest_options(kCluster, 1);
  options.peers[2] = rest_address(closed_port());
  one.start(std::move(options));
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

TEST(Rest, PeerRestartReconnectsAndDeliveryResumes) {
  RestPair p = plain_pair();
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
  RestNode again;
  RestTransportOptions options = rest_options(kCluster, 2);
  options.listen_address = rest_address(port);
  options.peers[1] = rest_address(p.one->listen_port());
  again.start(std::move(options));
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

TEST(Rest, SetPeerRedirectsToTheNewAddress) {
  RestTransportOptions options = rest_options(kCluster, 1);
  options.peers[2] = rest_address(closed_port());
  RestNode one;
  one.start(std::move(options));
  one->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(eventually([&] { return one->stats().dropped_peer_down == 1; }));

  RestNode two;
  RestTransportOptions options_two = rest_options(kCluster, 2);
  options_two.peers[1] = rest_address(one->listen_port());
  two.start(std::move(options_two));
  one->set_peer(2, rest_address(two->listen_port()));
  std::uint64_t seq = 1;
  ASSERT_TRUE(eventually([&] {
    one->send(numbered_batch(kCluster, 1, 2, seq++));
    return two.inbox.batch_count() > 0;
  }));
}

TEST(Rest, TheBatchInFlightAndTheQueuedOnesShareTheQueueBound) {
  RestTransportOptions options = rest_options(kCluster, 1);
  options.max_queued_batches_per_peer = 4;
  RestPair p = plain_pair(std::move(options));
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
  // Batch 0 is being handled, so still in flight: three more fit.
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

TEST(Rest, StopFromInsideTheReceiverReturnsAndEndsDelivery) {
  RestPair p = plain_pair();
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

TEST(Rest, StopFromInsideTheUnreachableHandlerReturns) {
  RestTransportOptions options = rest_options(kCluster, 1);
  options.peers[2] = rest_address(closed_port());
  auto one = make_rest(std::move(options));
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

TEST(Rest, NoDeliveryOnceStopHasReturned) {
  RestPair p = plain_pair();
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
  // Stop in the middle of the traffic, not before it started.
  EXPECT_TRUE(eventually([&] { return received.load() >= 100; }));
  p.two->stop();
  stopped = true;
  EXPECT_TRUE(eventually([&] { return p.one->stats().dropped_peer_down >= 100; }));
  done = true;
  traffic.join();
  EXPECT_EQ(late.load(), 0);
}

TEST(Rest, ConcurrentSendersHaveEveryBatchDeliveredInLinkOrder) {
  constexpr NodeId kNodes = 3;
  constexpr std::uint64_t kPerLink = 300;
  std::mutex mu;
  std::map<std::pair<NodeId, NodeId>, std::uint64_t> next;
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::uint64_t> out_of_order{0};
  std::vector<std::unique_ptr<RestTransport>> nodes;
  for (NodeId id = 1; id <= kNodes; ++id) {
    nodes.push_back(make_rest(rest_options(kCluster, id)));
    ASSERT_NE(nodes.back(), nullptr);
  }
  for (NodeId a = 1; a <= kNodes; ++a) {
    for (NodeId b = 1; b <= kNodes; ++b) {
      if (a != b) nodes[a - 1]->set_peer(b, rest_address(nodes[b - 1]->listen_port()));
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

TEST(Rest, CreateRefusesAnAddressInUseABadAddressAndBadOptions) {
  auto first = make_rest(rest_options(kCluster, 1));
  ASSERT_NE(first, nullptr);
  std::string error;
  RestTransportOptions options = rest_options(kCluster, 2);
  options.listen_address = rest_address(first->listen_port());
  EXPECT_EQ(RestTransport::create(options, &error), nullptr);
  EXPECT_FALSE(error.empty());

  for (const char* bad : {"127.0.0.1:99999", "127.0.0.1", "127.0.0.1:x", "::1:5", "", "[]:5"}) {
    SCOPED_TRACE(bad);
    error.clear();
    options.listen_address = bad;
    EXPECT_EQ(RestTransport::create(options, &error), nullptr);
    EXPECT_FALSE(error.empty());
  }

  error.clear();
  options = rest_options(kCluster, 2);
  options.peers[1] = "nowhere";
  EXPECT_EQ(RestTransport::create(options, &error), nullptr);
  EXPECT_FALSE(error.empty());

  error.clear();
  EXPECT_EQ(RestTransport::create(rest_options(kCluster, raft::kNoNode), &error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(Rest, SendBeforeStartIsDroppedAsStoppedAndABatchToANotStartedPeerIsRefused) {
  auto two = make_rest(rest_options(kCluster, 2));
  ASSERT_NE(two, nullptr);
  two->send(numbered_batch(kCluster, 2, 1, 0));
  EXPECT_EQ(two->stats().dropped_stopped, 1u);
  // It listens from create() on, answering that it does not serve yet.
  EXPECT_EQ(post(two->listen_port(), body_of(numbered_batch(kCluster, 1, 2, 0))), 503);
}

}  // namespace
}  // namespace synod::transport::testing
