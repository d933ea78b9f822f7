// For the tests that speak a network transport's wire protocol directly (grpc_test.cc,
// rest_test.cc): the wire batches a Synod node never sends, and what the receiving node
// must make of them, written once.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "network_harness.h"
#include "snapshot_stream.h"
#include "synod/wire.pb.h"
#include "test_snapshot_files.h"
#include "test_util.h"
#include "wire_codec.h"

namespace synod::transport::testing {

inline synod::wire::v1::Batch wire_batch(const Batch& batch) {
  synod::wire::v1::Batch wire;
  wire_codec::encode(batch, &wire);
  return wire;
}

// The chunk batches the real sender makes of `snapshot` (from install_snapshot(), node 1 to
// node 2) with a file of `size` patterned bytes.
inline std::vector<synod::wire::v1::Batch> chunk_batches(const Envelope& snapshot, std::size_t size,
                                                         std::uint64_t transfer,
                                                         std::size_t chunk_bytes) {
  TestSnapshotFiles files;
  put_snapshot(files, snapshot, size);
  std::string why;
  auto reader = files.open(snapshot.partition, snapshot.message.snapshot->meta, &why);
  snapshot_stream::SnapshotCursor cursor({Batch{kCluster, 1, 2, {snapshot}}, std::move(reader)},
                                         transfer, chunk_bytes);
  std::vector<synod::wire::v1::Batch> chunks;
  while (!cursor.done()) EXPECT_TRUE(cursor.next(&chunks.emplace_back(), &why)) << why;
  return chunks;
}

// Three heartbeats from node 1 to node 2, the middle one of an unknown message type.
inline synod::wire::v1::Batch batch_with_a_bad_envelope() {
  synod::wire::v1::Batch wire = wire_batch(numbered_batch(kCluster, 1, 2, 5, 3));
  wire.mutable_envelopes(1)->mutable_message()->set_type(
      static_cast<synod::wire::v1::MessageType>(42));
  return wire;
}

// Node 2 received batch_with_a_bad_envelope(): the two good envelopes arrived.
inline void expect_the_rest_delivered(NetworkNode& two) {
  ASSERT_EQ(two.inbox.batch_count(), 1u);
  const Batch got = two.inbox.batches()[0];
  ASSERT_EQ(got.envelopes.size(), 2u);
  EXPECT_EQ(got.envelopes[0].partition, 0u);
  EXPECT_EQ(got.envelopes[1].partition, 2u);
  const auto stats = two->stats();
  EXPECT_EQ(stats.batches_received, 1u);
  EXPECT_EQ(stats.messages_received, 2u);
  EXPECT_EQ(stats.messages_malformed, 1u);
}

// Batches to node 2 that it refuses (foreign cluster, unknown sender, another
// destination, a future wire version), then one it takes, numbered 4.
inline std::vector<synod::wire::v1::Batch> refused_then_good_batches() {
  synod::wire::v1::Batch future = wire_batch(numbered_batch(kCluster, 1, 2, 3));
  future.set_wire_version((wire_codec::kWireMajor + 1) << 16);
  return {wire_batch(numbered_batch(kCluster + 1, 1, 2, 0)),
          wire_batch(numbered_batch(kCluster, 5, 2, 1)),
          wire_batch(numbered_batch(kCluster, 1, 3, 2)), future,
          wire_batch(numbered_batch(kCluster, 1, 2, 4))};
}

// Node 2 received refused_then_good_batches(): only the last one surfaced.
inline void expect_each_refusal_counted(NetworkNode& two) {
  ASSERT_EQ(two.inbox.batch_count(), 1u);
  EXPECT_EQ(seq_of(two.inbox.batches()[0]), 4u);
  const auto stats = two->stats();
  EXPECT_EQ(stats.refused_foreign_cluster, 1u);
  EXPECT_EQ(stats.refused_unknown_sender, 1u);
  EXPECT_EQ(stats.refused_wrong_destination, 1u);
  EXPECT_EQ(stats.refused_malformed, 1u);
  EXPECT_EQ(stats.batches_received, 1u);
}

}  // namespace synod::transport::testing
