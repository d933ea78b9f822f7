// CRC32C (Castagnoli), the checksum on every stored record. Uses the SSE4.2 instruction
// when the processor has it and a table otherwise; both give the same values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synod::storage {

// Extends `crc` (the value returned for the bytes so far, 0 to start) over `data`.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);
// The CRC of A followed by B, from the CRC of A, the CRC of B (from 0) and B's length,
// without the bytes: a snapshot's header is known only after its data has streamed by.
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t size_b);
inline std::uint32_t crc32c(std::string_view data) {
  return crc32c_extend(0, data.data(), data.size());
}

}  // namespace synod::storage
