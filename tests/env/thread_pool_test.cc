#include "synod/env/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "synod/env/clock.h"

namespace synod::env {
namespace {

using std::chrono::milliseconds;

// Waits for a condition with a generous bound instead of sleeping for a guessed time.
class Latch {
 public:
  explicit Latch(int count) : count_(count) {}
  void count_down() {
    std::lock_guard lock(mu_);
    if (--count_ <= 0) done_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mu_);
    return done_.wait_for(lock, std::chrono::seconds(30), [this] { return count_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  int count_;
};

TEST(ThreadPool, RunsEveryPostedTask) {
  ThreadPool pool(2);
  EXPECT_EQ(pool.size(), 2u);
  Latch latch(1000);
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) {
    pool.post([&] {
      ++ran;
      latch.count_down();
    });
  }
  ASSERT_TRUE(latch.wait());
  EXPECT_EQ(ran.load(), 1000);
}

TEST(ThreadPool, RunsTasksOnItsOwnThreads) {
  ThreadPool pool(2);
  Latch latch(1);
  std::thread::id worker;
  pool.post([&] {
    worker = std::this_thread::get_id();
    latch.count_down();
  });
  ASSERT_TRUE(latch.wait());
  EXPECT_NE(worker, std::this_thread::get_id());
}

TEST(ThreadPool, DestructionWithQueuedTasksJoinsCleanly) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1);
    Latch started(1);
    std::mutex gate;
    std::unique_lock hold(gate);
    pool.post([&] {
      started.count_down();
      std::lock_guard wait_for_gate(gate);
      ++ran;
    });
    for (int i = 0; i < 100; ++i) pool.post([&] { ++ran; });
    ASSERT_TRUE(started.wait());
    hold.unlock();
  }
  EXPECT_GE(ran.load(), 1);
  EXPECT_LE(ran.load(), 101);
}

TEST(TimerThread, FiresTimersInDeadlineOrder) {
  SteadyClock clock;
  ThreadPool pool(1);
  TimerThread timers(clock, pool);
  std::mutex mu;
  std::vector<int> order;
  Latch latch(3);
  auto record = [&](int n) {
    return [&, n] {
      {
        std::lock_guard lock(mu);
        order.push_back(n);
      }
      latch.count_down();
    };
  };
  timers.after(milliseconds(30), record(3));
  timers.after(milliseconds(10), record(1));
  timers.after(milliseconds(20), record(2));
  ASSERT_TRUE(latch.wait());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(TimerThread, NeverFiresEarly) {
  SteadyClock clock;
  ThreadPool pool(1);
  TimerThread timers(clock, pool);
  Latch latch(1);
  const TimePoint start = clock.now();
  TimePoint fired{};
  timers.after(milliseconds(20), [&] {
    fired = clock.now();
    latch.count_down();
  });
  ASSERT_TRUE(latch.wait());
  EXPECT_GE(fired - start, milliseconds(20));
}

TEST(TimerThread, CancelledTimerDoesNotFireWhileLaterOnesDo) {
  SteadyClock clock;
  ThreadPool pool(1);
  TimerThread timers(clock, pool);
  std::atomic<bool> cancelled_fired{false};
  Latch later(1);
  const TimerId id = timers.after(milliseconds(10), [&] { cancelled_fired = true; });
  EXPECT_TRUE(timers.cancel(id));
  timers.after(milliseconds(40), [&] { later.count_down(); });
  ASSERT_TRUE(later.wait());
  EXPECT_FALSE(cancelled_fired.load());
  EXPECT_FALSE(timers.cancel(id));
}

}  // namespace
}  // namespace synod::env
