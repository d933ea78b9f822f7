// The stored-record codec: round trips, and that every damaged record is refused.
#include "records.h"

#include <gtest/gtest.h>

#include "crc32c.h"

namespace synod::storage::records {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  // Extending in pieces gives the same value as one pass, across the 8-byte fast path.
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over.";
  for (std::size_t split = 0; split <= text.size(); ++split) {
    const std::uint32_t head = crc32c_extend(0, text.data(), split);
    EXPECT_EQ(crc32c_extend(head, text.data() + split, text.size() - split), crc32c(text));
  }
}

TEST(Crc32c, CombineEqualsOnePass) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text.push_back(static_cast<char>(i * 131 + i / 7));
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{9}, std::size_t{4096},
                            text.size() - 1, text.size()}) {
    const std::string_view a = std::string_view(text).substr(0, split);
    const std::string_view b = std::string_view(text).substr(split);
    EXPECT_EQ(crc32c_combine(crc32c(a), crc32c(b), b.size()), crc32c(text)) << split;
  }
}

raft::Entry sample_entry() {
  raft::Entry e;
  e.index = 42;
  e.term = 7;
  e.type = raft::EntryType::ConfChange;
  e.tag = 0xdeadbeef;
  e.data = raft::Bytes(std::string("payload\0with zero", 17));
  return e;
}

raft::Snapshot sample_snapshot() {
  raft::Snapshot s;
  s.meta.index = 100;
  s.meta.term = 9;
  s.meta.conf_state.voters = {1, 2, 3};
  s.meta.conf_state.voters_outgoing = {1, 2, 4};
  s.meta.conf_state.learners = {5};
  s.meta.conf_state.learners_next = {4};
  s.meta.conf_state.auto_leave = true;
  s.data = raft::Bytes("host state");
  return s;
}

TEST(Records, KeysSortByPartitionThenIndex) {
  EXPECT_LT(entry_key(1, 255), entry_key(1, 256));
  EXPECT_LT(entry_key(1, ~0ULL), entry_key(2, 0));
  EXPECT_LT(state_key(1, StateKind::Compaction), state_key(2, StateKind::HardState));
  PartitionId p = 0;
  raft::Index i = 0;
  ASSERT_TRUE(parse_entry_key(entry_key(0x0102030405060708, 99), p, i));
  EXPECT_EQ(p, 0x0102030405060708u);
  EXPECT_EQ(i, 99u);
  StateKind k{};
  ASSERT_TRUE(parse_state_key(state_key(3, StateKind::Snapshot), p, k));
  EXPECT_EQ(p, 3u);
  EXPECT_EQ(k, StateKind::Snapshot);
  EXPECT_FALSE(parse_state_key(entry_key(3, 1), p, k));
  EXPECT_FALSE(parse_entry_key(state_key(3, StateKind::Snapshot), p, i));
  std::string bad_kind = state_key(3, StateKind::Snapshot);
  bad_kind[8] = 9;
  EXPECT_FALSE(parse_state_key(bad_kind, p, k));
}

TEST(Records, RoundTrip) {
  raft::Entry e;
  ASSERT_TRUE(decode_entry(5, 42, encode_entry(5, sample_entry()), e).ok());
  EXPECT_EQ(e, sample_entry());
  raft::Term t = 0;
  ASSERT_TRUE(decode_entry_term(5, 42, encode_entry(5, sample_entry()), t).ok());
  EXPECT_EQ(t, 7u);

  raft::HardState hs;
  ASSERT_TRUE(decode_hard_state(5, encode_hard_state(5, {3, 2, 1}), hs).ok());
  EXPECT_EQ(hs, (raft::HardState{3, 2, 1}));

  raft::Snapshot s;
  ASSERT_TRUE(decode_snapshot(5, encode_snapshot(5, sample_snapshot()), s).ok());
  EXPECT_EQ(s, sample_snapshot());
  raft::SnapshotMeta meta;
  ASSERT_TRUE(decode_snapshot_meta(5, encode_snapshot(5, sample_snapshot()), meta).ok());
  EXPECT_EQ(meta, sample_snapshot().meta);

  raft::Index floor = 0;
  ASSERT_TRUE(decode_applied_floor(5, encode_applied_floor(5, 77), floor).ok());
  EXPECT_EQ(floor, 77u);
  CompactionPoint c;
  ASSERT_TRUE(decode_compaction(5, encode_compaction(5, {10, 2}), c).ok());
  EXPECT_EQ(c, (CompactionPoint{10, 2}));
}

// Every record kind, with a decoder that reports whether it accepted the value.
struct Kind {
  std::string name;
  std::string value;
  std::function<StorageStatus(std::string_view)> decode;
};

std::vector<Kind> kinds() {
  return {
      {"entry", encode_entry(5, sample_entry()),
       [](std::string_view v) {
         raft::Entry e;
         return decode_entry(5, 42, v, e);
       }},
      {"hard state", encode_hard_state(5, {3, 2, 1}),
       [](std::string_view v) {
         raft::HardState hs;
         return decode_hard_state(5, v, hs);
       }},
      {"snapshot", encode_snapshot(5, sample_snapshot()),
       [](std::string_view v) {
         raft::Snapshot s;
         return decode_snapshot(5, v, s);
       }},
      {"applied floor", encode_applied_floor(5, 77),
       [](std::string_view v) {
         raft::Index f;
         return decode_applied_floor(5, v, f);
       }},
      {"compaction", encode_compaction(5, {10, 2}),
       [](std::string_view v) {
         CompactionPoint c;
         return decode_compaction(5, v, c);
       }},
  };
}

TEST(Records, EveryFlippedBitIsDetected) {
  for (const Kind& k : kinds()) {
    for (std::size_t byte = 0; byte < k.value.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string v = k.value;
        v[byte] ^= static_cast<char>(1 << bit);
        StorageStatus st = k.decode(v);
        EXPECT_FALSE(st.ok()) << k.name << " byte " << byte << " bit " << bit;
        EXPECT_NE(st.message().find("partition 5"), std::string::npos) << st.message();
      }
    }
  }
}

TEST(Records, EveryTruncationAndExtensionIsDetected) {
  for (const Kind& k : kinds()) {
    for (std::size_t n = 0; n < k.value.size(); ++n) {
      EXPECT_EQ(k.decode(k.value.substr(0, n)).code(), StorageCode::Corruption)
          << k.name << " cut to " << n;
    }
    EXPECT_EQ(k.decode(k.value + "x").code(), StorageCode::Corruption) << k.name;
  }
}

TEST(Records, ARecordUnderAnotherKeyIsRefused) {
  raft::Entry e;
  StorageStatus st = decode_entry(5, 43, encode_entry(5, sample_entry()), e);
  EXPECT_EQ(st.code(), StorageCode::Corruption);
  EXPECT_NE(st.message().find("entry 43"), std::string::npos) << st.message();
  EXPECT_FALSE(decode_entry(6, 42, encode_entry(5, sample_entry()), e).ok());
  raft::HardState hs;
  EXPECT_FALSE(decode_hard_state(6, encode_hard_state(5, {1, 1, 1}), hs).ok());
}

}  // namespace
}  // namespace synod::storage::records
