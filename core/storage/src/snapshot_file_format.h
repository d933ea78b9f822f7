// The snapshot file format, one implementation for every SnapshotStore.
//
//   header   magic "SYNODSNP" (8 bytes) · format version (u32) · header size (u32, all of
//            the header) · partition (u64) · data size (u64) · snapshot metadata (index,
//            term, configuration, encoded as in records.h) · CRC32C of the header so far
//            (u32)
//   data     the host's bytes
//   trailer  CRC32C of the header and the data (u32)
// Numbers are little-endian. The header has its own checksum so that a receiver can trust
// the partition and the size it declares (and refuse early) before the data arrives; the
// trailer's covers everything before it. The magic, version and header size stay where
// they are in every version, as does the header checksum at the header's end, so a newer
// file whose header checks out is recognised as Unsupported, a damaged one as Corruption.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "synod/raft/types.h"
#include "synod/storage/snapshot_store.h"
#include "synod/storage/status.h"

namespace synod::storage::snapshot_file {

inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kTrailerBytes = 4;
// Bounds a header's declared size before anything is allocated for it: far above any real
// configuration (64 Ki node ids in each list).
inline constexpr std::uint32_t kMaxHeaderBytes = 4 * 8 * 65536 + 1024;

// The header of a file holding `data_bytes` bytes of host data. Its size depends only on
// the configuration, so a writer can reserve it before the data size is known.
std::string encode_header(PartitionId partition, const raft::SnapshotMeta& meta,
                          std::uint64_t data_bytes);

// The trailer's checksum, from the header and the CRC32C (from 0) of the data alone.
std::uint32_t file_checksum(std::string_view header, std::uint32_t data_crc,
                            std::uint64_t data_bytes);
std::string encode_trailer(std::uint32_t checksum);

// Checks a whole file fed to it front to back in pieces of any size, holding no more than
// the header: it decodes the header as soon as it is complete, then keeps a running
// checksum. A stream that cannot be a valid file fails at the first byte that shows it.
class FileChecker {
 public:
  // Corruption (or Unsupported for a newer format) once the bytes so far cannot begin a
  // valid file; after a failure every call returns that failure.
  StorageStatus feed(const void* data, std::size_t size);
  // Set once the header has been fed and checked; `file_bytes` is the whole file's size.
  const std::optional<SnapshotInfo>& header() const { return info_; }
  std::uint64_t fed() const { return fed_; }
  // The file is complete: as long as its header says and its trailer matches.
  StorageStatus finish();

 private:
  StorageStatus fail(StorageStatus status);
  StorageStatus take_header();

  StorageStatus failed_;
  std::string head_;  // the header, while it is incomplete
  std::uint64_t header_bytes_ = 0;
  std::optional<SnapshotInfo> info_;
  std::uint32_t crc_ = 0;  // of the header and the data fed so far
  std::string trailer_;
  std::uint64_t fed_ = 0;
};

// "snap-<index>-<term>.snap", both 20 digits, so names sort by index.
std::string file_name(const raft::SnapshotMeta& meta);
// Whether `name` is such a name; sets index and term.
bool parse_file_name(std::string_view name, raft::Index& index, raft::Term& term);

}  // namespace synod::storage::snapshot_file
