// Commit latencies in nanoseconds, filled concurrently by completion callbacks. Buckets
// are log-linear (64 per power of two), so a reported quantile is within 1.6% of the truth.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace synod::bench {

class LatencyHistogram {
 public:
  void record(std::uint64_t ns) { buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed); }

  // The upper bound of the bucket holding the q-quantile; 0 when nothing was recorded.
  std::uint64_t quantile(double q) const {
    std::uint64_t total = 0;
    for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return upper_of(i);
    }
    return upper_of(buckets_.size() - 1);
  }

  // Calls f(upper bound in ns, count) for every non-empty bucket, in increasing order.
  template <class F>
  void for_each_bucket(F f) const {
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      if (const auto n = buckets_[i].load(std::memory_order_relaxed)) f(upper_of(i), n);
    }
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr std::uint64_t kSub = 1u << kSubBits;

  static std::size_t bucket_of(std::uint64_t v) {
    if (v < kSub) return v;
    const int e = std::bit_width(v) - 1;
    const std::uint64_t sub = (v >> (e - kSubBits)) & (kSub - 1);
    return static_cast<std::size_t>(e - kSubBits + 1) * kSub + sub;
  }
  static std::uint64_t upper_of(std::size_t bucket) {
    if (bucket < kSub) return bucket;
    const int e = static_cast<int>(bucket / kSub) + kSubBits - 1;
    return ((kSub + bucket % kSub + 1) << (e - kSubBits)) - 1;
  }

  std::array<std::atomic<std::uint64_t>, (64 - kSubBits + 1) * kSub> buckets_{};
};

}  // namespace synod::bench
