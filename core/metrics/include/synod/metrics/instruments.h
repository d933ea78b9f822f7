// The values a hot path records into. Once a caller holds a reference to one (from
// Family::with, done once and cached), recording is a relaxed atomic add: no lock, no
// allocation. Each instrument sits on its own cache line, so two series written by two
// threads do not slow each other down.
//
// Instruments are created by a Registry's families and live as long as the registry
// (or until Family::remove drops them).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "synod/metrics/snapshot.h"

namespace synod::metrics {

// Only ever goes up.
class alignas(64) Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }
  void read(Sample& out) const { out.counter = value(); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// An integer that goes up and down: a queue depth, a term, a lag.
class alignas(64) Gauge {
 public:
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }
  void read(Sample& out) const { out.gauge = static_cast<double>(value()); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// A real number that goes up and down. add() is a compare-and-swap loop (x86 has no
// atomic floating-point add); set() is a plain store.
class alignas(64) DoubleGauge {
 public:
  void set(double v) noexcept {
    bits_.store(std::bit_cast<std::uint64_t>(v), std::memory_order_relaxed);
  }
  void add(double n) noexcept {
    std::uint64_t old = bits_.load(std::memory_order_relaxed);
    while (!bits_.compare_exchange_weak(
        old, std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + n),
        std::memory_order_relaxed)) {
    }
  }
  double value() const noexcept {
    return std::bit_cast<double>(bits_.load(std::memory_order_relaxed));
  }
  void read(Sample& out) const { out.gauge = value(); }

 private:
  std::atomic<std::uint64_t> bits_{std::bit_cast<std::uint64_t>(0.0)};
};

// The cells shared by both histogram kinds. Values are whole "ticks" of the family's
// unit (nanoseconds, bytes or things), so that the sum is an integer atomic add rather
// than a compare-and-swap loop on a double (see the README for the measurement), and a
// value equal to a bound lands exactly in that bound's bucket.
class alignas(64) HistogramCells {
 public:
  // `bounds` (increasing, in ticks) must outlive the cells: it belongs to the family.
  explicit HistogramCells(std::span<const std::uint64_t> bounds)
      : bounds_(bounds),
        counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

  void record(std::uint64_t ticks) noexcept {
    counts_[cell(ticks)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(ticks, std::memory_order_relaxed);
  }
  // The first bound >= the value: Prometheus' `le`. Past the last bound: the +Inf cell.
  std::size_t cell(std::uint64_t ticks) const noexcept {
    return static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), ticks) -
                                    bounds_.begin());
  }
  std::size_t cells() const noexcept { return bounds_.size() + 1; }
  // Many observations at once: `counts` per cell, and their sum in ticks.
  void add(std::span<const std::uint64_t> counts, std::uint64_t sum_ticks) noexcept {
    for (std::size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] != 0) counts_[i].fetch_add(counts[i], std::memory_order_relaxed);
    }
    sum_.fetch_add(sum_ticks, std::memory_order_relaxed);
  }

  // The count is the sum of the cells, so a scrape never sees a count that disagrees
  // with its buckets; the sum may be one observation ahead or behind under recording.
  void read(Sample& out, double ticks_per_unit) const;

 private:
  std::span<const std::uint64_t> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // one per bound, then +Inf
  std::atomic<std::uint64_t> sum_{0};
};

// Sizes and counts: bytes per batch, entries per batch.
class Histogram {
 public:
  static constexpr double kTicksPerUnit = 1;
  explicit Histogram(std::span<const std::uint64_t> bounds) : cells_(bounds) {}
  void observe(std::uint64_t value) noexcept { cells_.record(value); }
  void read(Sample& out) const { cells_.read(out, kTicksPerUnit); }

 private:
  HistogramCells cells_;
};

// Latencies, exported in seconds, recorded from a duration (a negative one, from a
// clock that stepped back, counts as zero).
class DurationHistogram {
 public:
  static constexpr double kTicksPerUnit = 1e9;  // nanoseconds per second
  explicit DurationHistogram(std::span<const std::uint64_t> bounds) : cells_(bounds) {}
  void observe(std::chrono::nanoseconds d) noexcept { cells_.record(ticks(d)); }
  void read(Sample& out) const { cells_.read(out, kTicksPerUnit); }

  static std::uint64_t ticks(std::chrono::nanoseconds d) noexcept {
    return d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
  }

 private:
  friend class DurationBatch;
  HistogramCells cells_;
};

// Durations one thread observes in a loop, counted without atomics and added to the
// histogram at once by flush() (or the destructor): one atomic add per bucket used rather
// than two per observation. Where several threads record into one histogram, this keeps
// them from contending on its cache line at every observation. The histogram must outlive
// the batch; its family may have at most kMaxBounds bounds.
class DurationBatch {
 public:
  static constexpr std::size_t kMaxBounds = 31;
  // Throws std::invalid_argument when the histogram has more than kMaxBounds bounds.
  explicit DurationBatch(DurationHistogram& into);
  ~DurationBatch() { flush(); }
  DurationBatch(const DurationBatch&) = delete;
  DurationBatch& operator=(const DurationBatch&) = delete;

  void observe(std::chrono::nanoseconds d) noexcept {
    const std::uint64_t t = DurationHistogram::ticks(d);
    ++counts_[into_.cells_.cell(t)];
    sum_ += t;
    pending_ = true;
  }
  void flush() noexcept;

 private:
  DurationHistogram& into_;
  std::array<std::uint64_t, kMaxBounds + 1> counts_{};
  std::uint64_t sum_ = 0;
  bool pending_ = false;
};

}  // namespace synod::metrics
