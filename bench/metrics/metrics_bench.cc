// Nanoseconds per recording on the hot path (one thread, and two threads writing the
// same series), per labelled lookup, and per scrape. The two Sum* benchmarks are the
// measurement behind the histogram's integer sum: an atomic integer add against the
// compare-and-swap loop an atomic double would need.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <string>

#include "synod/metrics/registry.h"

namespace synod::metrics {
namespace {

Registry& registry() {
  static Registry r;
  return r;
}

// Durations from 50us to ~50ms, spread over the buckets of the latency histogram.
const std::array<std::chrono::nanoseconds, 1024>& durations() {
  static const auto values = [] {
    std::array<std::chrono::nanoseconds, 1024> out{};
    std::uint64_t x = 88172645463325252ull;
    for (auto& d : out) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      d = std::chrono::nanoseconds(50'000 << (x % 11)) + std::chrono::nanoseconds(x % 1000);
    }
    return out;
  }();
  return values;
}

void BM_CounterAdd(benchmark::State& state) {
  static Counter& c = registry().counter("bench_ops_total", "h").get();
  for (auto _ : state) c.add();
}
BENCHMARK(BM_CounterAdd)->Threads(1)->Threads(2);

// Each thread its own series: what per-partition counters on different workers cost.
void BM_CounterAddOwnSeries(benchmark::State& state) {
  Counter& c = registry()
                   .counter("bench_own_total", "h", {"thread"})
                   .with({std::to_string(state.thread_index())});
  for (auto _ : state) c.add();
}
BENCHMARK(BM_CounterAddOwnSeries)->Threads(2);

void BM_GaugeAdd(benchmark::State& state) {
  static Gauge& g = registry().gauge("bench_depth", "h").get();
  for (auto _ : state) g.add(1);
}
BENCHMARK(BM_GaugeAdd)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  static DurationHistogram& h =
      registry()
          .duration_histogram("bench_latency_seconds", "h", exponential_bounds(0.0001, 2, 16))
          .get();
  const auto& values = durations();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 512;
  for (auto _ : state) h.observe(values[i++ & 1023]);
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

void BM_SumFixedPoint(benchmark::State& state) {
  static std::atomic<std::uint64_t> sum{0};
  std::uint64_t v = 1234567;
  for (auto _ : state) sum.fetch_add(v++, std::memory_order_relaxed);
}
BENCHMARK(BM_SumFixedPoint)->Threads(1)->Threads(2);

void BM_SumDoubleCas(benchmark::State& state) {
  static std::atomic<double> sum{0};
  double v = 0.001234567;
  for (auto _ : state) {
    double old = sum.load(std::memory_order_relaxed);
    while (!sum.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
    }
    v += 1e-9;
  }
}
BENCHMARK(BM_SumDoubleCas)->Threads(1)->Threads(2);

// What a caller that does not cache its series would pay: a lock and a map lookup.
void BM_LabelledLookup(benchmark::State& state) {
  static auto& f = registry().counter("bench_msgs_total", "h", {"partition", "peer"});
  for (auto _ : state) f.with({"3", "2"}).add();
}
BENCHMARK(BM_LabelledLookup);

// A node with 100 partitions: 4 counters and a histogram per partition.
void BM_Scrape(benchmark::State& state) {
  Registry r;
  for (const char* name : {"a_total", "b_total", "c_total", "d_total"}) {
    auto& f = r.counter(name, "h", {"partition"});
    for (int p = 0; p < 100; ++p) f.with({std::to_string(p)}).add(12345);
  }
  auto& h =
      r.duration_histogram("lat_seconds", "h", exponential_bounds(0.0001, 2, 16), {"partition"});
  for (int p = 0; p < 100; ++p) h.with({std::to_string(p)}).observe(std::chrono::milliseconds(3));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = r.prometheus_text();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["text_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace synod::metrics

BENCHMARK_MAIN();
