// The REST transport's own side: what a stranger posting directly can send and how it is
// refused, connection reuse, and closing idle connections. What both network transports
// share is in network_test.cc.
#include "synod/transport/rest_transport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "network_harness.h"
#include "raw_wire.h"
#include "synod/wire.pb.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {

namespace {

namespace pb = synod::wire::v1;
using namespace std::chrono_literals;

std::string body_of(const Batch& batch) { return wire_batch(batch).SerializeAsString(); }

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
  NetworkPair p = network_pair(rest_maker());
  const int port = p.two->listen_port();
  auto chunks_of = [](const Envelope& envelope, std::uint64_t transfer) {
    std::vector<std::string> bodies;
    for (const pb::Batch& wire : chunk_batches(envelope, 3000, transfer, 1000)) {
      bodies.push_back(wire.SerializeAsString());
    }
    return bodies;
  };
  const Envelope second = install_snapshot(1, 2, 4, 2);
  const auto a = chunks_of(install_snapshot(1, 2, 3, 1), 1);
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
  EXPECT_EQ(p.two.files.committed(4, 1002), patterned(3000, 1002));
  EXPECT_EQ(p.two.files.discarded(), 2u);
}

TEST(Rest, ASnapshotTheReceiverCannotStoreIsAnswered422) {
  NetworkPair p = network_pair(rest_maker());
  p.two.files.refuse_receive();
  const auto chunks = chunk_batches(install_snapshot(1, 2, 3), 3000, 1, 1000);
  EXPECT_EQ(post(p.two->listen_port(), chunks[0].SerializeAsString()), 422);
  EXPECT_EQ(p.two->stats().snapshot_transfers_refused, 1u);
  EXPECT_EQ(p.two.inbox.batch_count(), 0u);
}

TEST(Rest, ABatchWithOneBadEnvelopeDeliversTheRest) {
  NetworkPair p = network_pair(rest_maker());
  // The receiver answers once it has handed the batch over.
  ASSERT_EQ(post(p.two->listen_port(), batch_with_a_bad_envelope().SerializeAsString()), 200);
  expect_the_rest_delivered(p.two);
}

TEST(Rest, RefusesAndCountsForeignClusterUnknownSenderWrongDestinationAndVersion) {
  NetworkPair p = network_pair(rest_maker());
  std::vector<int> statuses;
  for (const pb::Batch& wire : refused_then_good_batches()) {
    statuses.push_back(post(p.two->listen_port(), wire.SerializeAsString()));
  }
  EXPECT_EQ(statuses, (std::vector<int>{403, 403, 421, 400, 200}));
  expect_each_refusal_counted(p.two);
}

TEST(Rest, AStrangerPostingGarbageOrAnotherContentTypeIsRefused) {
  NetworkPair p = network_pair(rest_maker());
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
  NetworkTransportOptions options = loopback_options(kCluster, 2);
  options.max_message_bytes = 1 << 16;
  options.peers[1] = "127.0.0.1:1";
  NetworkNode two;
  two.start(rest_maker(), std::move(options));
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

TEST(Rest, BatchesToOnePeerShareOneKeptAliveConnection) {
  NetworkPair p = network_pair(rest_maker());
  for (std::uint64_t seq = 0; seq < 200; ++seq) p.one->send(numbered_batch(kCluster, 1, 2, seq));
  ASSERT_TRUE(eventually([&] { return p.two.inbox.batch_count() == 200; }));
  EXPECT_EQ(accepted_connections(p.two->listen_port()), 1);
}

TEST(Rest, StopIsPromptWithIdleConnectionsOpen) {
  NetworkPair p = network_pair(rest_maker());
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

TEST(Rest, ABatchToANotStartedEndpointIsAnsweredUnavailable) {
  auto two = make_network(rest_maker(), loopback_options(kCluster, 2));
  ASSERT_NE(two, nullptr);
  // It listens from create() on, answering that it does not serve yet.
  EXPECT_EQ(post(two->listen_port(), body_of(numbered_batch(kCluster, 1, 2, 0))), 503);
}

}  // namespace
}  // namespace synod::transport::testing
