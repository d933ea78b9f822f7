// Generation fencing across the life of a split and a merge.
#include "synod/system/fencing.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::system::testing {
namespace {

FenceResult result(FenceVerdict verdict, Generation current) { return {verdict, current}; }

TEST(SystemFence, AcceptsTheCurrentGenerationOrNone) {
  const SystemState s = bootstrapped(2);
  EXPECT_EQ(fence(s.map, 1, 1), result(FenceVerdict::Accept, 1));
  EXPECT_EQ(fence(s.map, 1, 0), result(FenceVerdict::Accept, 1));
  EXPECT_EQ(fence(s.map, kSystemPartition, 5), result(FenceVerdict::Accept, 0));
}

TEST(SystemFence, SplitFencesCallersOfTheSourceAtEveryStep) {
  SystemState s = bootstrapped(1);
  const PartitionId fresh = apply_ok(s, SplitBegin{0, 1, {}}).created;
  // The source keeps serving, under its new generation only.
  EXPECT_EQ(fence(s.map, 1, 1), result(FenceVerdict::StaleGeneration, 2));
  EXPECT_EQ(fence(s.map, 1, 2), result(FenceVerdict::Accept, 2));
  EXPECT_EQ(fence(s.map, fresh, 1), result(FenceVerdict::NotServing, 1));
  EXPECT_EQ(fence(s.map, fresh, 0), result(FenceVerdict::NotServing, 1));
  apply_ok(s, SplitComplete{0, fresh});
  EXPECT_EQ(fence(s.map, 1, 2), result(FenceVerdict::StaleGeneration, 3));
  EXPECT_EQ(fence(s.map, fresh, 1), result(FenceVerdict::StaleGeneration, 2));
  EXPECT_EQ(fence(s.map, fresh, 2), result(FenceVerdict::Accept, 2));
  // A newer generation than the partition's is as wrong as an older one.
  EXPECT_EQ(fence(s.map, fresh, 3), result(FenceVerdict::StaleGeneration, 2));
}

TEST(SystemFence, DrainingSourceRefusesEveryProposal) {
  SystemState s = bootstrapped(2);
  apply_ok(s, MergeBegin{0, 2, 1});
  EXPECT_EQ(fence(s.map, 2, 2), result(FenceVerdict::NotServing, 2));
  EXPECT_EQ(fence(s.map, 2, 0), result(FenceVerdict::NotServing, 2));
  EXPECT_EQ(fence(s.map, 1, 2), result(FenceVerdict::Accept, 2));
  apply_ok(s, MergeComplete{0, 2});
  EXPECT_EQ(fence(s.map, 2, 3), result(FenceVerdict::Removed, 3));
  EXPECT_EQ(fence(s.map, 1, 2), result(FenceVerdict::StaleGeneration, 3));
}

TEST(SystemFence, UnknownPartition) {
  const SystemState s = bootstrapped(2);
  EXPECT_EQ(fence(s.map, 3, 1), result(FenceVerdict::UnknownPartition, 0));
  EXPECT_EQ(fence(s.map, 3, 0), result(FenceVerdict::UnknownPartition, 0));
}

}  // namespace
}  // namespace synod::system::testing
