// Snapshot streaming over the network transports, written once for gRPC and REST, each
// plain and in shared-secret mode (where every chunk is signed on its own): snapshot
// files travel in chunks and arrive whole, other batches overtake a long transfer, a
// broken link loses the transfer once, and both ends enforce max_snapshot_bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "network_harness.h"
#include "test_security.h"
#include "test_util.h"

namespace synod::transport::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kChunk = 16 << 10;

// Records what arrives; a heartbeat batch numbered `gate` holds its (transport) thread
// until open() is called, so that the sender's batches pile up behind it.
class GatedInbox {
 public:
  explicit GatedInbox(std::uint64_t gate = UINT64_MAX) : gate_(gate) {}
  ~GatedInbox() { open(); }

  Transport::Receiver receiver() {
    return [this](Batch&& batch) {
      const bool gated = !is_snapshot_batch(batch) && seq_of(batch) == gate_;
      std::unique_lock lock(mu_);
      batches_.push_back(std::move(batch));
      if (!gated) return;
      held_ = true;
      changed_.notify_all();
      // Bounded, so that a failing test cannot hang here.
      changed_.wait_for(lock, 60s, [&] { return open_; });
    };
  }
  Transport::UnreachableHandler unreachable_handler() {
    return [this](NodeId, std::vector<Envelope>&& lost) {
      std::lock_guard lock(mu_);
      for (Envelope& e : lost) lost_.push_back(std::move(e));
    };
  }
  Transport::SnapshotStatusHandler snapshot_status_handler() {
    return [this](NodeId, PartitionId, bool delivered) {
      std::lock_guard lock(mu_);
      statuses_.push_back(delivered);
    };
  }
  bool await_held() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 60s, [&] { return held_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  std::vector<Batch> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::vector<Envelope> lost() const {
    std::lock_guard lock(mu_);
    return lost_;
  }
  // Whether each snapshot sent was delivered, as reported.
  std::vector<bool> statuses() const {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  // Where the first snapshot batch is among the arrivals; batches().size() when none.
  std::size_t snapshot_position() const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(
        std::find_if(batches_.begin(), batches_.end(), is_snapshot_batch) - batches_.begin());
  }
  std::size_t snapshots_received() const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(batches_.begin(), batches_.end(), is_snapshot_batch));
  }

 private:
  const std::uint64_t gate_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool held_ = false;
  bool open_ = false;
  std::vector<Batch> batches_;
  std::vector<Envelope> lost_;
  std::vector<bool> statuses_;
};

std::size_t count_snapshots(const std::vector<Envelope>& envelopes) {
  return static_cast<std::size_t>(std::count_if(envelopes.begin(), envelopes.end(), [](const Envelope& e) {
    return e.message.type == raft::MessageType::InstallSnapshot;
  }));
}

// One transport and security mode under test.
template <class TransportT, class OptionsT, SecurityMode kMode>
struct Flavour {
  using Transport = TransportT;
  using Options = OptionsT;
  static constexpr SecurityMode mode = kMode;

  // Small messages and chunks, so that a snapshot of a few MiB takes hundreds of chunks.
  static Options options(NodeId self) {
    Options o;
    o.cluster = kCluster;
    o.self = self;
    o.listen_address = "127.0.0.1:0";
    o.security = test_security(kMode);
    o.max_message_bytes = 64 << 10;
    o.snapshot_chunk_bytes = kChunk;
    return o;
  }
  static std::unique_ptr<Transport> make(Options o) {
    std::string error;
    auto transport = Transport::create(std::move(o), &error);
    EXPECT_NE(transport, nullptr) << error;
    return transport;
  }
};

using GrpcPlain = Flavour<GrpcTransport, GrpcTransportOptions, SecurityMode::Plain>;
using GrpcSigned = Flavour<GrpcTransport, GrpcTransportOptions, SecurityMode::SharedSecret>;
using RestPlain = Flavour<RestTransport, RestTransportOptions, SecurityMode::Plain>;
using RestSigned = Flavour<RestTransport, RestTransportOptions, SecurityMode::SharedSecret>;

template <class F>
class SnapshotStreaming : public ::testing::Test {
 protected:
  using Options = typename F::Options;
  struct Node {
    explicit Node(std::uint64_t gate) : inbox(gate) {}
    TestSnapshotFiles files;
    GatedInbox inbox;
    // Declared after the inbox and the files, so that it stops before they go away.
    std::unique_ptr<typename F::Transport> transport;
    typename F::Transport* operator->() { return transport.get(); }
  };

  // Node 1 sends to node 2, whose heartbeat numbered `gate` holds its receiver.
  void start(Options one = F::options(1), Options two = F::options(2),
             std::uint64_t gate = UINT64_MAX) {
    one_ = std::make_unique<Node>(UINT64_MAX);
    two_ = std::make_unique<Node>(gate);
    start(*one_, std::move(one));
    two.peers[1] = loopback((*one_)->listen_port());
    start(*two_, std::move(two));
    (*one_)->set_peer(2, loopback((*two_)->listen_port()));
  }
  void start(Node& node, Options options) {
    node.transport = F::make(std::move(options));
    ASSERT_NE(node.transport, nullptr);
    node.transport->set_receiver(node.inbox.receiver());
    node.transport->set_unreachable_handler(node.inbox.unreachable_handler());
    node.transport->set_snapshot_status_handler(node.inbox.snapshot_status_handler());
    node.transport->set_snapshot_files(&node.files);
    node.transport->start();
  }
  // A port nothing listens on: one an endpoint had, closed again.
  int closed_port() { return F::make(F::options(99))->listen_port(); }

  Node& one() { return *one_; }
  Node& two() { return *two_; }

  std::unique_ptr<Node> one_;
  std::unique_ptr<Node> two_;
};

using Flavours = ::testing::Types<GrpcPlain, GrpcSigned, RestPlain, RestSigned>;

class FlavourNames {
 public:
  template <class F>
  static std::string GetName(int) {
    const bool grpc = std::is_same_v<typename F::Transport, GrpcTransport>;
    const bool secret = F::mode == SecurityMode::SharedSecret;
    return std::string(grpc ? "Grpc" : "Rest") + (secret ? "SharedSecret" : "Plain");
  }
};

TYPED_TEST_SUITE(SnapshotStreaming, Flavours, FlavourNames);

TYPED_TEST(SnapshotStreaming, ASnapshotStreamsInChunksAndArrivesWhole) {
  this->start();
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 3);
  const Envelope snapshot = install_snapshot(1, 2, 9);
  const std::string file = put_snapshot(this->one().files, snapshot, (1 << 20) + 5);
  batch.envelopes.push_back(snapshot);
  this->one()->send(batch);
  ASSERT_TRUE(eventually([&] { return this->two().inbox.batches().size() == 2; }));

  // The rest of the batch first (it was queued first), then the snapshot alone.
  const auto got = this->two().inbox.batches();
  EXPECT_EQ(got[0].envelopes.size(), 3u);
  ASSERT_TRUE(is_snapshot_batch(got[1]));
  EXPECT_EQ(got[1].envelopes[0].partition, 9u);
  expect_same_message(got[1].envelopes[0].message, snapshot.message);
  EXPECT_EQ(this->two().files.committed(9, 1000), file);

  // The first chunk carries the message, then 65 chunks of data, the last of 5 bytes.
  const std::uint64_t chunks = 1 + 65;
  const auto sent = this->one()->stats();
  EXPECT_EQ(sent.snapshot_chunks_sent, chunks);
  EXPECT_EQ(sent.snapshot_bytes_sent, file.size());
  EXPECT_EQ(sent.batches_sent, 2u);
  const auto received = this->two()->stats();
  EXPECT_EQ(received.snapshot_chunks_received, chunks);
  EXPECT_EQ(received.snapshot_bytes_received, file.size());
  EXPECT_EQ(received.batches_received, 2u);
  EXPECT_EQ(received.messages_received, 4u);
  EXPECT_EQ(received.messages_malformed, 0u);
  EXPECT_EQ(received.snapshot_transfers_abandoned, 0u);
}

TYPED_TEST(SnapshotStreaming, SnapshotsToOnePeerStreamOneAfterAnother) {
  this->start();
  std::vector<Envelope> snapshots;
  std::vector<std::string> files;
  for (std::uint64_t salt = 0; salt < 3; ++salt) {
    snapshots.push_back(install_snapshot(1, 2, salt, salt));
    files.push_back(put_snapshot(this->one().files, snapshots.back(), 200'000 + salt * 1000));
    this->one()->send(Batch{kCluster, 1, 2, {snapshots.back()}});
  }
  ASSERT_TRUE(eventually([&] { return this->two().inbox.snapshots_received() == 3; }));
  const auto got = this->two().inbox.batches();
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].envelopes[0].partition, snapshots[i].partition);
    expect_same_message(got[i].envelopes[0].message, snapshots[i].message);
    EXPECT_EQ(this->two().files.committed(i, 1000 + i), files[i]);
  }
}

// A transfer of hundreds of chunks must not hold up the peer's other partitions.
TYPED_TEST(SnapshotStreaming, OtherBatchesOvertakeALongTransfer) {
  // Heartbeat 0 holds the receiver while the rest piles up at the sender.
  this->start(TypeParam::options(1), TypeParam::options(2), 0);
  this->one()->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(this->two().inbox.await_held());
  const Envelope snapshot = install_snapshot(1, 2, 5);
  put_snapshot(this->one().files, snapshot, 4 << 20);
  this->one()->send(Batch{kCluster, 1, 2, {snapshot}});
  for (std::uint64_t seq = 1; seq <= 3; ++seq) this->one()->send(numbered_batch(kCluster, 1, 2, seq));
  this->two().inbox.open();

  ASSERT_TRUE(eventually([&] { return this->two().inbox.batches().size() == 5; }));
  const auto got = this->two().inbox.batches();
  // Each heartbeat went between two chunks, long before the last one.
  EXPECT_EQ(this->two().inbox.snapshot_position(), 4u);
  for (std::uint64_t seq = 0; seq <= 3; ++seq) EXPECT_EQ(seq_of(got[seq]), seq);
  expect_same_message(got[4].envelopes[0].message, snapshot.message);
}

TYPED_TEST(SnapshotStreaming, ABrokenLinkLosesTheTransferOnceAndALaterOneArrives) {
  this->start(TypeParam::options(1), TypeParam::options(2), 0);
  this->one()->send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(this->two().inbox.await_held());
  const Envelope snapshot = install_snapshot(1, 2, 5);
  const std::string file = put_snapshot(this->one().files, snapshot, 2 << 20);
  this->one()->send(Batch{kCluster, 1, 2, {snapshot}});
  // The link breaks while the transfer waits behind the held heartbeat.
  const int port = this->two()->listen_port();
  this->one()->set_peer(2, loopback(this->closed_port()));
  this->two().inbox.open();
  ASSERT_TRUE(eventually([&] { return count_snapshots(this->one().inbox.lost()) == 1; }));
  EXPECT_GE(this->one()->stats().dropped_peer_down, 1u);

  // The snapshot is sent again, as the runtime would, until one arrives; each time once
  // every earlier one has arrived or been reported lost (the back-off may drop some).
  this->one()->set_peer(2, loopback(port));
  std::size_t sent = 1;
  auto accounted = [&] {
    return count_snapshots(this->one().inbox.lost()) + this->two().inbox.snapshots_received();
  };
  ASSERT_TRUE(eventually([&] {
    if (this->two().inbox.snapshots_received() > 0) return true;
    if (accounted() == sent) {
      this->one()->send(Batch{kCluster, 1, 2, {snapshot}});
      ++sent;
    }
    return false;
  }));
  const auto got = this->two().inbox.batches();
  expect_same_message(got[this->two().inbox.snapshot_position()].envelopes[0].message,
                      snapshot.message);
  EXPECT_EQ(this->two().files.committed(5, 1000), file);
  // Each one arrived or was reported lost, never both, never twice.
  EXPECT_EQ(accounted(), sent);
}

TYPED_TEST(SnapshotStreaming, TheSenderDropsASnapshotAboveItsLimitAndSendsTheRest) {
  auto options = TypeParam::options(1);
  options.max_snapshot_bytes = 512 << 10;
  this->start(std::move(options));
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 2);
  batch.envelopes.push_back(install_snapshot(1, 2, 9));
  put_snapshot(this->one().files, batch.envelopes.back(), 1 << 20);
  this->one()->send(batch);
  ASSERT_TRUE(eventually([&] { return this->two().inbox.batches().size() == 1; }));
  EXPECT_EQ(this->two().inbox.batches()[0].envelopes.size(), 2u);
  const auto stats = this->one()->stats();
  EXPECT_EQ(stats.dropped_too_large, 1u);
  EXPECT_EQ(stats.messages_dropped, 1u);
  EXPECT_EQ(stats.snapshot_chunks_sent, 0u);
  ASSERT_TRUE(eventually([&] { return count_snapshots(this->one().inbox.lost()) == 1; }));
}

TYPED_TEST(SnapshotStreaming, TheReceiverRefusesASnapshotAboveItsLimitAndTheLinkGoesOn) {
  auto options = TypeParam::options(2);
  options.max_snapshot_bytes = 256 << 10;
  this->start(TypeParam::options(1), std::move(options));
  const Envelope snapshot = install_snapshot(1, 2, 9);
  put_snapshot(this->one().files, snapshot, 1 << 20);
  this->one()->send(Batch{kCluster, 1, 2, {snapshot}});
  this->one()->send(numbered_batch(kCluster, 1, 2, 1));
  // The first chunk is refused for the size it announces, and the sender gives up the
  // transfer: REST at once, gRPC once the refusal comes back, having sent at most a
  // window of chunks (4) meanwhile, each refused for continuing nothing.
  ASSERT_TRUE(eventually([&] { return this->one().inbox.statuses().size() == 1; }));
  EXPECT_FALSE(this->one().inbox.statuses()[0]);
  ASSERT_TRUE(eventually([&] {
    return this->two()->stats().snapshot_chunks_received ==
               this->one()->stats().snapshot_chunks_sent &&
           this->two().inbox.batches().size() == 1;
  }));
  EXPECT_EQ(seq_of(this->two().inbox.batches()[0]), 1u);
  const auto stats = this->two()->stats();
  const std::uint64_t chunks = stats.snapshot_chunks_received;
  EXPECT_GE(chunks, 1u);
  const bool grpc = std::is_same_v<typename TypeParam::Transport, GrpcTransport>;
  EXPECT_LE(chunks, grpc ? 5u : 1u);
  EXPECT_EQ(stats.messages_malformed, chunks);
  EXPECT_EQ(stats.snapshot_transfers_abandoned, 0u);
  EXPECT_EQ(this->two().files.writers_open() + this->two().files.commits(), 0u);
  EXPECT_EQ(this->one()->stats().snapshot_transfers_failed, 1u);
}

}  // namespace
}  // namespace synod::transport::testing
