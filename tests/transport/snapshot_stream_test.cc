// snapshot_stream: cutting a snapshot into chunk batches and putting it back together,
// through the real wire encoding, and every way a chunk can fail to continue a transfer.
#include "snapshot_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {
namespace {

namespace pb = synod::wire::v1;
using snapshot_stream::SnapshotAssembler;
using snapshot_stream::SnapshotCursor;

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

// Every chunk of `transfer`, decoded.
std::vector<wire_codec::Chunk> chunks_of(const Envelope& envelope, std::size_t chunk_bytes,
                                         std::uint64_t id = 1) {
  SnapshotCursor cursor(Batch{kCluster, 1, 2, {envelope}}, id, chunk_bytes);
  std::vector<wire_codec::Chunk> chunks;
  while (!cursor.done()) {
    pb::Batch wire;
    cursor.next(&wire);
    EXPECT_EQ(wire.cluster(), kCluster);
    EXPECT_EQ(wire.from(), 1u);
    EXPECT_EQ(wire.to(), 2u);
    chunks.push_back(over_the_wire(wire));
  }
  return chunks;
}

TEST(SnapshotStream, TakeStreamedMovesOutOnlySnapshotsBiggerThanAChunk) {
  Batch batch = numbered_batch(kCluster, 1, 2, 0, 3);
  batch.envelopes.insert(batch.envelopes.begin() + 1, snapshot_envelope(1, 2, 10, 101));
  batch.envelopes.push_back(snapshot_envelope(1, 2, 11, 100));
  batch.envelopes.push_back(snapshot_envelope(1, 2, 12, 5000));
  const std::vector<Batch> streamed = snapshot_stream::take_streamed(batch, 100);

  ASSERT_EQ(streamed.size(), 2u);
  for (const Batch& b : streamed) {
    EXPECT_EQ(b.cluster, kCluster);
    EXPECT_EQ(b.from, 1u);
    EXPECT_EQ(b.to, 2u);
    EXPECT_TRUE(is_snapshot_batch(b));
  }
  EXPECT_EQ(streamed[0].envelopes[0].partition, 10u);
  EXPECT_EQ(streamed[1].envelopes[0].partition, 12u);
  // The rest keeps its order; a snapshot of exactly one chunk stays in its batch.
  ASSERT_EQ(batch.envelopes.size(), 4u);
  EXPECT_EQ(batch.envelopes[0].partition, 0u);
  EXPECT_EQ(batch.envelopes[1].partition, 1u);
  EXPECT_EQ(batch.envelopes[2].partition, 2u);
  EXPECT_EQ(batch.envelopes[3].partition, 11u);
}

TEST(SnapshotStream, CursorCutsTheMessageThenTheDataInOrder) {
  const Envelope envelope = snapshot_envelope(1, 2, 4, 250);
  const auto chunks = chunks_of(envelope, 100, 42);
  ASSERT_EQ(chunks.size(), 4u);
  ASSERT_TRUE(chunks[0].message.has_value());
  EXPECT_TRUE(chunks[0].data.empty());
  EXPECT_EQ(chunks[0].total_bytes, 250u);
  EXPECT_EQ(chunks[0].message->snapshot->meta, envelope.message.snapshot->meta);
  EXPECT_TRUE(chunks[0].message->snapshot->data.empty());
  std::string data;
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_FALSE(chunks[i].message.has_value());
    EXPECT_EQ(chunks[i].offset, data.size());
    data += chunks[i].data;
  }
  EXPECT_EQ(chunks[3].data.size(), 50u);
  for (const auto& chunk : chunks) {
    EXPECT_EQ(chunk.transfer, 42u);
    EXPECT_EQ(chunk.partition, 4u);
  }
  EXPECT_EQ(data, envelope.message.snapshot->data.view());
}

TEST(SnapshotStream, AssemblerPutsTheSnapshotBackTogether) {
  const Envelope envelope = snapshot_envelope(1, 2, 4, 1000, 3);
  SnapshotAssembler assembler(1000);
  auto chunks = chunks_of(envelope, 64);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    const auto step = assembler.add(std::move(chunks[i]));
    EXPECT_FALSE(step.complete || step.refused || step.abandoned) << i;
    EXPECT_TRUE(assembler.in_progress());
  }
  const auto step = assembler.add(std::move(chunks.back()));
  ASSERT_TRUE(step.complete.has_value());
  EXPECT_FALSE(step.refused || step.abandoned);
  EXPECT_FALSE(assembler.in_progress());
  EXPECT_EQ(step.complete->partition, 4u);
  expect_same_message(step.complete->message, envelope.message);
}

// Feeds chunks[0..n) and then `bad`; expects `bad` refused, the transfer gone.
void expect_refused_after(std::vector<wire_codec::Chunk> chunks, std::size_t n,
                          wire_codec::Chunk bad, bool abandons) {
  SnapshotAssembler assembler(1 << 20);
  for (std::size_t i = 0; i < n; ++i) ASSERT_FALSE(assembler.add(std::move(chunks[i])).refused);
  const auto step = assembler.add(std::move(bad));
  EXPECT_TRUE(step.refused);
  EXPECT_EQ(step.abandoned, abandons);
  EXPECT_FALSE(step.complete.has_value());
  EXPECT_FALSE(assembler.in_progress());
}

TEST(SnapshotStream, AChunkThatDoesNotContinueItsTransferIsRefusedAndEndsIt) {
  const auto chunks = chunks_of(snapshot_envelope(1, 2, 4, 300), 100);
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
  const auto chunks = chunks_of(snapshot_envelope(1, 2, 4, 300), 100);
  auto refused_alone = [&](wire_codec::Chunk first, std::uint64_t max = 1 << 20) {
    SnapshotAssembler assembler(max);
    const auto step = assembler.add(std::move(first));
    EXPECT_TRUE(step.refused);
    EXPECT_FALSE(step.abandoned);
    EXPECT_FALSE(assembler.in_progress());
  };
  {
    SCOPED_TRACE("bigger than the receiver allows");
    refused_alone(chunks[0], 299);
  }
  {
    SCOPED_TRACE("announcing no data");
    wire_codec::Chunk first = chunks[0];
    first.total_bytes = 0;
    refused_alone(first);
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
  SnapshotAssembler assembler(300);
  EXPECT_FALSE(assembler.add(wire_codec::Chunk(chunks[0])).refused);
}

TEST(SnapshotStream, ANewTransferAbandonsAnUnfinishedOne) {
  const Envelope first = snapshot_envelope(1, 2, 4, 300, 1);
  const Envelope second = snapshot_envelope(1, 2, 5, 300, 2);
  auto a = chunks_of(first, 100, 1);
  auto b = chunks_of(second, 100, 2);
  SnapshotAssembler assembler(1 << 20);
  ASSERT_FALSE(assembler.add(std::move(a[0])).refused);
  ASSERT_FALSE(assembler.add(std::move(a[1])).refused);
  auto step = assembler.add(std::move(b[0]));
  EXPECT_FALSE(step.refused);
  EXPECT_TRUE(step.abandoned);
  for (std::size_t i = 1; i < b.size(); ++i) step = assembler.add(std::move(b[i]));
  ASSERT_TRUE(step.complete.has_value());
  expect_same_message(step.complete->message, second.message);
  EXPECT_TRUE(assembler.add(std::move(a[2])).refused);
}

TEST(SnapshotStream, AbandonTellsWhetherATransferWasInProgress) {
  auto chunks = chunks_of(snapshot_envelope(1, 2, 4, 300), 100);
  SnapshotAssembler assembler(1 << 20);
  EXPECT_FALSE(assembler.abandon());
  ASSERT_FALSE(assembler.add(std::move(chunks[0])).refused);
  EXPECT_TRUE(assembler.abandon());
  EXPECT_FALSE(assembler.in_progress());
  EXPECT_TRUE(assembler.add(std::move(chunks[1])).refused);
}

TEST(SnapshotStream, DecodeMarksAFirstChunkWithoutAnInstallSnapshotMalformed) {
  pb::Batch wire;
  wire_codec::encode_chunk(Batch{kCluster, 1, 2, {}},
                           {1, 4, 0, 300, {}, &numbered_batch(kCluster, 1, 2, 0).envelopes[0].message},
                           &wire);
  EXPECT_TRUE(over_the_wire(wire).malformed);
  // A message whose sender is not the batch's.
  raft::Message stranger = snapshot_envelope(3, 2, 4, 300).message;
  pb::Batch from_stranger;
  wire_codec::encode_chunk(Batch{kCluster, 1, 2, {}}, {1, 4, 0, 300, {}, &stranger}, &from_stranger);
  EXPECT_TRUE(over_the_wire(from_stranger).malformed);
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
