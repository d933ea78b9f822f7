// How much log a node holds and what its data directory takes on disk: the benchmarks
// report both, to show that snapshots keep a log bounded.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>

#include "synod/node/node_host.h"

namespace synod::bench {

struct LogExtent {
  std::uint64_t entries = 0;  // held in the log, over every partition
  // The lowest and highest first index of the user partitions' logs (each above its
  // snapshot); the system partition's few entries seldom reach a snapshot.
  node::Index first_min = 0;
  node::Index first_max = 0;
};

inline LogExtent log_extent(const node::NodeHost& host) {
  LogExtent e;
  e.first_min = std::numeric_limits<node::Index>::max();
  for (const auto& ps : host.status()) {
    if (!ps.storage_error.empty()) continue;
    const auto& r = ps.raft;
    if (r.last_index + 1 > r.first_index) e.entries += r.last_index + 1 - r.first_index;
    if (ps.partition == node::kSystemPartition) continue;
    e.first_min = std::min(e.first_min, r.first_index);
    e.first_max = std::max(e.first_max, r.first_index);
  }
  if (e.first_min > e.first_max) e.first_min = 0;
  return e;
}

// Bytes the files under `path` occupy on disk (allocated blocks, as du counts them); 0
// for a directory that does not exist. Files that vanish while counted are skipped:
// the store deletes files as it compacts.
inline std::uint64_t directory_bytes(const std::string& path) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(path, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
  }
  return bytes;
}

}  // namespace synod::bench
