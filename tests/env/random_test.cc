#include "synod/env/random.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace synod::env {
namespace {

TEST(Random, SameSeedGivesTheSameSequence) {
  Random a(7);
  Random b(7);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(Random, DifferentSeedsDiverge) {
  Random a(7);
  Random b(8);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += a.next() == b.next();
  EXPECT_LT(equal, 2);
}

TEST(Random, SeedZeroStillProducesVariedOutput) {
  Random r(0);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(r.next());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Random, BelowStaysInRangeAndCoversIt) {
  Random r(1);
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const auto x = r.below(7);
    ASSERT_LT(x, 7u);
    ++hits[x];
  }
  for (int count : hits) EXPECT_GT(count, 800) << "a value is badly under-drawn";
}

TEST(Random, BetweenIncludesBothEnds) {
  Random r(2);
  bool saw_lo = false;
  bool saw_hi = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = r.between(10, 12);
    ASSERT_GE(x, 10u);
    ASSERT_LE(x, 12u);
    saw_lo |= x == 10;
    saw_hi |= x == 12;
  }
  EXPECT_TRUE(saw_lo && saw_hi);
  EXPECT_EQ(r.between(5, 5), 5u);
}

TEST(Random, UnitIsInTheHalfOpenInterval) {
  Random r(3);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = r.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(Random, ChanceHonoursItsExtremes) {
  Random r(4);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(r.chance(0.0));
    ASSERT_TRUE(r.chance(1.0));
  }
}

}  // namespace
}  // namespace synod::env
