#include "crc32c.h"

#include <array>
#include <cstring>

namespace synod::storage {
namespace {

constexpr std::uint32_t kPolynomial = 0x82f63b78;  // reflected Castagnoli polynomial

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kTable = make_table();

std::uint32_t extend_portable(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t extend_sse42(std::uint32_t crc,
                                                             const std::uint8_t* p, std::size_t n) {
  std::uint64_t c = crc;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

bool have_sse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

// The CRC register is linear over GF(2): running it over n zero bytes multiplies it by a
// fixed 32x32 bit matrix. A matrix is stored as its 32 columns (column i is the image of
// bit i).
using Gf2Matrix = std::array<std::uint32_t, 32>;

std::uint32_t gf2_apply(const Gf2Matrix& m, std::uint32_t v) {
  std::uint32_t out = 0;
  for (int i = 0; v != 0; ++i, v >>= 1) {
    if (v & 1) out ^= m[static_cast<std::size_t>(i)];
  }
  return out;
}

Gf2Matrix gf2_square(const Gf2Matrix& m) {
  Gf2Matrix out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = gf2_apply(m, m[i]);
  return out;
}

// The register advanced over `size` zero bytes, in O(log size) matrix squarings.
std::uint32_t shift_over_zeros(std::uint32_t reg, std::uint64_t size) {
  Gf2Matrix step{};  // one zero bit
  step[0] = kPolynomial;
  for (std::size_t i = 1; i < 32; ++i) step[i] = std::uint32_t{1} << (i - 1);
  for (int i = 0; i < 3; ++i) step = gf2_square(step);  // one zero byte
  for (; size != 0; size >>= 1) {
    if (size & 1) reg = gf2_apply(step, reg);
    step = gf2_square(step);
  }
  return reg;
}

}  // namespace

std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t size_b) {
  // crc32c_extend(c, B) differs from crc32c_extend(0, B) by c carried through |B| bytes:
  // the final and initial inversions cancel out between the two.
  return crc_b ^ shift_over_zeros(crc_a, size_b);
}

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  crc = have_sse42() ? extend_sse42(crc, p, size) : extend_portable(crc, p, size);
#else
  crc = extend_portable(crc, p, size);
#endif
  return ~crc;
}

}  // namespace synod::storage
