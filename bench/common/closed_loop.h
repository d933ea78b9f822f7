// The closed loop: `outstanding` proposals spread round-robin over the user partitions,
// each proposed again at its partition's leader as soon as the previous one completes.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/latency_histogram.h"
#include "common/options.h"
#include "synod/env/clock.h"
#include "synod/env/scheduler.h"
#include "synod/node/node_host.h"

namespace synod::bench {

class ClosedLoop {
 public:
  // The host that takes the proposals meant for node `id`.
  using HostOf = std::function<node::NodeHost&(node::NodeId id)>;

  // `leaders`: each partition's leader, by partition id; `nodes`: the cluster's size
  // (nodes 1..nodes), to try the next one when a refusal names no leader.
  ClosedLoop(const env::Clock& clock, env::Scheduler& timers, const LoadOptions& options,
             HostOf host_of, const std::vector<node::NodeId>& leaders, std::size_t nodes)
      : clock_(clock),
        timers_(timers),
        host_of_(std::move(host_of)),
        nodes_(nodes),
        partitions_(options.partitions),
        outstanding_(options.outstanding),
        payload_(options.payload, 'x'),
        leaders_(leaders.size()),
        in_flight_(options.outstanding) {
    for (std::size_t p = 0; p < leaders.size(); ++p) leaders_[p].store(leaders[p]);
  }

  void start() {
    for (std::size_t i = 0; i < outstanding_; ++i) propose(1 + i % partitions_);
  }

  void set_measuring(bool on) {
    if (on) measuring_since_.store(clock_.now().count());
    measuring_.store(on);
  }

  // Stops proposing again and waits for every proposal in flight; false on timeout.
  bool drain(env::Duration timeout) {
    stopping_.store(true);
    std::unique_lock lock(mu_);
    return drained_.wait_for(lock, timeout, [this] { return in_flight_.load() == 0; });
  }

  std::uint64_t committed() const { return committed_.load(); }
  const LatencyHistogram& latency() const { return latency_; }
  // Commits in each kCurveInterval of the measured window, from its start (the first
  // hour); empty before any.
  static constexpr env::Duration kCurveInterval = std::chrono::milliseconds(100);
  std::vector<std::uint64_t> curve() const {
    std::size_t used = curve_.size();
    while (used > 0 && curve_[used - 1].load(std::memory_order_relaxed) == 0) --used;
    std::vector<std::uint64_t> out(used);
    for (std::size_t i = 0; i < used; ++i) out[i] = curve_[i].load(std::memory_order_relaxed);
    return out;
  }
  std::uint64_t refused(node::Status s) const {
    return refused_[static_cast<std::size_t>(s)].load();
  }

 private:
  static constexpr std::uint32_t kEntryType = 1;
  static constexpr auto kRetryDelay = std::chrono::milliseconds(1);

  void propose(node::PartitionId p) {
    const node::NodeId target = leaders_[p].load(std::memory_order_relaxed);
    const env::TimePoint started = clock_.now();
    // A fresh payload per proposal, as a client's data would be.
    host_of_(target).replicate(p, kEntryType, raft::Bytes(std::string(payload_)),
                               [this, p, target, started](const node::ReplicationResult& r) {
                                 done(p, target, started, r);
                               });
  }

  void done(node::PartitionId p, node::NodeId target, env::TimePoint started,
            const node::ReplicationResult& r) {
    using node::Status;
    if (r.status == Status::Ok) {
      if (measuring_.load(std::memory_order_relaxed)) {
        committed_.fetch_add(1, std::memory_order_relaxed);
        const env::TimePoint now = clock_.now();
        latency_.record(static_cast<std::uint64_t>((now - started).count()));
        const auto slot = static_cast<std::size_t>(
            (now.count() - measuring_since_.load(std::memory_order_relaxed)) /
            kCurveInterval.count());
        if (slot < curve_.size()) curve_[slot].fetch_add(1, std::memory_order_relaxed);
      }
      return stopping_.load() ? finish_one() : propose(p);
    }
    if (measuring_.load(std::memory_order_relaxed)) {
      refused_[static_cast<std::size_t>(r.status)].fetch_add(1, std::memory_order_relaxed);
    }
    switch (r.status) {
      case Status::NotLeader:
      case Status::NoLeader: {
        // Follow the hint; without one, try the next node.
        const node::NodeId next = r.leader_hint != raft::kNoNode
                                      ? r.leader_hint
                                      : static_cast<node::NodeId>(target % nodes_ + 1);
        node::NodeId expected = target;
        leaders_[p].compare_exchange_strong(expected, next);
        return retry_later(p);
      }
      case Status::Dropped:
      case Status::Timeout:
      case Status::QueueFull:
      case Status::TransferInProgress:
        return retry_later(p);
      default:
        return finish_one();
    }
  }

  void retry_later(node::PartitionId p) {
    timers_.after(kRetryDelay, [this, p] {
      if (stopping_.load()) return finish_one();
      propose(p);
    });
  }

  void finish_one() {
    if (in_flight_.fetch_sub(1) != 1) return;
    std::lock_guard lock(mu_);
    drained_.notify_all();
  }

  const env::Clock& clock_;
  env::Scheduler& timers_;
  const HostOf host_of_;
  const std::size_t nodes_;
  const std::uint32_t partitions_;
  const std::size_t outstanding_;
  const std::string payload_;
  std::vector<std::atomic<node::NodeId>> leaders_;
  std::atomic<bool> measuring_{false};
  std::atomic<env::Duration::rep> measuring_since_{0};  // the clock's count at set_measuring(true)
  std::array<std::atomic<std::uint64_t>, 36000> curve_{};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> in_flight_;
  std::atomic<std::uint64_t> committed_{0};
  std::array<std::atomic<std::uint64_t>, 16> refused_{};
  LatencyHistogram latency_;
  std::mutex mu_;
  std::condition_variable drained_;
};

// The throughput and latency lines of a window of `elapsed` seconds.
inline void print_throughput(const ClosedLoop& loop, double elapsed) {
  const auto us = [&](double q) { return static_cast<double>(loop.latency().quantile(q)) / 1e3; };
  std::printf("throughput: %.0f commits/s (%llu in %.2f s)\n",
              static_cast<double>(loop.committed()) / elapsed,
              static_cast<unsigned long long>(loop.committed()), elapsed);
  std::printf("latency:    p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n", us(0.5),
              us(0.99), us(0.999), us(1.0));
}

// CPU per commit: `cpu_s` CPU seconds spent `where` while the window's commits were made.
inline void print_cpu_per_commit(const ClosedLoop& loop, double cpu_s, const char* where) {
  const auto commits = loop.committed();
  std::printf("cpu/commit: %.1f us %s\n", commits ? cpu_s * 1e6 / static_cast<double>(commits) : 0.0,
              where);
}

// The proposals refused while measuring; `drained`: whether every proposal completed.
inline void print_refused(const ClosedLoop& loop, bool drained) {
  using node::Status;
  std::printf(
      "refused:    (while measuring) not leader %llu, no leader %llu, dropped %llu, timeout %llu, "
      "queue full %llu%s\n",
      static_cast<unsigned long long>(loop.refused(Status::NotLeader)),
      static_cast<unsigned long long>(loop.refused(Status::NoLeader)),
      static_cast<unsigned long long>(loop.refused(Status::Dropped)),
      static_cast<unsigned long long>(loop.refused(Status::Timeout)),
      static_cast<unsigned long long>(loop.refused(Status::QueueFull)),
      drained ? "" : " (some proposals never completed)");
}

}  // namespace synod::bench
