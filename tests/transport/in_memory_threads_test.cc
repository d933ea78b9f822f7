// The in-memory transport on real threads: concurrent senders, timers, and stop() racing
// with delivery. Meant to run under ThreadSanitizer too.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "in_memory_harness.h"
#include "test_util.h"

namespace synod::transport::testing {
namespace {

using namespace std::chrono_literals;

constexpr ClusterId kCluster = 7;

// Counts arrivals per (from, to) link and checks each link's order as they come.
class Tally {
 public:
  Transport::Receiver receiver() {
    return [this](Batch&& batch) {
      std::lock_guard lock(mu_);
      auto& next = next_seq_[{batch.from, batch.to}];
      // Jittered links may reorder; the others must not.
      if (!batch.envelopes.at(0).message.context.empty() || seq_of(batch) == next) {
        ++next;
      } else {
        ++out_of_order_;
      }
      ++total_;
      changed_.notify_all();
    };
  }
  bool wait_for_total(std::uint64_t expected) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 60s, [&] { return total_ >= expected; });
  }
  std::uint64_t total() const {
    std::lock_guard lock(mu_);
    return total_;
  }
  std::uint64_t out_of_order() const {
    std::lock_guard lock(mu_);
    return out_of_order_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::pair<NodeId, NodeId>, std::uint64_t> next_seq_;
  std::uint64_t total_ = 0;
  std::uint64_t out_of_order_ = 0;
};

TEST(InMemoryThreads, ConcurrentSendersHaveEveryBatchDeliveredInLinkOrder) {
  constexpr NodeId kNodes = 4;
  constexpr std::uint64_t kPerLink = 500;
  ThreadedHarness harness(2, 99);
  // Some links go through the timer thread, one of them with reordering jitter.
  harness.network().set_link(1, 2, {.delay = 1ms});
  harness.network().set_link(3, 4, {.delay = 1ms, .jitter = 2ms});
  Tally tally;
  std::vector<std::unique_ptr<Transport>> endpoints;
  for (NodeId id = 1; id <= kNodes; ++id) {
    endpoints.push_back(harness.make(kCluster, id));
    endpoints.back()->set_receiver(tally.receiver());
    endpoints.back()->start();
  }

  std::vector<std::thread> senders;
  for (NodeId from = 1; from <= kNodes; ++from) {
    senders.emplace_back([&, from] {
      for (std::uint64_t seq = 0; seq < kPerLink; ++seq) {
        for (NodeId to = 1; to <= kNodes; ++to) {
          if (to == from) continue;
          Batch batch = numbered_batch(kCluster, from, to, seq);
          if (from == 3 && to == 4) batch.envelopes[0].message.context = "jittered";
          endpoints[from - 1]->send(std::move(batch));
        }
      }
    });
  }
  for (auto& t : senders) t.join();

  constexpr std::uint64_t kExpected = kNodes * (kNodes - 1) * kPerLink;
  ASSERT_TRUE(tally.wait_for_total(kExpected)) << tally.total() << " of " << kExpected;
  EXPECT_EQ(tally.out_of_order(), 0u);
  for (const auto& endpoint : endpoints) {
    const auto stats = endpoint->stats();
    EXPECT_EQ(stats.batches_sent, (kNodes - 1) * kPerLink);
    EXPECT_EQ(stats.batches_received, (kNodes - 1) * kPerLink);
    EXPECT_EQ(dropped_total(stats), 0u);
  }
}

TEST(InMemoryThreads, NoDeliveryOnceStopHasReturned) {
  ThreadedHarness harness(2, 7);
  std::atomic<bool> stopped{false};
  std::atomic<int> late{0};
  std::atomic<int> received{0};
  auto receiver = harness.make(kCluster, 2);
  receiver->set_receiver([&](Batch&&) {
    if (stopped.load()) ++late;
    ++received;
  });
  receiver->start();
  auto sender = harness.make(kCluster, 1);
  sender->start();

  std::atomic<bool> done{false};
  std::thread traffic([&] {
    for (std::uint64_t seq = 0; !done.load(); ++seq) {
      sender->send(numbered_batch(kCluster, 1, 2, seq));
    }
  });
  // Stop in the middle of the stream, not before it started.
  ASSERT_TRUE(harness.await([&] { return received.load() >= 100; }, 60s));
  receiver->stop();
  stopped = true;
  ASSERT_TRUE(harness.await([&] { return sender->stats().dropped_peer_down >= 100; }, 60s));
  done = true;
  traffic.join();
  EXPECT_EQ(late.load(), 0);
}

}  // namespace
}  // namespace synod::transport::testing
