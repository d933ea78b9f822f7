#include "records.h"

#include "byte_codec.h"
#include "crc32c.h"

namespace synod::storage::records {
namespace {

constexpr std::size_t kHeaderSize = 5;  // crc32c + version

void write_be64(char* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
}

void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::uint64_t get_be64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

std::uint32_t record_crc(std::string_view key, std::string_view after_crc) {
  return crc32c_extend(crc32c(key), after_crc.data(), after_crc.size());
}

// Starts a value: room for the checksum, then the version.
std::string begin_value(std::size_t body_size) {
  std::string v;
  v.reserve(kHeaderSize + body_size);
  v.append(4, '\0');
  v.push_back(static_cast<char>(kRecordVersion));
  return v;
}

std::string seal(std::string_view key, std::string value) {
  const std::uint32_t crc = record_crc(key, std::string_view(value).substr(4));
  for (int i = 0; i < 4; ++i) value[i] = static_cast<char>(crc >> (8 * i));
  return value;
}

std::string what_of(PartitionId partition, std::string_view what) {
  return "partition " + std::to_string(partition) + ": " + std::string(what);
}

// Checks the header and checksum; on success `body` is what follows the version. `what`
// names the record in an error; it is called only when there is one.
template <typename What>
StorageStatus open_value(std::string_view key, std::string_view value, std::string_view& body,
                         PartitionId partition, const What& describe) {
  if (value.size() >= kHeaderSize && get_le32(value) == record_crc(key, value.substr(4)) &&
      static_cast<std::uint8_t>(value[4]) == kRecordVersion) {
    body = value.substr(kHeaderSize);
    return {};
  }
  const std::string what = describe();
  if (value.size() < kHeaderSize) {
    return StorageStatus::corruption(what_of(partition, what) + " record is truncated (" +
                                     std::to_string(value.size()) + " bytes)");
  }
  if (get_le32(value) != record_crc(key, value.substr(4))) {
    return StorageStatus::corruption(what_of(partition, what) + " record fails its checksum");
  }
  if (static_cast<std::uint8_t>(value[4]) != kRecordVersion) {
    return StorageStatus::unsupported(what_of(partition, what) + " record has version " +
                                      std::to_string(static_cast<std::uint8_t>(value[4])) +
                                      ", this build reads version " +
                                      std::to_string(kRecordVersion));
  }
  return {};
}

StorageStatus open_value(std::string_view key, std::string_view value, std::string_view& body,
                         PartitionId partition, const char* what) {
  return open_value(key, value, body, partition, [what] { return std::string(what); });
}

StorageStatus malformed(PartitionId partition, std::string_view what) {
  return StorageStatus::corruption(what_of(partition, what) + " record does not decode");
}

std::string entry_what(raft::Index index) { return "entry " + std::to_string(index); }

void put_ids(std::string& out, const std::vector<raft::NodeId>& ids) {
  put_le32(out, static_cast<std::uint32_t>(ids.size()));
  for (raft::NodeId id : ids) put_le64(out, id);
}

void put_conf(std::string& out, const raft::ConfState& conf) {
  out.push_back(conf.auto_leave ? 1 : 0);
  put_ids(out, conf.voters);
  put_ids(out, conf.voters_outgoing);
  put_ids(out, conf.learners);
  put_ids(out, conf.learners_next);
}

bool read_conf(ByteReader& r, raft::ConfState& conf) {
  std::uint8_t auto_leave = 0;
  if (!r.u8(auto_leave) || auto_leave > 1) return false;
  conf.auto_leave = auto_leave == 1;
  return r.ids(conf.voters) && r.ids(conf.voters_outgoing) && r.ids(conf.learners) &&
         r.ids(conf.learners_next);
}

StorageStatus decode_entry_body(PartitionId partition, raft::Index index, std::string_view value,
                                raft::Entry& out, bool with_data) {
  char key[kEntryKeySize];
  write_be64(key, partition);
  write_be64(key + 8, index);
  std::string_view body;
  if (auto st = open_value(std::string_view(key, sizeof key), value, body, partition,
                           [index] { return entry_what(index); });
      !st.ok()) {
    return st;
  }
  ByteReader r(body);
  std::uint8_t type = 0;
  if (!r.u64(out.term) || !r.u8(type) || !r.u32(out.tag) ||
      type > static_cast<std::uint8_t>(raft::EntryType::ConfChange) || out.term == 0) {
    return malformed(partition, entry_what(index));
  }
  out.index = index;
  out.type = static_cast<raft::EntryType>(type);
  if (with_data) out.data = raft::Bytes::copy_of(r.rest());
  return {};
}

}  // namespace

void put_snapshot_meta(std::string& out, const raft::SnapshotMeta& meta) {
  put_le64(out, meta.index);
  put_le64(out, meta.term);
  put_conf(out, meta.conf_state);
}

bool read_snapshot_meta(ByteReader& r, raft::SnapshotMeta& meta) {
  return r.u64(meta.index) && r.u64(meta.term) && read_conf(r, meta.conf_state);
}

std::string entry_key(PartitionId partition, raft::Index index) {
  std::string key;
  key.reserve(kEntryKeySize);
  put_be64(key, partition);
  put_be64(key, index);
  return key;
}

std::string state_key(PartitionId partition, StateKind kind) {
  std::string key;
  key.reserve(kStateKeySize);
  put_be64(key, partition);
  key.push_back(static_cast<char>(kind));
  return key;
}

std::string partition_prefix(PartitionId partition) {
  std::string key;
  put_be64(key, partition);
  return key;
}

PartitionId key_partition(std::string_view key) { return get_be64(key); }

bool parse_entry_key(std::string_view key, PartitionId& partition, raft::Index& index) {
  if (key.size() != kEntryKeySize) return false;
  partition = get_be64(key);
  index = get_be64(key.substr(8));
  return true;
}

bool parse_state_key(std::string_view key, PartitionId& partition, StateKind& kind) {
  if (key.size() != kStateKeySize) return false;
  partition = get_be64(key);
  const auto k = static_cast<std::uint8_t>(key[8]);
  if (k < static_cast<std::uint8_t>(StateKind::HardState) ||
      k > static_cast<std::uint8_t>(StateKind::Compaction)) {
    return false;
  }
  kind = static_cast<StateKind>(k);
  return true;
}

std::string encode_entry(PartitionId partition, const raft::Entry& entry) {
  std::string v = begin_value(13 + entry.data.size());
  put_le64(v, entry.term);
  v.push_back(static_cast<char>(entry.type));
  put_le32(v, entry.tag);
  v.append(entry.data.view());
  return seal(entry_key(partition, entry.index), std::move(v));
}

std::string encode_hard_state(PartitionId partition, const raft::HardState& state) {
  std::string v = begin_value(24);
  put_le64(v, state.term);
  put_le64(v, state.vote);
  put_le64(v, state.commit);
  return seal(state_key(partition, StateKind::HardState), std::move(v));
}

std::string encode_snapshot(PartitionId partition, const raft::Snapshot& snapshot) {
  std::string v = begin_value(64 + snapshot.data.size());
  put_snapshot_meta(v, snapshot.meta);
  v.append(snapshot.data.view());
  return seal(state_key(partition, StateKind::Snapshot), std::move(v));
}

std::string encode_applied_floor(PartitionId partition, raft::Index floor) {
  std::string v = begin_value(8);
  put_le64(v, floor);
  return seal(state_key(partition, StateKind::AppliedFloor), std::move(v));
}

std::string encode_compaction(PartitionId partition, const CompactionPoint& point) {
  std::string v = begin_value(16);
  put_le64(v, point.index);
  put_le64(v, point.term);
  return seal(state_key(partition, StateKind::Compaction), std::move(v));
}

StorageStatus decode_entry(PartitionId partition, raft::Index index, std::string_view value,
                           raft::Entry& out) {
  return decode_entry_body(partition, index, value, out, true);
}

StorageStatus decode_entry_term(PartitionId partition, raft::Index index, std::string_view value,
                                raft::Term& out, raft::EntryType* type) {
  raft::Entry e;
  auto st = decode_entry_body(partition, index, value, e, false);
  if (st.ok()) {
    out = e.term;
    if (type) *type = e.type;
  }
  return st;
}

StorageStatus decode_hard_state(PartitionId partition, std::string_view value,
                                raft::HardState& out) {
  std::string_view body;
  auto st =
      open_value(state_key(partition, StateKind::HardState), value, body, partition, "hard state");
  if (!st.ok()) return st;
  ByteReader r(body);
  raft::HardState hs;
  if (!r.u64(hs.term) || !r.u64(hs.vote) || !r.u64(hs.commit) || !r.done()) {
    return malformed(partition, "hard state");
  }
  out = hs;
  return {};
}

StorageStatus decode_snapshot_meta(PartitionId partition, std::string_view value,
                                   raft::SnapshotMeta& out) {
  std::string_view body;
  auto st =
      open_value(state_key(partition, StateKind::Snapshot), value, body, partition, "snapshot");
  if (!st.ok()) return st;
  ByteReader r(body);
  raft::SnapshotMeta meta;
  if (!read_snapshot_meta(r, meta) || meta.index == 0 || meta.term == 0) {
    return malformed(partition, "snapshot");
  }
  out = std::move(meta);
  return {};
}

StorageStatus decode_snapshot(PartitionId partition, std::string_view value, raft::Snapshot& out) {
  std::string_view body;
  auto st =
      open_value(state_key(partition, StateKind::Snapshot), value, body, partition, "snapshot");
  if (!st.ok()) return st;
  ByteReader r(body);
  raft::Snapshot snap;
  if (!read_snapshot_meta(r, snap.meta) || snap.meta.index == 0 || snap.meta.term == 0) {
    return malformed(partition, "snapshot");
  }
  snap.data = raft::Bytes::copy_of(r.rest());
  out = std::move(snap);
  return {};
}

StorageStatus decode_applied_floor(PartitionId partition, std::string_view value,
                                   raft::Index& out) {
  std::string_view body;
  auto st = open_value(state_key(partition, StateKind::AppliedFloor), value, body, partition,
                       "applied floor");
  if (!st.ok()) return st;
  ByteReader r(body);
  raft::Index floor = 0;
  if (!r.u64(floor) || !r.done()) return malformed(partition, "applied floor");
  out = floor;
  return {};
}

StorageStatus decode_compaction(PartitionId partition, std::string_view value,
                                CompactionPoint& out) {
  std::string_view body;
  auto st = open_value(state_key(partition, StateKind::Compaction), value, body, partition,
                       "compaction point");
  if (!st.ok()) return st;
  ByteReader r(body);
  CompactionPoint point;
  if (!r.u64(point.index) || !r.u64(point.term) || !r.done()) {
    return malformed(partition, "compaction point");
  }
  out = point;
  return {};
}

}  // namespace synod::storage::records
