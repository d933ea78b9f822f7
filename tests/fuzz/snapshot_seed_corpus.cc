// Writes the seed corpus of snapshot_file_fuzzer into a directory, from the real encoder:
// files with empty and joint configurations, empty and non-empty data, a truncated file
// and a newer format version, each once as written and once to be sealed by the fuzzer.
// Run by the build (tests/fuzz/CMakeLists.txt). Usage: synod_snapshot_seed_corpus <directory>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crc32c.h"
#include "snapshot_file_format.h"
#include "snapshot_fuzz_input.h"

namespace synod::storage::fuzz {
namespace {

std::string file_of(PartitionId partition, const raft::SnapshotMeta& meta, const std::string& data) {
  const std::string header = snapshot_file::encode_header(partition, meta, data.size());
  return header + data +
         snapshot_file::encode_trailer(snapshot_file::file_checksum(header, crc32c(data), data.size()));
}

}  // namespace
}  // namespace synod::storage::fuzz

int main(int argc, char** argv) {
  using namespace synod::storage::fuzz;
  using synod::raft::SnapshotMeta;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  SnapshotMeta simple{.index = 7, .term = 2, .conf_state = {.voters = {1, 2, 3}}};
  SnapshotMeta joint{.index = ~std::uint64_t{0}, .term = 9,
                     .conf_state = {.voters = {1, 2, 4}, .voters_outgoing = {1, 2, 3},
                                    .learners = {5}, .learners_next = {3}, .auto_leave = true}};
  std::vector<std::pair<std::string, std::string>> files = {
      {"empty-data", file_of(1, simple, "")},
      {"small", file_of(2, simple, "key=value\n")},
      {"joint", file_of(~std::uint64_t{0}, joint, std::string(300, 'x'))},
  };
  files.push_back({"truncated", files[1].second.substr(0, files[1].second.size() - 3)});
  std::string newer = files[1].second;
  newer[8] = 2;  // the format version
  files.push_back({"newer-version", newer});
  int count = 0;
  for (const auto& [name, file] : files) {
    for (std::uint8_t control : {std::uint8_t{3}, std::uint8_t{kSnapshotSealBit | 16}}) {
      char prefix[8];
      std::snprintf(prefix, sizeof prefix, "%03d-", count++);
      std::ofstream out(dir / (prefix + name), std::ios::binary | std::ios::trunc);
      const std::string input = make_snapshot_input(control, file);
      out.write(input.data(), static_cast<std::streamsize>(input.size()));
      if (!out) {
        std::fprintf(stderr, "%s: cannot write %s\n", argv[0], (dir / name).c_str());
        return 1;
      }
    }
  }
  std::printf("%s: %d seeds in %s\n", argv[0], count, dir.c_str());
  return 0;
}
