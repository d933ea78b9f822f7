// The input layout of record_decode_fuzzer, shared with the seed corpus generator.
//
//   selector (1 byte) · partition (8 bytes BE) · index (8 bytes BE) · payload
//
// An input shorter than the 17-byte header reads as if padded with zero bytes. Every input
// parses the payload as a key of both key spaces and hands a value to every decoder, under
// the header's partition and index:
//   - selector without kSealBit: the value is the payload, checksum included, as stored;
//   - selector with kSealBit: the payload is a value without its checksum (version · body),
//     sealed first with the right CRC32C for the record kind (selector & 0x7f) %
//     kSealKinds, so that the body parsers are reached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "synod/raft/types.h"
#include "synod/storage/log_store.h"

namespace synod::storage::fuzz {

inline constexpr std::size_t kInputHeaderSize = 17;
inline constexpr std::uint8_t kSealBit = 0x80;

// The record kinds a payload can be sealed as.
enum class SealKind : std::uint8_t {
  Entry = 0,
  HardState = 1,
  Snapshot = 2,
  AppliedFloor = 3,
  Compaction = 4,
};
inline constexpr std::uint8_t kSealKinds = 5;

struct Input {
  std::uint8_t selector = 0;
  PartitionId partition = 0;
  raft::Index index = 0;
  std::string_view payload;

  bool sealed() const { return (selector & kSealBit) != 0; }
  SealKind seal_kind() const { return static_cast<SealKind>((selector & 0x7f) % kSealKinds); }
};

inline Input parse_input(const std::uint8_t* data, std::size_t size) {
  std::uint8_t header[kInputHeaderSize] = {};
  for (std::size_t i = 0; i < kInputHeaderSize && i < size; ++i) header[i] = data[i];
  Input in;
  in.selector = header[0];
  for (std::size_t i = 1; i < 9; ++i) in.partition = (in.partition << 8) | header[i];
  for (std::size_t i = 9; i < kInputHeaderSize; ++i) in.index = (in.index << 8) | header[i];
  if (size > kInputHeaderSize) {
    in.payload = std::string_view(reinterpret_cast<const char*>(data) + kInputHeaderSize,
                                  size - kInputHeaderSize);
  }
  return in;
}

inline std::string make_input(std::uint8_t selector, PartitionId partition, raft::Index index,
                              std::string_view payload) {
  std::string out;
  out.reserve(kInputHeaderSize + payload.size());
  out.push_back(static_cast<char>(selector));
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(partition >> shift));
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(index >> shift));
  out.append(payload);
  return out;
}

}  // namespace synod::storage::fuzz
