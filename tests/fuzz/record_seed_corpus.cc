// Writes the seed corpus of record_decode_fuzzer into a directory, from the real encoders:
// every record kind, each once as stored (checksum included) and once as a body for the
// fuzzer to seal, plus keys of both spaces. Run by the build (tests/fuzz/CMakeLists.txt).
// Usage: synod_record_seed_corpus <directory>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "record_fuzz_input.h"
#include "records.h"

namespace synod::storage::fuzz {
namespace {

constexpr PartitionId kMaxPartition = ~PartitionId{0};
constexpr raft::Index kMaxIndex = ~raft::Index{0};

class SeedWriter {
 public:
  explicit SeedWriter(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // One value as stored, and once without its checksum with the seal bit.
  void value(std::string_view name, SealKind kind, PartitionId partition, raft::Index index,
             const std::string& stored) {
    write(std::string(name) + "-stored", static_cast<std::uint8_t>(kind), partition, index, stored);
    write(std::string(name) + "-sealed", static_cast<std::uint8_t>(kind) | kSealBit, partition,
          index, std::string_view(stored).substr(4));
  }

  void key(std::string_view name, PartitionId partition, raft::Index index,
           const std::string& key) {
    write(std::string(name), 0, partition, index, key);
  }

  bool ok() const { return ok_; }
  int count() const { return count_; }

 private:
  void write(const std::string& name, std::uint8_t selector, PartitionId partition,
             raft::Index index, std::string_view payload) {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%03d-", count_++);
    const std::filesystem::path path = dir_ / (prefix + name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const std::string input = make_input(selector, partition, index, payload);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
    out.close();
    if (!out) {
      std::fprintf(stderr, "synod_record_seed_corpus: cannot write %s\n", path.c_str());
      ok_ = false;
    }
  }

  std::filesystem::path dir_;
  int count_ = 0;
  bool ok_ = true;
};

raft::Entry entry(raft::Index index, raft::Term term, raft::EntryType type, std::uint32_t tag,
                  std::string data) {
  raft::Entry e;
  e.index = index;
  e.term = term;
  e.type = type;
  e.tag = tag;
  e.data = raft::Bytes(std::move(data));
  return e;
}

raft::Snapshot snapshot(raft::Index index, raft::Term term, raft::ConfState conf,
                        std::string data) {
  raft::Snapshot s;
  s.meta.index = index;
  s.meta.term = term;
  s.meta.conf_state = std::move(conf);
  s.data = raft::Bytes(std::move(data));
  return s;
}

void write_seeds(SeedWriter& w) {
  using raft::EntryType;
  using records::StateKind;

  const raft::Entry entries[] = {
      entry(1, 1, EntryType::Normal, 0, ""),
      entry(42, 7, EntryType::ConfChange, 0xdeadbeef, std::string("payload\0with zero", 17)),
      entry(kMaxIndex, ~raft::Term{0}, EntryType::Normal, 3, std::string(300, 'x')),
  };
  const PartitionId entry_partitions[] = {0, 5, kMaxPartition};
  for (int i = 0; i < 3; ++i) {
    w.value("entry-" + std::to_string(i), SealKind::Entry, entry_partitions[i], entries[i].index,
            records::encode_entry(entry_partitions[i], entries[i]));
  }

  const raft::HardState states[] = {{0, 0, 0}, {3, 2, 1}, {~raft::Term{0}, 9, kMaxIndex}};
  for (int i = 0; i < 3; ++i) {
    w.value("hard-state-" + std::to_string(i), SealKind::HardState, 5, 0,
            records::encode_hard_state(5, states[i]));
  }

  raft::ConfState single;
  single.voters = {1};
  raft::ConfState joint;
  joint.voters = {1, 2, 3};
  joint.voters_outgoing = {1, 2, 4};
  joint.learners = {5};
  joint.learners_next = {4};
  joint.auto_leave = true;
  const raft::Snapshot snapshots[] = {
      snapshot(1, 1, {}, ""),
      snapshot(100, 9, single, "host state"),
      snapshot(kMaxIndex, 12, joint, std::string(64, '\0')),
  };
  for (int i = 0; i < 3; ++i) {
    w.value("snapshot-" + std::to_string(i), SealKind::Snapshot, 7, 0,
            records::encode_snapshot(7, snapshots[i]));
  }

  w.value("applied-floor-0", SealKind::AppliedFloor, 0, 0, records::encode_applied_floor(0, 0));
  w.value("applied-floor-1", SealKind::AppliedFloor, 5, 0, records::encode_applied_floor(5, 77));
  w.value("compaction-0", SealKind::Compaction, 5, 0, records::encode_compaction(5, {10, 2}));
  w.value("compaction-1", SealKind::Compaction, kMaxPartition, 0,
          records::encode_compaction(kMaxPartition, {kMaxIndex, 3}));

  w.key("key-entry", 5, 42, records::entry_key(5, 41));
  w.key("key-state", 5, 2, records::state_key(6, StateKind::Snapshot));
  w.key("key-prefix", 5, 0, records::partition_prefix(5));
}

}  // namespace
}  // namespace synod::storage::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(argv[1], ec);
  if (ec) {
    std::fprintf(stderr, "synod_record_seed_corpus: cannot create %s: %s\n", argv[1],
                 ec.message().c_str());
    return 1;
  }
  synod::storage::fuzz::SeedWriter writer(argv[1]);
  synod::storage::fuzz::write_seeds(writer);
  if (!writer.ok()) return 1;
  std::printf("synod_record_seed_corpus: %d seeds in %s\n", writer.count(), argv[1]);
  return 0;
}
