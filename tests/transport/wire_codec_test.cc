// The wire codec: round trips through real protobuf bytes, and decoding of bad input.
#include "wire_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace synod::transport::testing {
namespace {

namespace pb = synod::wire::v1;

constexpr ClusterId kCluster = 7;

// Every type a batch's envelopes carry: InstallSnapshot travels in a first chunk (below).
constexpr raft::MessageType kEveryType[] = {
    raft::MessageType::PreVote,       raft::MessageType::PreVoteResp,
    raft::MessageType::Vote,          raft::MessageType::VoteResp,
    raft::MessageType::Append,        raft::MessageType::AppendResp,
    raft::MessageType::Heartbeat,     raft::MessageType::HeartbeatResp,
    raft::MessageType::ReadIndex,     raft::MessageType::ReadIndexResp,
    raft::MessageType::TimeoutNow,
};

// A message of `type` with every field set; InstallSnapshot names a snapshot.
raft::Message full_message(raft::MessageType type, std::uint64_t salt) {
  raft::Message m;
  m.type = type;
  m.from = 1;
  m.to = 2;
  m.term = 100 + salt;
  m.index = ~std::uint64_t(0) - salt;
  m.log_term = 99;
  m.commit = 1u << 20;
  m.reject = salt % 2 == 1;
  m.reject_hint = 17;
  m.context = std::string("ctx\0\xff", 5);
  m.entries = {
      {7, 98, raft::EntryType::Normal, 0xffffffffu, raft::Bytes::copy_of("a")},
      {8, 99, raft::EntryType::ConfChange, 0, raft::Bytes::copy_of(std::string("\0\1", 2))},
      {9, 99, raft::EntryType::Normal, 3, raft::Bytes()},
  };
  if (type == raft::MessageType::InstallSnapshot) {
    auto snapshot = std::make_shared<raft::Snapshot>();
    snapshot->meta = {50, 9, {{1, 2, 3}, {1, 4}, {5}, {4}, true}};
    m.snapshot = snapshot;
  }
  return m;
}

Batch every_type_batch() {
  Batch batch{kCluster, 1, 2, {}};
  std::uint64_t salt = 0;
  for (auto type : kEveryType) batch.envelopes.push_back({salt * 1000, full_message(type, salt++)});
  return batch;
}

// Encodes, serializes to bytes, parses back and decodes.
wire_codec::Decoded round_trip(const Batch& batch) {
  pb::Batch wire;
  wire_codec::encode(batch, &wire);
  std::string bytes;
  EXPECT_TRUE(wire.SerializeToString(&bytes));
  pb::Batch parsed;
  EXPECT_TRUE(parsed.ParseFromString(bytes));
  wire_codec::Decoded decoded;
  std::string error;
  EXPECT_TRUE(wire_codec::decode(parsed, &decoded, &error)) << error;
  return decoded;
}

TEST(WireCodec, EveryMessageTypeRoundTripsWithEntries) {
  const Batch batch = every_type_batch();
  const auto decoded = round_trip(batch);
  EXPECT_EQ(decoded.skipped, 0u);
  expect_same_batch(decoded.batch, batch);
}

// A first chunk carrying a full InstallSnapshot message.
pb::Batch install_chunk() {
  const raft::Message install = full_message(raft::MessageType::InstallSnapshot, 3);
  pb::Batch wire;
  wire_codec::encode_chunk(Batch{kCluster, 1, 2, {}}, {5, 9, 0, 1000, {}, &install}, &wire);
  return wire;
}

wire_codec::Chunk decode_chunk(pb::Batch& wire) {
  wire_codec::Decoded decoded;
  std::string error;
  EXPECT_TRUE(wire_codec::decode(wire, &decoded, &error)) << error;
  EXPECT_TRUE(decoded.chunk.has_value());
  return decoded.chunk ? std::move(*decoded.chunk) : wire_codec::Chunk{};
}

TEST(WireCodec, AnInstallSnapshotRoundTripsInAFirstChunk) {
  pb::Batch wire;
  ASSERT_TRUE(wire.ParseFromString(install_chunk().SerializeAsString()));
  const wire_codec::Chunk chunk = decode_chunk(wire);
  EXPECT_FALSE(chunk.malformed);
  EXPECT_EQ(chunk.transfer, 5u);
  EXPECT_EQ(chunk.partition, 9u);
  EXPECT_EQ(chunk.total_bytes, 1000u);
  ASSERT_TRUE(chunk.message.has_value());
  expect_same_message(*chunk.message, full_message(raft::MessageType::InstallSnapshot, 3));
}

TEST(WireCodec, EmptyBatchRoundTrips) {
  const Batch batch{~ClusterId(0), 3, 4, {}};
  const auto decoded = round_trip(batch);
  expect_same_batch(decoded.batch, batch);
}

TEST(WireCodec, SizeBoundIsAnUpperBound) {
  Batch big = every_type_batch();
  raft::Message append = full_message(raft::MessageType::Append, 1);
  append.entries.clear();
  for (raft::Index i = 1; i <= 500; ++i) {
    append.entries.push_back({~raft::Index(0) - 500 + i, ~raft::Term(0), raft::EntryType::ConfChange,
                              ~0u, raft::Bytes(std::string(i, 'x'))});
  }
  big.envelopes.push_back({~PartitionId(0), append});
  for (const Batch& batch : {Batch{}, numbered_batch(kCluster, 1, 2, 5, 10), every_type_batch(), big}) {
    pb::Batch wire;
    wire_codec::encode(batch, &wire);
    EXPECT_GE(wire_codec::encoded_size_bound(batch), wire.ByteSizeLong());
  }
}

// A wire batch of kEveryType messages, for damaging one envelope.
pb::Batch wire_batch() {
  pb::Batch wire;
  wire_codec::encode(every_type_batch(), &wire);
  return wire;
}

struct Damage {
  const char* what;
  void (*apply)(pb::Message& m);
};

TEST(WireCodec, ABadEnvelopeIsSkippedAloneAndCounted) {
  const Damage damages[] = {
      {"unknown message type", [](pb::Message& m) { m.set_type(static_cast<pb::MessageType>(99)); }},
      {"no message type", [](pb::Message& m) { m.set_type(pb::MESSAGE_TYPE_UNSPECIFIED); }},
      {"unknown entry type",
       [](pb::Message& m) { m.mutable_entries(1)->set_type(static_cast<pb::EntryType>(7)); }},
      {"no entry type", [](pb::Message& m) { m.mutable_entries(0)->set_type(pb::ENTRY_TYPE_UNSPECIFIED); }},
      {"entry index 0", [](pb::Message& m) {
         for (auto& e : *m.mutable_entries()) e.set_index(e.index() - 7);
       }},
      {"entries not consecutive", [](pb::Message& m) { m.mutable_entries(2)->set_index(20); }},
      {"sender differs from the header", [](pb::Message& m) { m.set_from(3); }},
      {"destination differs from the header", [](pb::Message& m) { m.set_to(3); }},
      {"snapshot on a vote", [](pb::Message& m) { m.mutable_snapshot()->mutable_meta()->set_index(1); }},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.what);
    pb::Batch wire = wire_batch();
    // Envelope 2 is a Vote.
    damage.apply(*wire.mutable_envelopes(2)->mutable_message());
    wire_codec::Decoded decoded;
    std::string error;
    ASSERT_TRUE(wire_codec::decode(wire, &decoded, &error)) << error;
    EXPECT_EQ(decoded.skipped, 1u);
    Batch expected = every_type_batch();
    expected.envelopes.erase(expected.envelopes.begin() + 2);
    expect_same_batch(decoded.batch, expected);
  }
}

TEST(WireCodec, BadSnapshotsMakeAFirstChunkMalformed) {
  const Damage damages[] = {
      {"install without snapshot", [](pb::Message& m) { m.clear_snapshot(); }},
      {"snapshot without metadata", [](pb::Message& m) { m.mutable_snapshot()->clear_meta(); }},
      {"snapshot at index 0", [](pb::Message& m) { m.mutable_snapshot()->mutable_meta()->set_index(0); }},
      {"node id 0 in the configuration",
       [](pb::Message& m) { m.mutable_snapshot()->mutable_meta()->mutable_conf_state()->add_learners(0); }},
      {"absurdly many members",
       [](pb::Message& m) {
         auto* cs = m.mutable_snapshot()->mutable_meta()->mutable_conf_state();
         for (std::size_t i = 0; i <= wire_codec::kMaxConfStateNodes; ++i) cs->add_voters(i + 1);
       }},
      {"snapshot data inline", [](pb::Message& m) { m.mutable_snapshot()->set_data("state"); }},
      {"not an InstallSnapshot", [](pb::Message& m) { m.set_type(pb::MESSAGE_TYPE_APPEND); }},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.what);
    pb::Batch wire = install_chunk();
    damage.apply(*wire.mutable_snapshot_chunk()->mutable_message());
    const wire_codec::Chunk chunk = decode_chunk(wire);
    EXPECT_TRUE(chunk.malformed);
    EXPECT_FALSE(chunk.message.has_value());
  }
}

TEST(WireCodec, EnvelopeWithoutMessageIsSkipped) {
  pb::Batch wire = wire_batch();
  wire.add_envelopes()->set_partition(3);
  wire_codec::Decoded decoded;
  std::string error;
  ASSERT_TRUE(wire_codec::decode(wire, &decoded, &error)) << error;
  EXPECT_EQ(decoded.skipped, 1u);
  expect_same_batch(decoded.batch, every_type_batch());
}

TEST(WireCodec, BadHeaderRefusesTheWholeBatch) {
  const struct {
    const char* what;
    void (*apply)(pb::Batch& b);
  } damages[] = {
      {"no version", [](pb::Batch& b) { b.set_wire_version(0); }},
      {"unknown major version", [](pb::Batch& b) { b.set_wire_version(2u << 16); }},
      {"no sender", [](pb::Batch& b) { b.set_from(0); }},
      {"no destination", [](pb::Batch& b) { b.set_to(0); }},
  };
  for (const auto& damage : damages) {
    SCOPED_TRACE(damage.what);
    pb::Batch wire = wire_batch();
    damage.apply(wire);
    wire_codec::Decoded decoded;
    std::string error;
    EXPECT_FALSE(wire_codec::decode(wire, &decoded, &error));
    EXPECT_FALSE(error.empty());
  }
}

TEST(WireCodec, NewerMinorVersionIsAccepted) {
  pb::Batch wire = wire_batch();
  wire.set_wire_version(wire_codec::kWireMajor << 16 | 9);
  wire_codec::Decoded decoded;
  std::string error;
  ASSERT_TRUE(wire_codec::decode(wire, &decoded, &error)) << error;
  expect_same_batch(decoded.batch, every_type_batch());
}

TEST(WireCodec, GarbageBytesNeverCrash) {
  // Serialized batches with bytes flipped: parse may fail; decode must not crash.
  pb::Batch wire = wire_batch();
  const std::string bytes = wire.SerializeAsString();
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    pb::Batch parsed;
    if (!parsed.ParseFromString(damaged)) continue;
    wire_codec::Decoded decoded;
    std::string error;
    if (wire_codec::decode(parsed, &decoded, &error)) {
      EXPECT_LE(decoded.batch.envelopes.size() + decoded.skipped,
                static_cast<std::size_t>(parsed.envelopes_size()));
    }
  }
}

}  // namespace
}  // namespace synod::transport::testing
