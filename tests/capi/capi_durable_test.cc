// Restarting a node from its data directory through the C ABI: entries at or below the
// reported applied floor are not delivered again; those above it are.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "capi_harness.h"

namespace synod::capi_test {
namespace {

class CapiDurable : public ::testing::TestWithParam<const char*> {};

TEST_P(CapiDurable, RestartRedeliversOnlyAboveTheAppliedFloor) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("synod-capi-durable-" + std::string(GetParam()) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto config = [&] {
    ConfigPtr c = fast_config(1, {1});
    EXPECT_EQ(synod_config_set_storage(c.get(), GetParam(), dir.c_str()), SYNOD_OK);
    return c;
  };
  std::uint64_t indexes[5] = {};
  {
    ConfigPtr c = config();
    PolledNode n(make_node(c.get()));
    std::uint64_t leader = 0;
    ASSERT_EQ(synod_node_wait_for_leader(n.get(), 1, 20000, &leader), SYNOD_OK);
    for (int i = 0; i < 5; ++i) {
      const std::string payload = "entry-" + std::to_string(i);
      synod_result r{};
      ASSERT_EQ(synod_node_replicate_wait(n.get(), 1, 1, reinterpret_cast<const std::uint8_t*>(payload.data()),
                                          payload.size(), &r),
                SYNOD_OK)
          << synod_last_error();
      indexes[i] = r.index;
    }
    ASSERT_TRUE(n.poll_until([](const auto& events) {
      int entries = 0;
      for (const auto& e : events) entries += e.raw.type == SYNOD_EVENT_ENTRY;
      return entries == 5;
    }));
    ASSERT_EQ(synod_node_report_applied(n.get(), 1, indexes[2]), SYNOD_OK) << synod_last_error();
  }
  ConfigPtr c = config();
  PolledNode n(make_node(c.get()));
  ASSERT_TRUE(n.poll_until([](const auto& events) {
    int entries = 0;
    for (const auto& e : events) entries += e.raw.type == SYNOD_EVENT_ENTRY;
    return entries >= 2;
  }));
  const auto entries = n.of_type(SYNOD_EVENT_ENTRY);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].raw.index, indexes[3]);
  EXPECT_EQ(entries[0].data, "entry-3");
  EXPECT_EQ(entries[1].raw.index, indexes[4]);
  EXPECT_EQ(entries[1].data, "entry-4");
  n.reset();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Engines, CapiDurable, ::testing::Values("rocksdb", "sqlite"));

}  // namespace
}  // namespace synod::capi_test
