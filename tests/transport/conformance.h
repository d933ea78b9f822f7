// The transport conformance suite: behaviour every Transport must show, written once and
// run against each implementation through a harness.
//
// To add a transport, implement TransportHarness for it and instantiate the suite:
//   INSTANTIATE_TEST_SUITE_P(Grpc, TransportConformance,
//                            ::testing::Values(HarnessFactory{"grpc", make_grpc_harness}),
//                            harness_name);
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "synod/env/clock.h"
#include "synod/transport/transport.h"

namespace synod::transport::testing {

// The snapshot chunk size harnesses give their endpoints: small, so that a snapshot of a
// few MiB takes many chunks.
inline constexpr std::size_t kConformanceChunkBytes = 64 << 10;

// Makes endpoints that can reach one another and lets time pass for them.
class TransportHarness {
 public:
  virtual ~TransportHarness() = default;
  // A new endpoint for node `self` of `cluster`, not started. Every endpoint made by one
  // harness can address every other one by node id, whatever its cluster.
  virtual std::unique_ptr<Transport> make(ClusterId cluster, NodeId self) = 0;
  // Lets the endpoints work until `done()` holds; false if `bound` passes first. A
  // simulated harness counts `bound` in virtual time.
  virtual bool await(const std::function<bool()>& done, env::Duration bound) = 0;
};

struct HarnessFactory {
  std::string name;
  std::function<std::unique_ptr<TransportHarness>()> make;
};

// Names instances after HarnessFactory::name.
std::string harness_name(const ::testing::TestParamInfo<HarnessFactory>& info);

class TransportConformance : public ::testing::TestWithParam<HarnessFactory> {};

}  // namespace synod::transport::testing
