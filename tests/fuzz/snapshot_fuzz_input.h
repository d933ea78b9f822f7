// The input layout of snapshot_file_fuzzer, shared with its seed corpus generator.
//
//   control (1 byte) · file bytes
//
// The low six bits of the control byte, plus one, are the size of the pieces the file is
// fed to a FileChecker in (the same file is also fed whole, and one byte at a time). With
// kSealBit set, the file's checksums are made right first (the header's, where the header
// declares its end, and the trailer's where the header's data size puts it), so that the fuzzer gets
// past them to the header's fields and the size checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "byte_codec.h"
#include "crc32c.h"

namespace synod::storage::fuzz {

inline constexpr std::uint8_t kSnapshotSealBit = 0x80;
inline constexpr std::uint8_t kPieceMask = 0x3f;

// Offsets every format version keeps: the header's declared size follows the magic and
// the version, and the header's checksum ends it.
inline constexpr std::size_t kHeaderSizeAt = 12;
// Version 1 puts the partition after them, then the size of the host's data.
inline constexpr std::size_t kDataSizeAt = 24;

// Rewrites the checksums of `file` as a writer would have computed them: the header's,
// and the trailer's where the header puts it (as much of it as the file holds, so that a
// file cut inside its trailer still has the right leading bytes there).
inline void seal(std::string& file) {
  if (file.size() < kDataSizeAt + 8) return;
  const std::uint64_t header = get_le32(std::string_view(file).substr(kHeaderSizeAt));
  if (header < 4 || header > file.size()) return;
  const std::uint32_t header_crc = crc32c(std::string_view(file).substr(0, header - 4));
  for (int i = 0; i < 4; ++i) file[header - 4 + i] = static_cast<char>(header_crc >> (8 * i));
  const std::uint64_t data = get_le64(std::string_view(file).substr(kDataSizeAt));
  if (data > file.size() - header) return;
  const std::uint64_t trailer = header + data;
  const std::uint32_t crc = crc32c(std::string_view(file).substr(0, trailer));
  for (std::uint64_t i = 0; i < 4 && trailer + i < file.size(); ++i) {
    file[trailer + i] = static_cast<char>(crc >> (8 * i));
  }
}

inline std::string make_snapshot_input(std::uint8_t control, std::string_view file) {
  std::string input(1, static_cast<char>(control));
  input.append(file);
  return input;
}

}  // namespace synod::storage::fuzz
