// The metrics of one NodeHost. Nothing is global: several nodes share a process in the
// tests and behind the C ABI, each with its own registry.
//
//   Registry r;
//   Counter& proposals = r.counter("synod_proposals_total", "Proposals accepted.").get();
//   auto& commit = r.duration_histogram("synod_commit_latency_seconds", "Propose to commit.",
//                                       exponential_bounds(0.0001, 2, 16), {"partition"});
//   DurationHistogram& p3 = commit.with({"3"});   // once; keep the reference
//   proposals.add();                                // hot path: one relaxed atomic add
//   p3.observe(elapsed);
//   std::string text = r.prometheus_text();
//
// Registering checks the names (Prometheus' grammar and conventions: counters end in
// `_total`, the unit is the name's suffix `_seconds` or `_bytes`) and throws
// std::invalid_argument on a bad one. Registering a name again with the same
// description returns the same family; with another description it throws.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "synod/metrics/family.h"
#include "synod/metrics/instruments.h"
#include "synod/metrics/snapshot.h"

namespace synod::metrics {

// `count` bounds: start, start*factor, start*factor^2, ... (start > 0, factor > 1).
std::vector<double> exponential_bounds(double start, double factor, std::size_t count);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A count of things or bytes (`..._total`, `..._bytes_total`). Time is not counted
  // here: a `_seconds_total` name is refused; use a duration histogram.
  Family<Counter>& counter(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names = {});
  Family<DoubleGauge>& double_gauge(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names = {});
  // Sizes or counts per event, in whole bytes or things. `bounds`: finite, increasing,
  // whole numbers, >= 0. A name in `_seconds` is refused (see duration_histogram).
  Family<Histogram>& histogram(std::string_view name, std::string_view help,
                               std::vector<double> bounds,
                               std::vector<std::string> label_names = {});
  // Durations; the name ends in `_seconds` and `bounds` are seconds (finite,
  // increasing, >= 0, whole nanoseconds).
  Family<DurationHistogram>& duration_histogram(std::string_view name, std::string_view help,
                                                std::vector<double> bounds,
                                                std::vector<std::string> label_names = {});

  // Families produced by `collect` whenever the registry is read. The callback runs on
  // the reading thread, outside the registry's lock, and must stay callable as long as
  // the registry lives. A name can hold one collector only.
  void counter_collector(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names,
                         std::function<void(CounterSink&)> collect);
  void gauge_collector(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names,
                       std::function<void(GaugeSink&)> collect);

  // Every family, ordered by name.
  std::vector<FamilySnapshot> snapshot() const;
  // snapshot() in the Prometheus text format (see prometheus.h).
  std::string prometheus_text() const;

 private:
  template <typename F, typename... Extra>
  F& add(FamilyInfo info, bool reusable, Extra&&... extra);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
  // Every series name in use, the derived ones of histograms too (x_bucket, x_sum,
  // x_count), so that no two families can print the same series name.
  std::set<std::string, std::less<>> series_names_;
};

}  // namespace synod::metrics
