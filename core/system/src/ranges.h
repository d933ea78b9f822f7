// Relations between hash ranges, shared by apply() and check_invariants().
#pragma once

#include <cstdint>

#include "synod/system/types.h"

namespace synod::system {

inline bool overlaps(const HashRange& a, const HashRange& b) {
  return a.lo <= b.hi && b.lo <= a.hi;
}

// One range ends just below where the other starts (no wrap-around at the top).
inline bool adjacent(const HashRange& a, const HashRange& b) {
  constexpr std::uint64_t kTop = ~std::uint64_t{0};
  return (a.hi != kTop && a.hi + 1 == b.lo) || (b.hi != kTop && b.hi + 1 == a.lo);
}

}  // namespace synod::system
