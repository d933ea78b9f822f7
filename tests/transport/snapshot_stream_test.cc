// snapshot_stream: reading a snapshot file into chunk batches and writing them into a
// file again, through the real wire encoding, and every way a transfer can fail.
#include "snapshot_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test_snapshot_files.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {
namespace {

namespace pb = synod::wire::v1;
using snapshot_stream::SnapshotAssembler;
using snapshot_stream::SnapshotCursor;
using snapshot_stream::Transfer;

constexpr ClusterId kCluster = 7;

// What a receiver decodes from a chunk batch, after a trip through its serialized form.
wire_codec::Chunk over_the_wire(const pb::Batch& sent) {
  pb::Batch received;
  EXPECT_TRUE(received.ParseFromString(sent.SerializeAsString()));
  wire_codec::Decoded decoded;
  std::string error;
  EXPECT_TRUE(wire_codec::decode(received, &decoded, &error)) << error;
  EXPECT_TRUE(decoded.batch.envelopes.empty());
  EXPECT_TRUE(decoded.chunk.has_value());
  return decoded.chunk ? std::move(*decoded.chunk) : wire_codec::Chunk{};
}

// A transfer of `envelope` whose file (in `files`) holds `data`.
Transfer transfer_of(TestSnapshotFiles& files, const Envelope& envelope, std::string data) {
  files.put(envelope.partition, envelope.message.snapshot->meta.index, std::move(data));
  std::string why;
  auto reader = files.open(envelope.partition, envelope.message.snapshot->meta, &why);
  EXPECT_NE(reader, nullptr) << why;
  return Transfer{Batch{kCluster, 1, 2, {envelope}}, std::move(reader)};
}

// Every chunk the cursor makes of `envelope` with a file of `size` patterned bytes,
// decoded.
std::vector<wire_codec::Chunk> chunks_of(const Envelope& envelope, std::size_t size,
                                         std::size_t chunk_bytes, std::uint64_t id = 1) {
  TestSnapshotFiles files;
  SnapshotCursor cursor(transfer_of(files, envelope, patterned(size, 0)), id, chunk_bytes);
  std::vector<wire_codec::Chunk> chunks;
  while (!cursor.done()) {
    pb::Batch wire;
    std::string why;
    EXPECT_TRUE(cursor.next(&wire, &why)) << why;
    EXPECT_EQ(wire.cluster(), kCluster);
    EXPECT_EQ(wire.from(), 1u);
    EXPECT_EQ(wire.to(), 2u);
    chunks.push_back(over_the_wire(wire));
  }
  return chunks;
}

TEST(SnapshotStream, TakeSnapshotsMovesOutEveryInstallSnapshot) {
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 3);
  batch.envelopes.insert(batch.envelopes.begin() + 1, install_snapshot(1, 2, 10));
  batch.envelopes.push_back(install_snapshot(1, 2, 11));
  const std::vector<Batch> snapshots = snapshot_stream::take_snapshots(batch);

  ASSERT_EQ(snapshots.size(), 2u);
  for (const Batch& b : snapshots) {
    EXPECT_EQ(b.cluster, kCluster);
    EXPECT_EQ(b.from, 1u);
    EXPECT_EQ(b.to, 2u);
    EXPECT_TRUE(is_snapshot_batch(b));
  }
  EXPECT_EQ(snapshots[0].envelopes[0].partition, 10u);
  EXPECT_EQ(snapshots[1].envelopes[0].partition, 11u);
  // The rest keeps its order.
  ASSERT_EQ(batch.envelopes.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(batch.envelopes[i].partition, i);
}

TEST(SnapshotStream, OpenFindsTheFileWithinTheLimitOrTellsWhyNot) {
  const Batch transfer{kCluster, 1, 2, {install_snapshot(1, 2, 4)}};
  const snapshot_stream::Limits limits{100, 300, 1 << 20};
  Counter failure = nullptr;
  EXPECT_EQ(snapshot_stream::open(transfer, nullptr, limits, &failure), nullptr);
  EXPECT_EQ(failure, &TransportStats::dropped_snapshot_unavailable);
  TestSnapshotFiles files;
  EXPECT_EQ(snapshot_stream::open(transfer, &files, limits, &failure), nullptr);
  EXPECT_EQ(failure, &TransportStats::dropped_snapshot_unavailable);
  files.put(4, 1000, std::string(301, 'x'));
  EXPECT_EQ(snapshot_stream::open(transfer, &files, limits, &failure), nullptr);
  EXPECT_EQ(failure, &TransportStats::dropped_too_large);
  files.put(4, 1000, std::string(300, 'x'));
  auto reader = snapshot_stream::open(transfer, &files, limits, &failure);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), 300u);
}

TEST(SnapshotStream, CursorSendsTheMessageThenReadsTheFileAChunkAtATime) {
  const Envelope envelope = install_snapshot(1, 2, 4);
  TestSnapshotFiles files;
  const std::string data = patterned(250, 3);
  SnapshotCursor cursor(transfer_of(files, envelope, data), 42, 100);
  std::vector<wire_codec::Chunk> chunks;
  while (!cursor.done()) {
    pb::Batch wire;
    std::string why;
    ASSERT_TRUE(cursor.next(&wire, &why)) << why;
    // Nothing is read ahead of the chunk made.
    EXPECT_EQ(files.ledger().read.load(), cursor.offset());
    chunks.push_back(over_the_wire(wire));
  }
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(cursor.chunks_encoded(), 4u);
  ASSERT_TRUE(chunks[0].message.has_value());
  EXPECT_TRUE(chunks[0].data.empty());
  EXPECT_EQ(chunks[0].total_bytes, 250u);
  expect_same_message(*chunks[0].message, envelope.message);
  std::string got;
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_FALSE(chunks[i].message.has_value());
    EXPECT_EQ(chunks[i].offset, got.size());
    got += chunks[i].data;
  }
  EXPECT_EQ(chunks[3].data.size(), 50u);
  for (const auto& chunk : chunks) {
    EXPECT_EQ(chunk.transfer, 42u);
    EXPECT_EQ(chunk.partition, 4u);
  }
  EXPECT_EQ(got, data);
}

TEST(SnapshotStream, AnEmptyFileIsTheFirstChunkAlone) {
  const auto chunks = chunks_of(install_snapshot(1, 2, 4), 0, 100);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].total_bytes, 0u);
  TestSnapshotFiles files;
  SnapshotAssembler assembler(100);
  const auto step = assembler.add(wire_codec::Chunk(chunks[0]), &files);
  ASSERT_TRUE(step.complete.has_value());
  EXPECT_EQ(files.committed(4, 1000), "");
}

TEST(SnapshotStream, CursorFailsWhenTheFileCannotBeReadOrEndsEarly) {
  const Envelope envelope = install_snapshot(1, 2, 4);
  TestSnapshotFiles files;
  files.fail_reads_at(100);
  SnapshotCursor cursor(transfer_of(files, envelope, std::string(250, 'x')), 1, 100);
  pb::Batch wire;
  std::string why;
  ASSERT_TRUE(cursor.next(&wire, &why));
  ASSERT_TRUE(cursor.next(&wire, &why));
  EXPECT_FALSE(cursor.next(&wire, &why));
  EXPECT_NE(why, "");

  // A reader whose file is shorter than the size it announces.
  class Short final : public SnapshotFileReader {
   public:
    std::uint64_t size() const override { return 10; }
    bool read(void*, std::size_t, std::size_t* got, std::string*) override {
      *got = 0;
      return true;
    }
  };
  SnapshotCursor short_cursor(Transfer{Batch{kCluster, 1, 2, {envelope}}, std::make_unique<Short>()},
                              2, 100);
  why.clear();
  ASSERT_TRUE(short_cursor.next(&wire, &why));
  EXPECT_FALSE(short_cursor.next(&wire, &why));
  EXPECT_NE(why.find("ends before"), std::string::npos) << why;
}

TEST(SnapshotStream, AssemblerWritesTheFileAndCommitsItBeforeYieldingTheMessage) {
  const Envelope envelope = install_snapshot(1, 2, 4, 3);
  TestSnapshotFiles files;
  SnapshotAssembler assembler(1000);
  auto chunks = chunks_of(envelope, 1000, 64);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    const auto step = assembler.add(std::move(chunks[i]), &files);
    EXPECT_FALSE(step.complete || step.refused || step.failed || step.abandoned) << i;
    EXPECT_EQ(step.written, i == 0 ? 0u : 64u);
    EXPECT_TRUE(assembler.in_progress());
  }
  EXPECT_EQ(files.announced(), 1000u);
  EXPECT_EQ(files.commits(), 0u);
  const auto step = assembler.add(std::move(chunks.back()), &files);
  ASSERT_TRUE(step.complete.has_value());
  EXPECT_FALSE(step.refused || step.failed || step.abandoned);
  EXPECT_FALSE(assembler.in_progress());
  EXPECT_EQ(step.complete->partition, 4u);
  expect_same_message(step.complete->message, envelope.message);
  EXPECT_EQ(files.committed(4, 1003), patterned(1000, 0));
  EXPECT_EQ(files.writers_open(), 0u);
}

TEST(SnapshotStream, ASnapshotThatCannotBeStoredFailsAndItsWriterIsDiscarded) {
  const Envelope envelope = install_snapshot(1, 2, 4);
  {
    SCOPED_TRACE("no files");
    SnapshotAssembler assembler(1000);
    const auto step = assembler.add(std::move(chunks_of(envelope, 300, 100)[0]), nullptr);
    EXPECT_TRUE(step.failed);
    EXPECT_FALSE(step.refused || assembler.in_progress());
  }
  {
    SCOPED_TRACE("receive() refuses");
    TestSnapshotFiles files;
    files.refuse_receive();
    SnapshotAssembler assembler(1000);
    const auto step = assembler.add(std::move(chunks_of(envelope, 300, 100)[0]), &files);
    EXPECT_TRUE(step.failed);
    EXPECT_EQ(step.why, "refused by the test");
    EXPECT_FALSE(assembler.in_progress());
  }
  {
    SCOPED_TRACE("commit() fails");
    TestSnapshotFiles files;
    files.fail_commit();
    SnapshotAssembler assembler(1000);
    SnapshotAssembler::Step step;
    for (auto& chunk : chunks_of(envelope, 300, 100)) step = assembler.add(std::move(chunk), &files);
    EXPECT_TRUE(step.failed);
    EXPECT_FALSE(step.complete.has_value());
    EXPECT_EQ(files.commits(), 0u);
    EXPECT_EQ(files.discarded(), 1u);
    EXPECT_FALSE(assembler.in_progress());
  }
}

// Feeds chunks[0..n) and then `bad`; expects `bad` refused, the transfer gone.
void expect_refused_after(std::vector<wire_codec::Chunk> chunks, std::size_t n,
                          wire_codec::Chunk bad, bool abandons) {
  TestSnapshotFiles files;
  SnapshotAssembler assembler(1 << 20);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_FALSE(assembler.add(std::move(chunks[i]), &files).refused);
  }
  const auto step = assembler.add(std::move(bad), &files);
  EXPECT_TRUE(step.refused);
  EXPECT_EQ(step.abandoned, abandons);
  EXPECT_FALSE(step.complete.has_value());
  EXPECT_FALSE(assembler.in_progress());
  // What was written is discarded.
  EXPECT_EQ(files.discarded(), abandons ? 1u : 0u);
  EXPECT_EQ(files.writers_open(), 0u);
}

TEST(SnapshotStream, AChunkThatDoesNotContinueItsTransferIsRefusedAndEndsIt) {
  const auto chunks = chunks_of(install_snapshot(1, 2, 4), 300, 100);
  ASSERT_EQ(chunks.size(), 4u);
  {
    SCOPED_TRACE("data before any first chunk");
    expect_refused_after(chunks, 0, chunks[1], false);
  }
  {
    SCOPED_TRACE("a chunk skipped");
    expect_refused_after(chunks, 2, chunks[3], true);
  }
  {
    SCOPED_TRACE("a chunk twice");
    expect_refused_after(chunks, 2, chunks[1], true);
  }
  {
    SCOPED_TRACE("another transfer's chunk");
    wire_codec::Chunk other = chunks[2];
    other.transfer = 2;
    expect_refused_after(chunks, 2, other, true);
  }
  {
    SCOPED_TRACE("more data than announced");
    wire_codec::Chunk longer = chunks[3];
    longer.data += "x";
    expect_refused_after(chunks, 3, longer, true);
  }
  {
    SCOPED_TRACE("an empty chunk");
    wire_codec::Chunk empty = chunks[2];
    empty.data.clear();
    expect_refused_after(chunks, 2, empty, true);
  }
}

TEST(SnapshotStream, AFirstChunkThatCannotBeginATransferIsRefused) {
  const auto chunks = chunks_of(install_snapshot(1, 2, 4), 300, 100);
  auto refused_alone = [&](wire_codec::Chunk first, std::uint64_t max = 1 << 20) {
    TestSnapshotFiles files;
    SnapshotAssembler assembler(max);
    const auto step = assembler.add(std::move(first), &files);
    EXPECT_TRUE(step.refused);
    EXPECT_FALSE(step.abandoned);
    EXPECT_FALSE(assembler.in_progress());
    // Refused before the files are asked.
    EXPECT_EQ(files.announced(), 0u);
  };
  {
    SCOPED_TRACE("bigger than the receiver allows");
    refused_alone(chunks[0], 299);
  }
  {
    SCOPED_TRACE("with data");
    wire_codec::Chunk first = chunks[0];
    first.data = "x";
    refused_alone(first);
  }
  {
    SCOPED_TRACE("at an offset");
    wire_codec::Chunk first = chunks[0];
    first.offset = 1;
    refused_alone(first);
  }
  {
    SCOPED_TRACE("malformed");
    wire_codec::Chunk first = chunks[0];
    first.malformed = true;
    first.message.reset();
    refused_alone(first);
  }
  // Exactly the limit is fine.
  TestSnapshotFiles files;
  SnapshotAssembler assembler(300);
  EXPECT_FALSE(assembler.add(wire_codec::Chunk(chunks[0]), &files).refused);
}

TEST(SnapshotStream, ANewTransferAbandonsAnUnfinishedOne) {
  const Envelope first = install_snapshot(1, 2, 4, 1);
  const Envelope second = install_snapshot(1, 2, 5, 2);
  auto a = chunks_of(first, 300, 100, 1);
  auto b = chunks_of(second, 300, 100, 2);
  TestSnapshotFiles files;
  SnapshotAssembler assembler(1 << 20);
  ASSERT_FALSE(assembler.add(std::move(a[0]), &files).refused);
  ASSERT_FALSE(assembler.add(std::move(a[1]), &files).refused);
  auto step = assembler.add(std::move(b[0]), &files);
  EXPECT_FALSE(step.refused);
  EXPECT_TRUE(step.abandoned);
  EXPECT_EQ(files.discarded(), 1u);
  for (std::size_t i = 1; i < b.size(); ++i) step = assembler.add(std::move(b[i]), &files);
  ASSERT_TRUE(step.complete.has_value());
  expect_same_message(step.complete->message, second.message);
  EXPECT_TRUE(assembler.add(std::move(a[2]), &files).refused);
  EXPECT_FALSE(files.committed(4, 1001).has_value());
  EXPECT_TRUE(files.committed(5, 1002).has_value());
}

TEST(SnapshotStream, AbandonTellsWhetherATransferWasInProgress) {
  auto chunks = chunks_of(install_snapshot(1, 2, 4), 300, 100);
  TestSnapshotFiles files;
  SnapshotAssembler assembler(1 << 20);
  EXPECT_FALSE(assembler.abandon());
  ASSERT_FALSE(assembler.add(std::move(chunks[0]), &files).refused);
  EXPECT_TRUE(assembler.abandon());
  EXPECT_FALSE(assembler.in_progress());
  EXPECT_EQ(files.discarded(), 1u);
  EXPECT_TRUE(assembler.add(std::move(chunks[1]), &files).refused);
}

TEST(SnapshotStream, DecodeMarksAFirstChunkWithoutAnInstallSnapshotMalformed) {
  pb::Batch wire;
  wire_codec::encode_chunk(Batch{kCluster, 1, 2, {}},
                           {1, 4, 0, 300, {}, &numbered_batch(kCluster, 1, 2, 0).envelopes[0].message},
                           &wire);
  EXPECT_TRUE(over_the_wire(wire).malformed);
  // A message whose sender is not the batch's.
  raft::Message stranger = install_snapshot(3, 2, 4).message;
  pb::Batch from_stranger;
  wire_codec::encode_chunk(Batch{kCluster, 1, 2, {}}, {1, 4, 0, 300, {}, &stranger}, &from_stranger);
  EXPECT_TRUE(over_the_wire(from_stranger).malformed);
  // Snapshot data inline, which no sender puts there.
  raft::Message install = install_snapshot(1, 2, 4).message;
  pb::Batch inline_data;
  wire_codec::encode_chunk(Batch{kCluster, 1, 2, {}}, {1, 4, 0, 300, {}, &install}, &inline_data);
  inline_data.mutable_snapshot_chunk()->mutable_message()->mutable_snapshot()->set_data("x");
  EXPECT_TRUE(over_the_wire(inline_data).malformed);
}

TEST(SnapshotStream, AnInstallSnapshotAmongABatchsEnvelopesIsSkipped) {
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 2);
  batch.envelopes.insert(batch.envelopes.begin() + 1, install_snapshot(1, 2, 9));
  pb::Batch wire;
  wire_codec::encode(batch, &wire);
  wire_codec::Decoded decoded;
  std::string error;
  ASSERT_TRUE(wire_codec::decode(wire, &decoded, &error)) << error;
  EXPECT_EQ(decoded.skipped, 1u);
  ASSERT_EQ(decoded.batch.envelopes.size(), 2u);
  EXPECT_EQ(decoded.batch.envelopes[1].partition, 1u);
}

TEST(SnapshotStream, ABatchWithEnvelopesAndAChunkIsRefusedWhole) {
  pb::Batch wire;
  wire_codec::encode(numbered_batch(kCluster, 1, 2, 0), &wire);
  wire.mutable_snapshot_chunk()->set_transfer(1);
  wire_codec::Decoded decoded;
  std::string error;
  EXPECT_FALSE(wire_codec::decode(wire, &decoded, &error));
  EXPECT_NE(error.find("snapshot chunk"), std::string::npos) << error;
}

TEST(SnapshotStream, ChunkSizeLeavesRoomInAMessage) {
  EXPECT_EQ(snapshot_stream::chunk_size(1 << 20, 64 << 20), 1u << 20);
  EXPECT_EQ(snapshot_stream::chunk_size(1 << 20, 8192), 8192 - snapshot_stream::kChunkOverhead);
  EXPECT_EQ(snapshot_stream::check_options(1, 1, snapshot_stream::kMinMessageBytes), "");
  EXPECT_NE(snapshot_stream::check_options(1, 1, snapshot_stream::kMinMessageBytes - 1), "");
  EXPECT_NE(snapshot_stream::check_options(0, 1, 1 << 20), "");
  EXPECT_NE(snapshot_stream::check_options(1, 0, 1 << 20), "");
}

}  // namespace
}  // namespace synod::transport::testing
