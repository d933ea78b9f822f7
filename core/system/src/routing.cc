#include "synod/system/routing.h"

#include <algorithm>
#include <bit>

namespace synod::system {
namespace {

// XXH64, written from its specification (xxhash_spec.md of the xxHash project): five
// 64-bit primes, four accumulators over 32-byte stripes for long inputs, then the tail
// in 8-, 4- and 1-byte steps, then a final avalanche.
constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

std::uint64_t read_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint64_t round_step(std::uint64_t acc, std::uint64_t lane) {
  acc += lane * kPrime2;
  acc = std::rotl(acc, 31);
  return acc * kPrime1;
}

std::uint64_t merge_step(std::uint64_t acc, std::uint64_t lane_acc) {
  acc ^= round_step(0, lane_acc);
  return acc * kPrime1 + kPrime4;
}

}  // namespace

std::uint64_t key_hash(std::string_view key) {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  std::size_t left = key.size();
  std::uint64_t h;
  if (left >= 32) {
    // Seed 0: the accumulators start from the primes alone.
    std::uint64_t acc[4] = {kPrime1 + kPrime2, kPrime2, 0, 0 - kPrime1};
    for (; left >= 32; left -= 32, p += 32) {
      for (int lane = 0; lane < 4; ++lane)
        acc[lane] = round_step(acc[lane], read_le(p + 8 * lane, 8));
    }
    h = std::rotl(acc[0], 1) + std::rotl(acc[1], 7) + std::rotl(acc[2], 12) + std::rotl(acc[3], 18);
    for (std::uint64_t a : acc) h = merge_step(h, a);
  } else {
    h = kPrime5;
  }
  h += key.size();
  for (; left >= 8; left -= 8, p += 8) {
    h ^= round_step(0, read_le(p, 8));
    h = std::rotl(h, 27) * kPrime1 + kPrime4;
  }
  if (left >= 4) {
    h ^= read_le(p, 4) * kPrime1;
    h = std::rotl(h, 23) * kPrime2 + kPrime3;
    left -= 4;
    p += 4;
  }
  for (; left > 0; --left, ++p) {
    h ^= *p * kPrime5;
    h = std::rotl(h, 11) * kPrime1;
  }
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

HashRange bootstrap_range(std::uint32_t i, std::uint32_t n) {
  using Wide = unsigned __int128;
  const Wide space = Wide{1} << 64;
  const auto lo = static_cast<std::uint64_t>(space * i / n);
  const auto hi = static_cast<std::uint64_t>(space * (i + Wide{1}) / n - 1);
  return {lo, hi};
}

Router::Router(const PartitionMap& map) : version_(map.version) {
  for (const auto& [id, p] : map.partitions) {
    if (routes_keys(p)) slots_.push_back({p.range, {id, p.generation, p.state}});
  }
  std::sort(slots_.begin(), slots_.end(),
            [](const Slot& a, const Slot& b) { return a.range.lo < b.range.lo; });
}

std::optional<Route> Router::route_hash(std::uint64_t hash) const {
  // The last slot starting at or below `hash`; it owns `hash` if it reaches that far.
  auto it = std::upper_bound(slots_.begin(), slots_.end(), hash,
                             [](std::uint64_t h, const Slot& s) { return h < s.range.lo; });
  if (it == slots_.begin()) return std::nullopt;
  --it;
  if (hash > it->range.hi) return std::nullopt;
  return it->route;
}

}  // namespace synod::system
