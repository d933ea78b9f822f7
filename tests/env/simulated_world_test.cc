#include "synod/env/simulated_world.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace synod::env {
namespace {

using std::chrono::milliseconds;

TEST(SimulatedWorld, NothingRunsUntilStepped) {
  SimulatedWorld world(1);
  bool ran = false;
  world.post([&] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(world.step());
  EXPECT_TRUE(ran);
  EXPECT_FALSE(world.step());
}

TEST(SimulatedWorld, RunsEventsInDueOrderThenInPostingOrder) {
  SimulatedWorld world(1);
  std::string order;
  world.after(milliseconds(20), [&] { order += 'c'; });
  world.after(milliseconds(10), [&] { order += 'a'; });
  world.after(milliseconds(10), [&] { order += 'b'; });
  world.post([&] { order += '0'; });
  world.run_until_idle(100);
  EXPECT_EQ(order, "0abc");
  EXPECT_EQ(world.now(), milliseconds(20));
}

TEST(SimulatedWorld, TimeJumpsToTheNextEvent) {
  SimulatedWorld world(1);
  TimePoint seen{};
  world.after(milliseconds(250), [&] { seen = world.now(); });
  world.step();
  EXPECT_EQ(seen, milliseconds(250));
}

TEST(SimulatedWorld, CancelledTimersNeverFire) {
  SimulatedWorld world(1);
  bool fired = false;
  const TimerId id = world.after(milliseconds(5), [&] { fired = true; });
  EXPECT_TRUE(world.cancel(id));
  EXPECT_FALSE(world.cancel(id)) << "a second cancel finds nothing";
  world.run_until_idle(10);
  EXPECT_FALSE(fired);
}

TEST(SimulatedWorld, RunForStopsAtTheHorizonAndKeepsLaterEvents) {
  SimulatedWorld world(1);
  int fired = 0;
  world.after(milliseconds(5), [&] { ++fired; });
  world.after(milliseconds(15), [&] { ++fired; });
  EXPECT_EQ(world.run_for(milliseconds(10)), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(world.now(), milliseconds(10));
  EXPECT_EQ(world.pending(), 1u);
}

TEST(SimulatedWorld, EventsScheduledByEventsRunAtTheirOwnTime) {
  SimulatedWorld world(1);
  std::vector<TimePoint> ticks;
  std::function<void()> tick = [&] {
    ticks.push_back(world.now());
    if (ticks.size() < 3) world.after(milliseconds(100), tick);
  };
  world.post(tick);
  world.run_until_idle(10);
  EXPECT_EQ(ticks, (std::vector<TimePoint>{milliseconds(0), milliseconds(100), milliseconds(200)}));
}

TEST(SimulatedWorld, RunUntilIdleRespectsItsBound) {
  SimulatedWorld world(1);
  std::function<void()> forever = [&] { world.post(forever); };
  world.post(forever);
  EXPECT_EQ(world.run_until_idle(50), 50u);
}

TEST(SimulatedWorld, TheSameSeedReplaysTheSameRandomChoices) {
  auto trace = [](std::uint64_t seed) {
    SimulatedWorld world(seed);
    std::vector<std::uint64_t> out;
    for (int i = 0; i < 5; ++i) {
      world.after(milliseconds(world.random().below(100)),
                  [&out, &world] { out.push_back(world.now().count()); });
    }
    world.run_until_idle(10);
    return out;
  };
  EXPECT_EQ(trace(9), trace(9));
  EXPECT_NE(trace(9), trace(10));
}

}  // namespace
}  // namespace synod::env
