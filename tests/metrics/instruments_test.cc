#include "synod/metrics/instruments.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "synod/metrics/registry.h"

namespace synod::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(Counter, AddsOneByDefaultAndAnyAmount) {
  Counter c;
  EXPECT_EQ(c.value(), 0u);
  c.add();
  c.add(41);
  EXPECT_EQ(c.value(), 42u);
}

TEST(Gauge, SetsAddsAndSubtractsBelowZero) {
  Gauge g;
  g.set(5);
  g.add(3);
  g.sub(10);
  EXPECT_EQ(g.value(), -2);
  Sample s;
  g.read(s);
  EXPECT_EQ(s.gauge, -2.0);
}

TEST(DoubleGauge, SetsAndAdds) {
  DoubleGauge g;
  EXPECT_EQ(g.value(), 0.0);
  g.set(1.5);
  g.add(0.25);
  g.add(-2);
  EXPECT_EQ(g.value(), -0.25);
}

TEST(Histogram, AValueEqualToABoundGoesInThatBucket) {
  const std::vector<std::uint64_t> bounds = {10, 100};
  Histogram h(bounds);
  h.observe(0);
  h.observe(10);   // le="10"
  h.observe(11);   // le="100"
  h.observe(100);  // le="100"
  h.observe(101);  // +Inf only
  Sample s;
  h.read(s);
  EXPECT_EQ(s.buckets, (std::vector<std::uint64_t>{2, 4}));  // cumulative
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.sum, 222.0);
}

TEST(DurationHistogram, RecordsNanosecondsAndReadsSeconds) {
  Registry r;
  auto& h = r.duration_histogram("latency_seconds", "h", {0.001, 0.01}).get();
  h.observe(milliseconds(1));          // exactly the first bound
  h.observe(nanoseconds(1'000'001));   // one nanosecond over it
  h.observe(nanoseconds(-5));          // a clock that stepped back: zero
  h.observe(std::chrono::seconds(2));  // +Inf
  const FamilySnapshot f = r.snapshot().at(0);
  ASSERT_EQ(f.samples.size(), 1u);
  EXPECT_EQ(f.samples[0].buckets, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(f.samples[0].count, 4u);
  EXPECT_DOUBLE_EQ(f.samples[0].sum, 2.002000001);
}

TEST(DurationBatch, AddsWhatItGatheredAtFlushAsIfObservedOneByOne) {
  Registry r;
  auto& h = r.duration_histogram("batched_seconds", "h", {0.001, 0.01}).get();
  auto& direct = r.duration_histogram("direct_seconds", "h", {0.001, 0.01}).get();
  const std::vector<nanoseconds> values = {milliseconds(1), nanoseconds(1'000'001),
                                           nanoseconds(-5), std::chrono::seconds(2),
                                           milliseconds(5)};
  {
    DurationBatch batch(h);
    for (auto v : values) {
      batch.observe(v);
      direct.observe(v);
    }
    EXPECT_EQ(r.snapshot().at(0).samples.at(0).count, 0u) << "nothing before the flush";
    batch.flush();
    EXPECT_EQ(r.snapshot().at(0).samples.at(0).count, values.size());
    batch.observe(milliseconds(20));
  }  // the destructor flushes the rest
  const auto families = r.snapshot();
  const Sample& batched = families.at(0).samples.at(0);
  const Sample& one_by_one = families.at(1).samples.at(0);
  EXPECT_EQ(batched.buckets, one_by_one.buckets);
  EXPECT_EQ(batched.count, one_by_one.count + 1);
  EXPECT_DOUBLE_EQ(batched.sum, one_by_one.sum + 0.02);
}

TEST(DurationBatch, RefusesAHistogramWithMoreBoundsThanItHolds) {
  Registry r;
  auto& h = r.duration_histogram("wide_seconds", "h", exponential_bounds(0.001, 2, 32)).get();
  EXPECT_THROW(DurationBatch{h}, std::invalid_argument);
}

TEST(ConcurrentInstruments, ThreadsAddWhileAScraperReadsAndTheTotalsAreExact) {
  Registry r;
  Counter& c = r.counter("ops_total", "c").get();
  Gauge& g = r.gauge("depth", "g").get();
  DoubleGauge& d = r.double_gauge("ratio", "d").get();
  Histogram& h = r.histogram("batch_bytes", "h", {1, 2, 4, 8}).get();
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 20000;

  std::atomic<bool> done{false};
  std::atomic<bool> scraping{false};  // writers start once the scraper has read once
  bool monotonic = true;
  std::thread scraper([&] {
    std::uint64_t last_counter = 0;
    std::uint64_t last_count = 0;
    do {
      for (const FamilySnapshot& f : r.snapshot()) {
        const Sample& s = f.samples.at(0);
        if (f.name == "ops_total") {
          monotonic = monotonic && s.counter >= last_counter;
          last_counter = s.counter;
        } else if (f.name == "batch_bytes") {
          monotonic = monotonic && s.count >= last_count && s.buckets.back() <= s.count;
          last_count = s.count;
        }
      }
      scraping = true;
    } while (!done.load());
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&] {
      while (!scraping.load()) std::this_thread::yield();
      for (std::uint64_t i = 0; i < kPerThread; ++i) {
        c.add();
        g.add(1);
        d.add(0.5);
        h.observe(i % 10);  // 0..9: one in ten past the last bound
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  scraper.join();

  EXPECT_TRUE(monotonic);
  EXPECT_EQ(c.value(), kThreads * kPerThread);
  EXPECT_EQ(g.value(), static_cast<std::int64_t>(kThreads * kPerThread));
  EXPECT_EQ(d.value(), 0.5 * kThreads * kPerThread);  // halves add up exactly
  Sample s;
  h.read(s);
  const std::uint64_t tenth = kThreads * kPerThread / 10;
  EXPECT_EQ(s.buckets, (std::vector<std::uint64_t>{2 * tenth, 3 * tenth, 5 * tenth, 9 * tenth}));
  EXPECT_EQ(s.count, kThreads * kPerThread);
  EXPECT_EQ(s.sum, 45.0 * tenth);
}

}  // namespace
}  // namespace synod::metrics
