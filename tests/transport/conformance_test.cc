// The conformance cases. Harnesses instantiate the suite in their own files.
#include "conformance.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_snapshot_files.h"
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

// Started endpoints with a recording inbox and snapshot files each, over one harness.
class Cluster {
 public:
  explicit Cluster(const HarnessFactory& factory) : harness_(factory.make()) {}

  // Starts node `id`, with its snapshot files set unless `with_files` is false.
  Transport& start(NodeId id, ClusterId cluster = kCluster, bool with_files = true) {
    Node& node = nodes_[id];
    node.files = std::make_unique<TestSnapshotFiles>(ledger_);
    node.transport = harness_->make(cluster, id);
    node.inbox.attach(*node.transport);
    // Also counts the snapshots handed over before their file was committed.
    node.transport->set_receiver([&node, record = node.inbox.receiver()](Batch&& batch) {
      for (const Envelope& e : batch.envelopes) {
        if (e.message.type == raft::MessageType::InstallSnapshot &&
            !node.files->committed(e.partition, e.message.snapshot->meta.index)) {
          ++node.uncommitted;
        }
      }
      record(std::move(batch));
    });
    if (with_files) node.transport->set_snapshot_files(node.files.get());
    node.transport->start();
    return *node.transport;
  }
  Transport& at(NodeId id) { return *nodes_.at(id).transport; }
  const Inbox& inbox(NodeId id) { return nodes_.at(id).inbox; }
  TestSnapshotFiles& files(NodeId id) { return *nodes_.at(id).files; }
  int uncommitted_deliveries(NodeId id) { return nodes_.at(id).uncommitted.load(); }
  const SnapshotLedger& ledger() const { return *ledger_; }
  bool await(const std::function<bool()>& done) { return harness_->await(done, kBound); }

 private:
  struct Node {
    // First, so that it outlives the transport.
    std::unique_ptr<TestSnapshotFiles> files;
    Inbox inbox;
    std::atomic<int> uncommitted{0};
    // Declared after the inbox so it stops before the inbox goes away.
    std::unique_ptr<Transport> transport;
  };
  std::shared_ptr<SnapshotLedger> ledger_ = std::make_shared<SnapshotLedger>();
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

// Every transport moves a snapshot's file in chunks (64 KiB here) and hands the message
// over once the file is committed on the receiver, byte for byte; the rest of its batch
// arrives too, and the message's fields intact.
TEST_P(TransportConformance, BigSnapshotFileArrivesIdenticalAndCommittedBeforeItsMessage) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  Batch batch = numbered_batch(kCluster, 1, 2, 9, 4);
  Envelope install = install_snapshot(1, 2, ~PartitionId(0), 7);
  install.message.term = 9;
  auto snapshot = std::make_shared<raft::Snapshot>();
  snapshot->meta = {1007, 8, {{1, 2}, {5}, {3}, {4}, true}};
  install.message.snapshot = snapshot;
  batch.envelopes.insert(batch.envelopes.begin() + 2, install);
  const std::string file = put_snapshot(c.files(1), install, (5 << 20) + 3);
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
  EXPECT_EQ(c.files(2).committed(~PartitionId(0), 1007), file);
  EXPECT_EQ(c.uncommitted_deliveries(2), 0);
  EXPECT_EQ(c.files(2).announced(), file.size());
  EXPECT_EQ(c.at(1).stats().snapshot_bytes_sent, file.size());
  EXPECT_EQ(c.at(2).stats().snapshot_bytes_received, file.size());
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 1; }));
  EXPECT_TRUE(c.inbox(1).statuses()[0].delivered);
  // Every reader and writer is gone once the transfer is over.
  ASSERT_TRUE(c.await([&] { return c.files(1).readers_open() == 0; }));
  EXPECT_EQ(c.files(2).writers_open(), 0u);
}

// The sender reads a chunk only as the receiver takes them: never more than a few chunks
// ahead of what the receiver has written (a transport that read the file first would be
// 64 chunks ahead).
TEST_P(TransportConformance, ASnapshotIsReadOnlyAFewChunksAheadOfWhatIsWritten) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  const Envelope install = install_snapshot(1, 2, 3);
  const std::string file = put_snapshot(c.files(1), install, 64 * kConformanceChunkBytes);
  c.at(1).send(Batch{kCluster, 1, 2, {install}});
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
  EXPECT_EQ(c.files(2).committed(3, 1000), file);
  EXPECT_EQ(c.ledger().read.load(), file.size());
  EXPECT_EQ(c.ledger().written.load(), file.size());
  EXPECT_GE(c.ledger().max_lead.load(), 1u);
  EXPECT_LE(c.ledger().max_lead.load(), 8 * kConformanceChunkBytes);
}

TEST_P(TransportConformance, ASnapshotWithoutItsFileIsReportedNotDelivered) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 2);
  batch.envelopes.push_back(install_snapshot(1, 2, 5));
  c.at(1).send(batch);
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 1; }));
  EXPECT_FALSE(c.inbox(1).statuses()[0].delivered);
  // The rest of the batch arrives; the snapshot never does.
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
  EXPECT_EQ(c.inbox(2).batches()[0].envelopes.size(), 2u);
  // Network transports open the file in send(), the in-memory one on arrival.
  const auto stats = c.at(1).stats();
  EXPECT_EQ(stats.dropped_snapshot_unavailable + stats.snapshot_transfers_failed, 1u);
  EXPECT_EQ(c.files(2).writers_open() + c.files(2).discarded() + c.files(2).commits(), 0u);
}

TEST_P(TransportConformance, AnEndpointWithoutSnapshotFilesDropsTheSnapshotsItSends) {
  Cluster c(GetParam());
  c.start(1, kCluster, false);
  c.start(2);
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 2);
  batch.envelopes.push_back(install_snapshot(1, 2, 5));
  put_snapshot(c.files(1), batch.envelopes.back(), 1000);
  c.at(1).send(batch);
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 1; }));
  EXPECT_FALSE(c.inbox(1).statuses()[0].delivered);
  EXPECT_EQ(c.at(1).stats().dropped_snapshot_unavailable, 1u);
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
  EXPECT_EQ(c.inbox(2).batches()[0].envelopes.size(), 2u);
}

TEST_P(TransportConformance, AReceiverWithoutSnapshotFilesRefusesSnapshots) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2, kCluster, false);
  const Envelope install = install_snapshot(1, 2, 5);
  put_snapshot(c.files(1), install, 300'000);
  c.at(1).send(Batch{kCluster, 1, 2, {install}});
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 1; }));
  EXPECT_FALSE(c.inbox(1).statuses()[0].delivered);
  EXPECT_EQ(c.at(2).stats().snapshot_transfers_refused, 1u);
  EXPECT_EQ(c.inbox(2).batch_count(), 0u);
}

// What the receiver's files refuse (receive() or commit()) is not handed over, and the
// sender hears it did not arrive; the link goes on.
TEST_P(TransportConformance, ASnapshotTheReceiverCannotStoreIsNotHandedOver) {
  for (const bool at_commit : {false, true}) {
    SCOPED_TRACE(at_commit ? "commit fails" : "receive refuses");
    Cluster c(GetParam());
    c.start(1);
    c.start(2);
    if (at_commit) {
      c.files(2).fail_commit();
    } else {
      c.files(2).refuse_receive();
    }
    const Envelope install = install_snapshot(1, 2, 5);
    put_snapshot(c.files(1), install, 300'000);
    c.at(1).send(Batch{kCluster, 1, 2, {install}});
    c.at(1).send(numbered_batch(kCluster, 1, 2, 1));
    ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 1; }));
    EXPECT_FALSE(c.inbox(1).statuses()[0].delivered);
    ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
    EXPECT_EQ(seq_of(c.inbox(2).batches()[0]), 1u);
    EXPECT_EQ(c.files(2).commits(), 0u);
    EXPECT_EQ(c.files(2).discarded(), at_commit ? 1u : 0u);
    EXPECT_EQ(c.files(2).writers_open(), 0u);
    EXPECT_EQ(c.at(1).stats().snapshot_transfers_failed, 1u);
    EXPECT_EQ(c.at(2).stats().snapshot_transfers_refused, 1u);
  }
}

// A file that cannot be read to its end: the transfer fails, its writer is discarded (by
// the time another transfer from the sender begins), and the next snapshot arrives.
TEST_P(TransportConformance, AReadErrorMidwayFailsTheTransferAndTheNextOneArrives) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  c.files(1).fail_reads_at(5 * kConformanceChunkBytes);
  const Envelope broken = install_snapshot(1, 2, 5, 1);
  put_snapshot(c.files(1), broken, 20 * kConformanceChunkBytes);
  c.at(1).send(Batch{kCluster, 1, 2, {broken}});
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 1; }));
  EXPECT_FALSE(c.inbox(1).statuses()[0].delivered);
  EXPECT_EQ(c.at(1).stats().snapshot_transfers_failed, 1u);

  c.files(1).fail_reads_at(UINT64_MAX);
  const Envelope good = install_snapshot(1, 2, 6, 2);
  const std::string file = put_snapshot(c.files(1), good, 3 * kConformanceChunkBytes);
  c.at(1).send(Batch{kCluster, 1, 2, {good}});
  ASSERT_TRUE(c.await([&] { return c.inbox(1).status_count() == 2; }));
  EXPECT_TRUE(c.inbox(1).statuses()[1].delivered);
  // The status may come before the hand-over (in-memory on threads).
  ASSERT_TRUE(c.await([&] { return c.inbox(2).batch_count() == 1; }));
  EXPECT_EQ(c.inbox(2).batches()[0].envelopes[0].partition, 6u);
  EXPECT_EQ(c.files(2).committed(6, 1002), file);
  EXPECT_FALSE(c.files(2).committed(5, 1001).has_value());
  EXPECT_EQ(c.files(2).discarded(), 1u);
  EXPECT_EQ(c.files(2).writers_open(), 0u);
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

// A small snapshot and a big one: each is reported delivered, once.
TEST_P(TransportConformance, EverySnapshotDeliveredIsReportedOnce) {
  Cluster c(GetParam());
  c.start(1);
  c.start(2);
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 2);
  batch.envelopes.push_back(install_snapshot(1, 2, 30));
  batch.envelopes.push_back(install_snapshot(1, 2, 31));
  put_snapshot(c.files(1), batch.envelopes[2], 100);
  put_snapshot(c.files(1), batch.envelopes[3], 3 << 20);
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
  const Envelope snapshots[] = {install_snapshot(1, 88, 40), install_snapshot(1, 2, 41),
                                install_snapshot(1, 2, 42)};
  put_snapshot(c.files(1), snapshots[0], 100);
  put_snapshot(c.files(1), snapshots[1], 100);
  put_snapshot(c.files(1), snapshots[2], 2 << 20);
  c.at(1).send(Batch{kCluster, 1, 88, {snapshots[0]}});
  c.at(1).send(Batch{kCluster, 1, 2, {snapshots[1]}});
  c.at(1).send(Batch{kCluster, 1, 2, {snapshots[2]}});
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
    const Envelope install = install_snapshot(1, 2, p);
    put_snapshot(c.files(1), install, p % 4 == 0 ? 2 << 20 : 100);
    c.at(1).send(Batch{kCluster, 1, 2, {install}});
  }
  c.at(1).stop();
  const auto statuses = statuses_for(c.inbox(1), 2);
  ASSERT_EQ(statuses.size(), kSnapshots);
  for (PartitionId p = 0; p < kSnapshots; ++p) EXPECT_EQ(statuses.count(p), 1u) << p;
}

}  // namespace
}  // namespace synod::transport::testing
