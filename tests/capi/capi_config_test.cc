// A configuration shared by threads: synod.h lets every function run on any thread at
// once, so one thread may change a configuration while another makes nodes from it.
#include <cstdint>
#include <thread>

#include "capi_harness.h"

namespace synod::capi_test {
namespace {

// Each node is made from the configuration as it stood before or after a change, never
// from one half-changed. Under ThreadSanitizer, synod_node_new reading the member list
// while synod_config_add_member grew it was reported as a data race.
TEST(CapiConfig, MayChangeWhileAnotherThreadMakesNodesFromIt) {
  // Two members and no transport: every synod_node_new reads the members and refuses.
  ConfigPtr c = fast_config(1, {1, 2});
  std::thread changer([&] {
    for (std::uint64_t id = 3; id < 300; ++id) {
      EXPECT_EQ(synod_config_add_member(c.get(), id), SYNOD_OK);
    }
  });
  for (int i = 0; i < 300; ++i) {
    synod_node* n = nullptr;
    EXPECT_EQ(synod_node_new(c.get(), &n), SYNOD_E_CONFIG) << synod_last_error();
    EXPECT_EQ(n, nullptr);
  }
  changer.join();
}

}  // namespace
}  // namespace synod::capi_test
