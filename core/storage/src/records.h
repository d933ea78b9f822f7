// The stored records of the durable stores, and their keys.
//
// Keys sort by partition, then by index (big-endian), so one partition's entries are one
// contiguous range for scans and bulk deletion:
//   entry  key: partition (8 bytes BE) · index (8 bytes BE)
//   state  key: partition (8 bytes BE) · kind (1 byte)
// Every value starts with a CRC32C and a record version:
//   crc32c (4 bytes LE) · version (1 byte) · body
// The checksum covers the key, the version and the body, so a record that is damaged, or
// valid but stored under the wrong key, fails to decode. Decoding never trusts a length
// it has not checked against the bytes present.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "synod/raft/types.h"
#include "synod/storage/log_store.h"
#include "synod/storage/status.h"

namespace synod::storage {
class ByteReader;
}

namespace synod::storage::records {

inline constexpr std::uint8_t kRecordVersion = 1;
inline constexpr std::size_t kEntryKeySize = 16;
inline constexpr std::size_t kStateKeySize = 9;

// The per-partition records other than entries.
enum class StateKind : std::uint8_t {
  HardState = 1,
  Snapshot = 2,
  AppliedFloor = 3,
  // The index and term of the last compacted entry.
  Compaction = 4,
};

struct CompactionPoint {
  raft::Index index = 0;
  raft::Term term = 0;
  friend bool operator==(const CompactionPoint&, const CompactionPoint&) = default;
};

std::string entry_key(PartitionId partition, raft::Index index);
std::string state_key(PartitionId partition, StateKind kind);
// The smallest key of `partition` and the smallest key after it, in either key space.
std::string partition_prefix(PartitionId partition);
// The partition of a key of either space (at least 8 bytes long).
PartitionId key_partition(std::string_view key);
bool parse_entry_key(std::string_view key, PartitionId& partition, raft::Index& index);
bool parse_state_key(std::string_view key, PartitionId& partition, StateKind& kind);

// Snapshot metadata (index, term, configuration), as in a snapshot record; the snapshot
// file header (snapshot_file_format.h) encodes it the same way. Reading checks only the
// encoding, not the values.
void put_snapshot_meta(std::string& out, const raft::SnapshotMeta& meta);
bool read_snapshot_meta(ByteReader& r, raft::SnapshotMeta& meta);

std::string encode_entry(PartitionId partition, const raft::Entry& entry);
std::string encode_hard_state(PartitionId partition, const raft::HardState& state);
std::string encode_snapshot(PartitionId partition, const raft::Snapshot& snapshot);
std::string encode_applied_floor(PartitionId partition, raft::Index floor);
std::string encode_compaction(PartitionId partition, const CompactionPoint& point);

// Each returns Corruption naming the partition (and the index, for entries) when the
// value fails its checksum or does not decode.
StorageStatus decode_entry(PartitionId partition, raft::Index index, std::string_view value,
                           raft::Entry& out);
// Only the term (and, when `type` is given, the type) of an entry record, checksum
// verified; copies nothing.
StorageStatus decode_entry_term(PartitionId partition, raft::Index index, std::string_view value,
                                raft::Term& out, raft::EntryType* type = nullptr);
StorageStatus decode_hard_state(PartitionId partition, std::string_view value,
                                raft::HardState& out);
StorageStatus decode_snapshot(PartitionId partition, std::string_view value, raft::Snapshot& out);
// The snapshot's metadata only; the checksum still covers the data.
StorageStatus decode_snapshot_meta(PartitionId partition, std::string_view value,
                                   raft::SnapshotMeta& out);
StorageStatus decode_applied_floor(PartitionId partition, std::string_view value, raft::Index& out);
StorageStatus decode_compaction(PartitionId partition, std::string_view value,
                                CompactionPoint& out);

}  // namespace synod::storage::records
