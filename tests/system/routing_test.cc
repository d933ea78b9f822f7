// Key routing: the hash and the bootstrap ranges against bindings/routing_vectors.json
// (whose hashes come from the reference xxHash library), and the Router's lookups.
#include "synod/system/routing.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace synod::system::testing {
namespace {

struct RangeVector {
  std::uint32_t partitions;
  std::uint32_t index;
  std::uint64_t lo;
  std::uint64_t hi;
};
struct KeyVector {
  const char* key_hex;
  std::uint64_t hash;
  std::vector<std::pair<std::uint32_t, PartitionId>> partition_by_count;
};
struct BoundaryVector {
  std::uint32_t partitions;
  std::uint64_t hash;
  PartitionId partition;
};

#include "routing_vectors.inc"

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(SystemRouting, BootstrapRangesMatchTheVectors) {
  ASSERT_GT(std::size(kRangeVectors), 0u);
  for (const RangeVector& v : kRangeVectors) {
    EXPECT_EQ(bootstrap_range(v.index, v.partitions), (HashRange{v.lo, v.hi}))
        << v.index << " of " << v.partitions;
  }
}

TEST(SystemRouting, KeyHashesAndPartitionsMatchTheVectors) {
  ASSERT_GT(std::size(kKeyVectors), 50u);
  for (const KeyVector& v : kKeyVectors) {
    const std::string key = from_hex(v.key_hex);
    EXPECT_EQ(key_hash(key), v.hash) << "key " << v.key_hex;
    for (const auto& [count, want] : v.partition_by_count) {
      const SystemState s = bootstrapped(count);
      const auto route = Router(s.map).route(key);
      ASSERT_TRUE(route.has_value());
      EXPECT_EQ(route->partition, want) << "key " << v.key_hex << ", " << count << " partitions";
      EXPECT_EQ(route->generation, 1u);
    }
  }
}

TEST(SystemRouting, BoundaryHashesMatchTheVectors) {
  ASSERT_GT(std::size(kBoundaryVectors), 0u);
  for (const BoundaryVector& v : kBoundaryVectors) {
    const SystemState s = bootstrapped(v.partitions);
    const auto route = Router(s.map).route_hash(v.hash);
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->partition, v.partition) << std::hex << v.hash << " of " << v.partitions;
  }
}

TEST(SystemRouting, GapsRouteNowhereAndSplittingPartitionsAreNotRouted) {
  SystemState s = bootstrapped(0);
  apply_ok(s, CreatePartition{0, RoutingMode::HashRange, {100, 199}});
  apply_ok(s, CreatePartition{0, RoutingMode::HashRange, {300, 300}});
  apply_ok(s, CreatePartition{0, RoutingMode::Unrouted, {}});
  const Router r(s.map);
  EXPECT_EQ(r.map_version(), s.map.version);
  EXPECT_FALSE(r.route_hash(0).has_value());
  EXPECT_FALSE(r.route_hash(99).has_value());
  EXPECT_EQ(r.route_hash(100)->partition, 1u);
  EXPECT_EQ(r.route_hash(199)->partition, 1u);
  EXPECT_FALSE(r.route_hash(200).has_value());
  EXPECT_EQ(r.route_hash(300)->partition, 2u);
  EXPECT_FALSE(r.route_hash(301).has_value());
  EXPECT_FALSE(r.route_hash(~std::uint64_t{0}).has_value());

  apply_ok(s, SplitBegin{0, 1, 150});
  const Router during(s.map);
  EXPECT_EQ(during.route_hash(150), (Route{1, 2, PartitionState::Active}));
}

}  // namespace
}  // namespace synod::system::testing
