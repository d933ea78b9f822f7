// Conformance harnesses for the in-memory transport: one on simulated time, one on real
// threads.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "conformance.h"
#include "synod/env/simulated_world.h"
#include "synod/env/thread_pool.h"
#include "synod/transport/in_memory.h"

namespace synod::transport::testing {

class SimulatedHarness final : public TransportHarness {
 public:
  explicit SimulatedHarness(std::uint64_t seed = 1, InMemoryNetworkOptions options = {})
      : world_(seed), network_(world_, world_, world_.random(), options) {}

  std::unique_ptr<Transport> make(ClusterId cluster, NodeId self) override {
    return std::make_unique<InMemoryTransport>(network_, cluster, self);
  }
  bool await(const std::function<bool()>& done, env::Duration bound) override {
    const env::TimePoint deadline = world_.now() + bound;
    while (!done()) {
      if (world_.now() > deadline || !world_.step()) return done();
    }
    return true;
  }

  env::SimulatedWorld& world() { return world_; }
  InMemoryNetwork& network() { return network_; }

 private:
  env::SimulatedWorld world_;
  InMemoryNetwork network_;
};

class ThreadedHarness final : public TransportHarness {
 public:
  explicit ThreadedHarness(std::size_t threads = 2, std::uint64_t seed = 1,
                           InMemoryNetworkOptions options = {})
      : random_(seed),
        pool_(threads),
        timers_(clock_, pool_),
        network_(timers_, pool_, random_, options) {}

  std::unique_ptr<Transport> make(ClusterId cluster, NodeId self) override {
    return std::make_unique<InMemoryTransport>(network_, cluster, self);
  }
  // Polls: the endpoints cannot tell the harness when a test's condition changes.
  bool await(const std::function<bool()>& done, env::Duration bound) override {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return done();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  InMemoryNetwork& network() { return network_; }

 private:
  // Declared so that the network goes first and the threads its tasks run on go last.
  env::SteadyClock clock_;
  env::Random random_;
  env::ThreadPool pool_;
  env::TimerThread timers_;
  InMemoryNetwork network_;
};

}  // namespace synod::transport::testing
