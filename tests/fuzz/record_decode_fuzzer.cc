// libFuzzer target for the stored-record codec (core/storage/src/records.h): the decoders
// read bytes from disk, so they must refuse anything malformed with a status, never crash,
// read out of bounds or allocate more than the bytes present justify. Input layout: see
// record_fuzz_input.h.
//
// Checked on every input:
//   - every decoder returns Ok or a Corruption / Unsupported status naming the partition;
//   - a value that decodes re-encodes, under the same partition and index, to exactly the
//     same bytes (the format is canonical), and the decoded value keeps the decoder's rules
//     (entries and snapshots have a non-zero term, snapshots a non-zero index);
//   - decode_entry_term agrees with decode_entry, decode_snapshot_meta with decode_snapshot;
//   - a payload that parses as a key re-encodes to itself, and keys sort by partition, then
//     by index or kind.
// A violation prints what broke and traps, so libFuzzer reports the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <tuple>

#include "crc32c.h"
#include "record_fuzz_input.h"
#include "records.h"

namespace synod::storage::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "record_decode_fuzzer: %s\n", what.c_str());
  __builtin_trap();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// A refusal is Corruption or Unsupported and names the partition (and `what`).
void check_refusal(const StorageStatus& st, PartitionId partition, const std::string& what) {
  if (st.code() != StorageCode::Corruption && st.code() != StorageCode::Unsupported) {
    fail("refusal with an unexpected code: " + st.to_string());
  }
  const std::string named = "partition " + std::to_string(partition) + ": " + what + " ";
  if (!st.message().starts_with(named)) {
    fail("refusal does not start with \"" + named + "\": " + st.to_string());
  }
}

std::string key_of(SealKind kind, PartitionId partition, raft::Index index) {
  switch (kind) {
    case SealKind::Entry:
      return records::entry_key(partition, index);
    case SealKind::HardState:
      return records::state_key(partition, records::StateKind::HardState);
    case SealKind::Snapshot:
      return records::state_key(partition, records::StateKind::Snapshot);
    case SealKind::AppliedFloor:
      return records::state_key(partition, records::StateKind::AppliedFloor);
    case SealKind::Compaction:
      return records::state_key(partition, records::StateKind::Compaction);
  }
  __builtin_trap();
}

// crc32c (4 bytes LE) over the key, then over everything after the checksum, as records.cc.
std::string seal(std::string_view key, std::string_view after_crc) {
  const std::uint32_t crc = crc32c_extend(crc32c(key), after_crc.data(), after_crc.size());
  std::string value;
  value.reserve(4 + after_crc.size());
  for (int i = 0; i < 4; ++i) value.push_back(static_cast<char>(crc >> (8 * i)));
  value.append(after_crc);
  return value;
}

void fuzz_entry(PartitionId partition, raft::Index index, std::string_view value) {
  raft::Entry entry;
  const StorageStatus st = records::decode_entry(partition, index, value, entry);
  raft::Term term = 0;
  const StorageStatus term_st = records::decode_entry_term(partition, index, value, term);
  if (term_st.code() != st.code()) {
    fail("decode_entry_term (" + term_st.to_string() + ") disagrees with decode_entry (" +
         st.to_string() + ")");
  }
  if (!st.ok()) {
    check_refusal(st, partition, "entry " + std::to_string(index));
    check_refusal(term_st, partition, "entry " + std::to_string(index));
    return;
  }
  check(entry.index == index, "decoded entry has another index than its key");
  check(entry.term != 0, "decoded entry has term 0");
  check(entry.type == raft::EntryType::Normal || entry.type == raft::EntryType::ConfChange,
        "decoded entry has an unknown type");
  check(term == entry.term, "decode_entry_term returns another term than decode_entry");
  check(records::encode_entry(partition, entry) == value,
        "entry does not re-encode to the bytes it was decoded from");
}

void fuzz_hard_state(PartitionId partition, std::string_view value) {
  raft::HardState state;
  const StorageStatus st = records::decode_hard_state(partition, value, state);
  if (!st.ok()) return check_refusal(st, partition, "hard state");
  check(records::encode_hard_state(partition, state) == value,
        "hard state does not re-encode to the bytes it was decoded from");
}

void fuzz_snapshot(PartitionId partition, std::string_view value) {
  raft::Snapshot snapshot;
  const StorageStatus st = records::decode_snapshot(partition, value, snapshot);
  raft::SnapshotMeta meta;
  const StorageStatus meta_st = records::decode_snapshot_meta(partition, value, meta);
  if (meta_st.code() != st.code()) {
    fail("decode_snapshot_meta (" + meta_st.to_string() + ") disagrees with decode_snapshot (" +
         st.to_string() + ")");
  }
  if (!st.ok()) {
    check_refusal(st, partition, "snapshot");
    check_refusal(meta_st, partition, "snapshot");
    return;
  }
  check(snapshot.meta.index != 0 && snapshot.meta.term != 0,
        "decoded snapshot has index or term 0");
  check(meta == snapshot.meta, "decode_snapshot_meta returns other metadata than decode_snapshot");
  check(records::encode_snapshot(partition, snapshot) == value,
        "snapshot does not re-encode to the bytes it was decoded from");
}

void fuzz_applied_floor(PartitionId partition, std::string_view value) {
  raft::Index floor = 0;
  const StorageStatus st = records::decode_applied_floor(partition, value, floor);
  if (!st.ok()) return check_refusal(st, partition, "applied floor");
  check(records::encode_applied_floor(partition, floor) == value,
        "applied floor does not re-encode to the bytes it was decoded from");
}

void fuzz_compaction(PartitionId partition, std::string_view value) {
  records::CompactionPoint point;
  const StorageStatus st = records::decode_compaction(partition, value, point);
  if (!st.ok()) return check_refusal(st, partition, "compaction point");
  check(records::encode_compaction(partition, point) == value,
        "compaction point does not re-encode to the bytes it was decoded from");
}

// `key` as a key of either space, compared with the keys the header names.
void fuzz_keys(PartitionId partition, raft::Index index, std::string_view key) {
  const std::string own_entry_key = records::entry_key(partition, index);
  const auto own_kind = static_cast<records::StateKind>(1 + index % 4);
  const std::string own_state_key = records::state_key(partition, own_kind);
  const std::string prefix = records::partition_prefix(partition);
  check(own_entry_key.size() == records::kEntryKeySize && own_entry_key.starts_with(prefix) &&
            own_state_key.size() == records::kStateKeySize && own_state_key.starts_with(prefix),
        "keys do not start with their partition prefix");
  check(records::key_partition(own_entry_key) == partition &&
            records::key_partition(own_state_key) == partition,
        "key_partition does not return the partition a key was made with");
  if (partition != ~PartitionId{0}) {
    const std::string next = records::partition_prefix(partition + 1);
    check(own_entry_key < next && own_state_key < next,
          "a key sorts after the next partition's prefix");
  }

  PartitionId p = 0;
  raft::Index i = 0;
  const bool is_entry_key = records::parse_entry_key(key, p, i);
  check(is_entry_key == (key.size() == records::kEntryKeySize),
        "parse_entry_key does not accept exactly the 16-byte keys");
  if (is_entry_key) {
    check(records::entry_key(p, i) == key, "entry key does not re-encode to itself");
    check(records::key_partition(key) == p, "key_partition disagrees with parse_entry_key");
    check((std::tie(partition, index) < std::tie(p, i)) == (own_entry_key < key),
          "entry keys do not sort by partition, then index");
  }
  records::StateKind kind{};
  if (records::parse_state_key(key, p, kind)) {
    check(key.size() == records::kStateKeySize, "parse_state_key accepts a key of another size");
    check(records::state_key(p, kind) == key, "state key does not re-encode to itself");
    check(records::key_partition(key) == p, "key_partition disagrees with parse_state_key");
    check((std::tie(partition, own_kind) < std::tie(p, kind)) == (own_state_key < key),
          "state keys do not sort by partition, then kind");
  }
  if (key.size() >= 8) {
    check(records::partition_prefix(records::key_partition(key)) == key.substr(0, 8),
          "key_partition does not read the key's first 8 bytes");
  }
}

}  // namespace
}  // namespace synod::storage::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synod::storage::fuzz;
  const Input in = parse_input(data, size);
  fuzz_keys(in.partition, in.index, in.payload);

  std::string sealed;
  std::string_view value = in.payload;
  if (in.sealed()) {
    sealed = seal(key_of(in.seal_kind(), in.partition, in.index), in.payload);
    value = sealed;
  }
  fuzz_entry(in.partition, in.index, value);
  fuzz_hard_state(in.partition, value);
  fuzz_snapshot(in.partition, value);
  fuzz_applied_floor(in.partition, value);
  fuzz_compaction(in.partition, value);
  return 0;
}
