// The conformance cases. Harnesses instantiate the suite in their own files.
#include "conformance.h"

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"

namespace synod::transport::testing {

std::string harness_name(const ::testing::TestParamInfo<HarnessFactory>& info) {
  return info.param.name;
}

namespace {

using std::chrono::seconds;

constexpr ClusterId kCluster = 7;
// Generous: a real transport on a loaded machine must still make it.
constexpr env::Duration kBound = seconds(30);

// Started endpoints with a recording inbox each, over one harness.
class Cluster {
 public:
  explicit Cluster(const HarnessFactory& factory) : harness_(factory.make()) {}

  Transport& start(NodeId id, ClusterId cluster = kCluster) {
    Node& node = nodes_[id];
    node.transport = harness_->make(cluster, id);
    node.inbox.attach(*node.transport);
    node.transport->start();
    return *node.transport;
  }
  Transport& at(NodeId id) { return *nodes_.at(id).transport; }
  const Inbox& inbox(NodeId id) { return nodes_.at(id).inbox; }
  bool await(const std::function<bool()>& done) { return harness_->await(done, kBound); }

 private:
  struct Node {
    Inbox inbox;
    // Declared after the inbox so it stops before the inbox goes away.
    std::unique_ptr<Transport> transport;
  };
  std::unique_ptr<TransportHarness> harness_;
  std::map<NodeId, Node> nodes_;
};

TEST_P(TransportConformance, DeliversBatchesInOrderOnAHealthyLink) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  constexpr std::uint64_t kCount = 200;
  for (std::uint64_t i = 0; i < kCount; ++i) c.at(1).send(numbered_batch(kCluster, 1, 2, i, 2));
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == kCount; }));

  const auto batches = c.inbox(2).batches();
  for (std::uint64_t i = 0; i < kCount; ++i) EXPECT_EQ(seq_of(batches[i]), i);
  const auto sent = c.at(1).stats();
  EXPECT_EQ(sent.batches_sent, kCount);
  EXPECT_EQ(sent.messages_sent, 2 * kCount);
  EXPECT_EQ(dropped_total(sent), 0u);
  const auto received = c.at(2).stats();
  EXPECT_EQ(received.batches_received, kCount);
  EXPECT_EQ(received.messages_received, 2 * kCount);
}

TEST_P(TransportConformance, CarriesHeaderAndEveryMessageFieldIntact) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  Batch batch{kCluster, 1, 2, {}};

  raft::Message append;
  append.type = raft::MessageType::Append;
  append.from = 1;
  append.to = 2;
  append.term = 9;
  append.index = 41;
  append.log_term = 8;
  append.commit = 40;
  append.entries = {
      {42, 9, raft::EntryType::Normal, 17, raft::Bytes::copy_of("put x=1")},
      {43, 9, raft::EntryType::ConfChange, 0, raft::Bytes::copy_of(std::string("\0\1\2", 3))},
      {44, 9, raft::EntryType::Normal, 0, raft::Bytes()},
  };
  batch.envelopes.push_back({PartitionId(1) << 40, append});

  raft::Message response;
  response.type = raft::MessageType::AppendResp;
  response.from = 1;
  response.to = 2;
  response.term = 9;
  response.index = 12;
  response.reject = true;
  response.reject_hint = 10;
  response.log_term = 7;
  batch.envelopes.push_back({0, response});

  raft::Message vote;
  vote.type = raft::MessageType::PreVote;
  vote.from = 1;
  vote.to = 2;
  vote.term = 10;
  vote.context = "transfer";
  batch.envelopes.push_back({5, vote});

  raft::Message install;
  install.type = raft::MessageType::InstallSnapshot;
  install.from = 1;
  install.to = 2;
  install.term = 9;
  auto snapshot = std::make_shared<raft::Snapshot>();
  snapshot->meta = {100, 8, {{1, 2}, {}, {3}, {}, false}};
  snapshot->data = raft::Bytes::copy_of("state");
  install.snapshot = snapshot;
  batch.envelopes.push_back({~PartitionId(0), install});

  c.at(1).send(batch);
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
  expect_same_batch(c.inbox(2).batches()[0], batch);
}

TEST_P(TransportConformance, RefusesAndCountsBatchesFromAnotherCluster) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  c.start(3, kCluster + 1);
  c.at(3).send(numbered_batch(kCluster + 1, 3, 1, 0));
  ASSERT_TRUE(c.await([&] { return c.at(1).stats().refused_foreign_cluster == 1; }));

  // The endpoint still serves its own cluster, and the foreign batch never surfaced.
  c.at(2).send(numbered_batch(kCluster, 2, 1, 1));
  ASSERT_TRUE(c.await([&] { return c.inbox(1).batch_count() == 1; }));
  EXPECT_EQ(seq_of(c.inbox(1).batches()[0]), 1u);
  EXPECT_EQ(c.at(1).stats().batches_received, 1u);
}

TEST_P(TransportConformance, RefusesAndCountsBatchesFromAnUnknownSender) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  // Node 77 was never made: a header naming it is refused by the receiver.
  c.at(1).send(numbered_batch(kCluster, 77, 2, 0));
  ASSERT_TRUE(c.await([&] { return c.at(2).stats().refused_unknown_sender == 1; }));

  c.at(1).send(numbered_batch(kCluster, 1, 2, 1));
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
  EXPECT_EQ(seq_of(c.inbox(2).batches()[0]), 1u);
}

TEST_P(TransportConformance, DropsAndReportsBatchesForAnUnknownPeerWithoutBlocking) {
  Cluster c(GetParam());
  c.start(1);
  constexpr std::uint64_t kCount = 5000;
  // Far more than any queue bound: a transport that waited for the peer would hang here.
  for (std::uint64_t i = 0; i < kCount; ++i) c.at(1).send(numbered_batch(kCluster, 1, 88, i, 3));
  ASSERT_TRUE(c.await([&] { return dropped_total(c.at(1).stats()) == kCount; }));
  const auto stats = c.at(1).stats();
  EXPECT_EQ(stats.dropped_peer_unknown, kCount);
  EXPECT_EQ(stats.messages_dropped, 3 * kCount);

  // The runtime hears about it, with the lost envelopes.
  ASSERT_TRUE(c.await([&] { return c.inbox(1).lost_count() > 0; }));
  const auto lost = c.inbox(1).lost()[0];
  EXPECT_EQ(lost.peer, 88u);
  EXPECT_EQ(lost.envelopes.size(), 3u);
}

TEST_P(TransportConformance, StopEndsDeliveryAndIsIdempotent) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  c.at(1).send(numbered_batch(kCluster, 1, 2, 0));
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));

  c.at(2).stop();
  c.at(2).stop();
  for (std::uint64_t i = 1; i <= 5; ++i) c.at(1).send(numbered_batch(kCluster, 1, 2, i));
  ASSERT_TRUE(c.await([&] { return dropped_total(c.at(1).stats()) == 5; }));
  EXPECT_EQ(c.inbox(2).batch_count(), 1u);

  // A stopped endpoint sends nothing either.
  c.at(2).send(numbered_batch(kCluster, 2, 1, 9));
  ASSERT_TRUE(c.await([&] { return c.at(2).stats().dropped_stopped == 1; }));
  EXPECT_EQ(c.inbox(1).batch_count(), 0u);
  // Nor does starting it again bring it back.
  c.at(2).start();
  c.at(1).send(numbered_batch(kCluster, 1, 2, 6));
  ASSERT_TRUE(c.await([&] { return dropped_total(c.at(1).stats()) == 6; }));
  EXPECT_EQ(c.inbox(2).batch_count(), 1u);
}

TEST_P(TransportConformance, LargeBatchArrivesIntact) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  Batch batch{kCluster, 1, 2, {}};
  for (std::uint64_t p = 0; p < 1000; ++p) {
    raft::Message m;
    m.type = raft::MessageType::Append;
    m.from = 1;
    m.to = 2;
    m.term = 4;
    m.index = 10 + p;
    // A few big entries among many small ones.
    const std::size_t size = p % 250 == 0 ? (1u << 20) : 1024;
    m.entries.push_back({11 + p, 4, raft::EntryType::Normal, 0, patterned_bytes(size, p)});
    batch.envelopes.push_back({p, std::move(m)});
  }
  c.at(1).send(batch);
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
  expect_same_batch(c.inbox(2).batches()[0], batch);
}

// Network transports stream a snapshot this big in chunks; every transport hands it over
// whole, and the rest of its batch too.
TEST_P(TransportConformance, BigSnapshotArrivesWholeWithTheRestOfItsBatch) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  Batch batch = numbered_batch(kCluster, 1, 2, 9, 4);
  batch.envelopes.insert(batch.envelopes.begin() + 2, snapshot_envelope(1, 2, 7, 5 << 20));
  c.at(1).send(batch);
  std::vector<Envelope> sent = batch.envelopes;
  ASSERT_TRUE(c.await([&] {
    std::size_t envelopes = 0;
    for (const Batch& got : c.inbox(2).batches()) envelopes += got.envelopes.size();
    return envelopes == sent.size();
  }));
  // Whether in one batch or two, every envelope arrives once and intact.
  std::map<PartitionId, raft::Message> received;
  for (const Batch& got : c.inbox(2).batches()) {
    for (const Envelope& e : got.envelopes) received.emplace(e.partition, e.message);
  }
  ASSERT_EQ(received.size(), sent.size());
  for (const Envelope& e : sent) {
    SCOPED_TRACE(e.partition);
    expect_same_message(received.at(e.partition), e.message);
  }
}

// The snapshot statuses `inbox` was told, as (partition, delivered), all of them for `peer`.
std::multimap<PartitionId, bool> statuses_for(const Inbox& inbox, NodeId peer) {
  std::multimap<PartitionId, bool> statuses;
  for (const auto& status : inbox.statuses()) {
    EXPECT_EQ(status.peer, peer);
    statuses.emplace(status.partition, status.delivered);
  }
  return statuses;
}

// A small snapshot travels in its batch, a big one (on network transports) in chunks:
// each is reported delivered, once.
TEST_P(TransportConformance, EverySnapshotDeliveredIsReportedOnce) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 2);
  batch.envelopes.push_back(snapshot_envelope(1, 2, 30, 100));
  batch.envelopes.push_back(snapshot_envelope(1, 2, 31, 3 << 20));
  c.at(1).send(batch);
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 2; }));
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() >= 1; }));
  // After stop() nothing more comes.
  c.at(1).stop();
  const std::multimap<PartitionId, bool> expected{{30, true}, {31, true}};
  EXPECT_EQ(statuses_for(c.inbox(1), 2), expected);
}

TEST_P(TransportConformance, ASnapshotThatCannotArriveIsReportedNotDelivered) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  c.at(2).stop();
  // To a node that does not exist, and to one that stopped.
  c.at(1).send(Batch{kCluster, 1, 88, {snapshot_envelope(1, 88, 40, 100)}});
  c.at(1).send(Batch{kCluster, 1, 2, {snapshot_envelope(1, 2, 41, 100)}});
  c.at(1).send(Batch{kCluster, 1, 2, {snapshot_envelope(1, 2, 42, 2 << 20)}});
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 3; }));
  c.at(1).stop();
  std::multimap<PartitionId, bool> statuses;
  for (const auto& status : c.inbox(1).statuses()) statuses.emplace(status.partition, status.delivered);
  const std::multimap<PartitionId, bool> expected{{40, false}, {41, false}, {42, false}};
  EXPECT_EQ(statuses, expected);
}

// Whatever stop() interrupts: once it returns, every snapshot sent has been reported,
// delivered or not, exactly once.
TEST_P(TransportConformance, EverySnapshotIsReportedOnceByTheTimeStopReturns) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  constexpr PartitionId kSnapshots = 20;
  for (PartitionId p = 0; p < kSnapshots; ++p) {
    c.at(1).send(Batch{kCluster, 1, 2, {snapshot_envelope(1, 2, p, p % 4 == 0 ? 2 << 20 : 100)}});
  }
  c.at(1).stop();
  const auto statuses = statuses_for(c.inbox(1), 2);
  ASSERT_EQ(statuses.size(), kSnapshots);
  for (PartitionId p = 0; p < kSnapshots; ++p) EXPECT_EQ(statuses.count(p), 1u) << p;
}

}  // namespace
}  // namespace synod::transport::testing
