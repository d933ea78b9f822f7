// The partition map through the C ABI: create and remove partitions on a three-node
// cluster, read the map as JSON, route keys, and every refusal and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "capi_harness.h"
#include "synod.h"

namespace synod::capi_test {
namespace {

std::string map_json(synod_node* n) {
  char* json = nullptr;
  size_t len = 0;
  EXPECT_EQ(synod_node_partition_map_json(n, &json, &len), SYNOD_OK) << synod_last_error();
  std::string out(json ? json : "", len);
  synod_free(json);
  return out;
}

// The "version" member of a map's JSON (the first member).
std::uint64_t map_version(synod_node* n) {
  const std::string json = map_json(n);
  const auto at = json.find("\"version\":");
  EXPECT_NE(at, std::string::npos) << json;
  return std::strtoull(json.c_str() + at + 10, nullptr, 10);
}

bool hosts(synod_node* n, std::uint64_t partition) {
  std::vector<std::uint64_t> ids(64);
  size_t count = 0;
  EXPECT_EQ(synod_node_partitions(n, ids.data(), ids.size(), &count), SYNOD_OK);
  ids.resize(std::min<size_t>(count, ids.size()));
  return std::find(ids.begin(), ids.end(), partition) != ids.end();
}

const std::uint8_t* key(const char* text) { return reinterpret_cast<const std::uint8_t*>(text); }

class CapiPartitionMap : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_id = cluster.await_leader(0);
    ASSERT_NE(leader_id, 0u);
  }
  PolledNode& leader() { return cluster.node(leader_id); }
  PolledNode& follower() { return cluster.node(leader_id % 3 + 1); }
  // The result event with `tag`, polled for on the leader.
  static const Event* map_result(const PolledNode& n, std::uint64_t tag) {
    for (const Event& e : n.events()) {
      if (e.raw.type == SYNOD_EVENT_PARTITION_MAP && e.raw.tag == tag) return &e;
    }
    return nullptr;
  }
  Event await_result(std::uint64_t tag) {
    EXPECT_TRUE(leader().poll_until(
        [&](const std::vector<Event>&) { return map_result(leader(), tag) != nullptr; }));
    const Event* e = map_result(leader(), tag);
    return e ? *e : Event{};
  }

  Cluster cluster{2};
  std::uint64_t leader_id = 0;
};

TEST_F(CapiPartitionMap, BootstrapMapAndRouting) {
  const std::string json = map_json(leader().get());
  EXPECT_NE(json.find("\"version\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"next_id\":3"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"id\":1,\"state\":\"active\",\"mode\":\"hash_range\",\"lo\":0,"
                      "\"hi\":9223372036854775807,\"generation\":1,\"peer\":0}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"lo\":9223372036854775808,\"hi\":18446744073709551615"), std::string::npos)
      << json;

  // bindings/routing_vectors.json: the empty key hashes to ef46db3751d8e999 (partition 2
  // of 2), "a" to d24ec4f1a98c6e5b.
  std::uint64_t hash = 0;
  ASSERT_EQ(synod_key_hash(nullptr, 0, &hash), SYNOD_OK);
  EXPECT_EQ(hash, 0xef46db3751d8e999ull);
  ASSERT_EQ(synod_key_hash(key("a"), 1, &hash), SYNOD_OK);
  EXPECT_EQ(hash, 0xd24ec4f1a98c6e5bull);

  std::uint64_t partition = 0, generation = 0;
  int state = -1;
  ASSERT_EQ(synod_node_route(follower().get(), nullptr, 0, &partition, &generation, &state),
            SYNOD_OK)
      << synod_last_error();
  EXPECT_EQ(partition, 2u);
  EXPECT_EQ(generation, 1u);
  EXPECT_EQ(state, SYNOD_PARTITION_ACTIVE);
  ASSERT_EQ(synod_node_route_hash(leader().get(), 0x7fffffffffffffffull, &partition, &generation,
                                  nullptr),
            SYNOD_OK);
  EXPECT_EQ(partition, 1u);
  ASSERT_EQ(synod_node_route_hash(leader().get(), 0x8000000000000000ull, &partition, &generation,
                                  nullptr),
            SYNOD_OK);
  EXPECT_EQ(partition, 2u);
}

TEST_F(CapiPartitionMap, CreateAndRemoveAnUnroutedPartition) {
  const std::uint64_t version = map_version(leader().get());
  ASSERT_EQ(synod_node_create_partition(leader().get(), SYNOD_ROUTING_UNROUTED, 5, 3, version, 7),
            SYNOD_OK)
      << synod_last_error();
  const Event created = await_result(7);
  ASSERT_EQ(created.raw.type, SYNOD_EVENT_PARTITION_MAP);
  ASSERT_EQ(created.raw.status, SYNOD_OK);
  EXPECT_EQ(created.raw.partition, 3u);
  EXPECT_EQ(created.raw.term, version + 1);
  EXPECT_GT(created.raw.index, 0u);
  EXPECT_EQ(created.raw.entry_type, static_cast<std::uint32_t>(SYNOD_MAP_OK));
  EXPECT_TRUE(created.data.empty());

  // Every node applies the change and runs the new partition.
  for (std::uint64_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(cluster.node(id).poll_until([&](const std::vector<Event>&) {
      return hosts(cluster.node(id).get(), 3) && map_version(cluster.node(id).get()) == version + 1;
    })) << "node "
        << id;
  }
  EXPECT_NE(map_json(follower().get()).find("{\"id\":3,\"state\":\"active\",\"mode\":\"unrouted\""),
            std::string::npos);
  ASSERT_NE(cluster.await_leader(3), 0u);

  // A stale version is refused by the map, with the reason.
  ASSERT_EQ(synod_node_remove_partition(leader().get(), 3, version, 8), SYNOD_OK);
  const Event stale = await_result(8);
  EXPECT_EQ(stale.raw.status, SYNOD_E_STALE_MAP_VERSION);
  EXPECT_EQ(stale.raw.entry_type, static_cast<std::uint32_t>(SYNOD_MAP_STALE_MAP_VERSION));
  EXPECT_EQ(stale.raw.term, version + 1);
  EXPECT_EQ(stale.raw.partition, 3u);
  EXPECT_EQ(stale.data, "stale map version");

  ASSERT_EQ(synod_node_remove_partition(leader().get(), 3, version + 1, 9), SYNOD_OK);
  const Event removed = await_result(9);
  ASSERT_EQ(removed.raw.status, SYNOD_OK);
  EXPECT_EQ(removed.raw.partition, 3u);
  EXPECT_EQ(removed.raw.term, version + 2);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(cluster.node(id).poll_until([&](const std::vector<Event>&) {
      return !hosts(cluster.node(id).get(), 3);
    })) << "node "
        << id;
  }
  EXPECT_NE(map_json(leader().get()).find("{\"id\":3,\"state\":\"removed\""), std::string::npos);

  // Removing it again: unknown to the map now (removed), nothing changed.
  ASSERT_EQ(synod_node_remove_partition(leader().get(), 3, 0, 10), SYNOD_OK);
  const Event again = await_result(10);
  EXPECT_EQ(again.raw.status, SYNOD_E_UNKNOWN_PARTITION);
  EXPECT_EQ(again.raw.entry_type, static_cast<std::uint32_t>(SYNOD_MAP_PARTITION_REMOVED));
  EXPECT_EQ(again.raw.term, version + 2);
}

TEST_F(CapiPartitionMap, MapRefusalsCarryTheirReason) {
  // Overlapping the bootstrap ranges.
  ASSERT_EQ(synod_node_create_partition(leader().get(), SYNOD_ROUTING_HASH_RANGE, 10, 20, 0, 1),
            SYNOD_OK);
  const Event overlap = await_result(1);
  EXPECT_EQ(overlap.raw.status, SYNOD_E_MAP_CONFLICT);
  EXPECT_EQ(overlap.raw.entry_type, static_cast<std::uint32_t>(SYNOD_MAP_OVERLAPPING));
  EXPECT_EQ(overlap.raw.partition, 0u);
  EXPECT_EQ(overlap.raw.term, 1u);
  // A hash-range partition cannot be removed (merge it instead).
  ASSERT_EQ(synod_node_remove_partition(leader().get(), 1, 0, 2), SYNOD_OK);
  const Event routed = await_result(2);
  EXPECT_EQ(routed.raw.status, SYNOD_E_MAP_CONFLICT);
  EXPECT_EQ(routed.raw.entry_type, static_cast<std::uint32_t>(SYNOD_MAP_ROUTED_PARTITION));
  // An id never handed out.
  ASSERT_EQ(synod_node_remove_partition(leader().get(), 77, 0, 3), SYNOD_OK);
  EXPECT_EQ(await_result(3).raw.status, SYNOD_E_UNKNOWN_PARTITION);
  EXPECT_EQ(map_version(leader().get()), 1u);

  // A follower refuses at once, naming the leader; no event follows.
  EXPECT_EQ(synod_node_create_partition(follower().get(), SYNOD_ROUTING_UNROUTED, 0, 0, 0, 4),
            SYNOD_E_NOT_LEADER);
  EXPECT_NE(std::string(synod_last_error()).find("synod_node_create_partition"), std::string::npos)
      << synod_last_error();
  follower().drain();
  EXPECT_EQ(map_result(follower(), 4), nullptr);
}

TEST(CapiPartitionMapInput, BadInputIsRefused) {
  std::uint64_t partition = 9, generation = 9, hash = 9;
  int state = 9;
  char* json = reinterpret_cast<char*>(1);
  EXPECT_EQ(synod_node_create_partition(nullptr, SYNOD_ROUTING_UNROUTED, 0, 0, 0, 1),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_remove_partition(nullptr, 3, 0, 1), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_partition_map_json(nullptr, &json, nullptr), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(json, nullptr);
  EXPECT_EQ(synod_node_route(nullptr, key("a"), 1, &partition, &generation, &state),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(partition, 0u);
  EXPECT_EQ(generation, 0u);
  EXPECT_EQ(state, 0);
  EXPECT_EQ(synod_node_route_hash(nullptr, 1, &partition, &generation, nullptr),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_key_hash(nullptr, 1, &hash), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_key_hash(key("a"), 1, nullptr), SYNOD_E_INVALID_ARGUMENT);

  ConfigPtr c = fast_config(1, {1});
  PolledNode n(make_node(c.get()));
  std::uint64_t leader = 0;
  ASSERT_EQ(synod_node_wait_for_leader(n.get(), 0, 20000, &leader), SYNOD_OK);
  EXPECT_EQ(synod_node_partition_map_json(n.get(), nullptr, nullptr), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_route(n.get(), nullptr, 1, &partition, &generation, nullptr),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_route(n.get(), key("a"), 1, nullptr, &generation, nullptr),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_route_hash(n.get(), 1, &partition, nullptr, nullptr),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_create_partition(n.get(), 2, 0, 0, 0, 1), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(synod_last_error()).find("unknown routing mode 2"), std::string::npos);
  EXPECT_EQ(synod_node_create_partition(n.get(), SYNOD_ROUTING_HASH_RANGE, 5, 4, 0, 1),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(synod_last_error()).find("above hi"), std::string::npos);
  EXPECT_EQ(synod_node_remove_partition(n.get(), 0, 0, 1), SYNOD_E_SYSTEM_PARTITION);
  n.drain();
  EXPECT_TRUE(n.of_type(SYNOD_EVENT_PARTITION_MAP).empty());
  ASSERT_EQ(synod_node_stop(n.get()), SYNOD_OK);
  EXPECT_EQ(synod_node_create_partition(n.get(), SYNOD_ROUTING_UNROUTED, 0, 0, 0, 1),
            SYNOD_E_SHUTTING_DOWN);
  EXPECT_EQ(synod_node_remove_partition(n.get(), 1, 0, 1), SYNOD_E_SHUTTING_DOWN);
  // Reads still answer on a stopped node.
  EXPECT_NE(map_json(n.get()).find("\"version\":1"), std::string::npos);
}

}  // namespace
}  // namespace synod::capi_test
