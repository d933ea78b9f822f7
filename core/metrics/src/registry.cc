#include "synod/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <utility>

#include "synod/metrics/prometheus.h"

namespace synod::metrics {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

[[noreturn]] void refuse(std::string_view name, std::string_view why) {
  throw std::invalid_argument("metric " + std::string(name) + ": " + std::string(why));
}

// The description of a family, its name and labels checked and its unit read from the
// name. Bounds are checked by with_bounds().
FamilyInfo describe(std::string_view name, std::string_view help, Type type,
                    std::vector<std::string> label_names) {
  if (!valid_metric_name(name)) refuse(name, "not a valid Prometheus metric name");
  std::string_view base = name;
  if (type == Type::kCounter) {
    if (!ends_with(name, "_total")) refuse(name, "a counter's name ends in _total");
    base.remove_suffix(std::string_view("_total").size());
  } else if (ends_with(name, "_total")) {
    refuse(name, "only a counter's name ends in _total");
  }
  FamilyInfo info;
  info.name = name;
  info.help = help;
  info.type = type;
  if (ends_with(base, "_seconds")) {
    info.unit = Unit::kSeconds;
  } else if (ends_with(base, "_bytes")) {
    info.unit = Unit::kBytes;
  }
  std::set<std::string_view> seen;
  for (const std::string& label : label_names) {
    if (!valid_label_name(label)) refuse(name, "label " + label + " is not a valid label name");
    if (type == Type::kHistogram && label == "le") refuse(name, "le is a histogram's own label");
    if (!seen.insert(label).second) refuse(name, "label " + label + " given twice");
  }
  info.label_names = std::move(label_names);
  return info;
}

// Adds the bounds of a histogram whose values are whole ticks, `ticks_per_unit` a unit.
FamilyInfo with_bounds(FamilyInfo info, std::vector<double> bounds, double ticks_per_unit) {
  if (bounds.empty()) refuse(info.name, "a histogram needs at least one bound");
  for (double bound : bounds) {
    const double ticks = bound * ticks_per_unit;
    // 2^64: a larger bound does not fit the ticks.
    if (!std::isfinite(bound) || bound < 0 || ticks >= 18446744073709551616.0) {
      refuse(info.name, "a bound is negative, too large or not finite");
    }
    const double whole = std::round(ticks);
    if (std::abs(ticks - whole) > 1e-6 * std::max(1.0, whole)) {
      refuse(info.name, ticks_per_unit == 1 ? "bounds of sizes and counts are whole numbers"
                                            : "bounds in seconds are whole nanoseconds");
    }
    const auto t = static_cast<std::uint64_t>(whole);
    if (!info.bound_ticks.empty() && t <= info.bound_ticks.back()) {
      refuse(info.name, "bounds must increase");
    }
    info.bound_ticks.push_back(t);
  }
  info.bounds = std::move(bounds);
  return info;
}

std::vector<std::string> series_names(const FamilyInfo& info) {
  if (info.type != Type::kHistogram) return {info.name};
  return {info.name + "_bucket", info.name + "_sum", info.name + "_count"};
}

}  // namespace

std::vector<double> exponential_bounds(double start, double factor, std::size_t count) {
  if (!(start > 0) || !(factor > 1)) {
    throw std::invalid_argument("exponential_bounds: start > 0 and factor > 1");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (std::size_t i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

template <typename F, typename... Extra>
F& Registry::add(FamilyInfo info, bool reusable, Extra&&... extra) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(info.name); it != families_.end()) {
    auto* same = dynamic_cast<F*>(it->second.get());
    if (reusable && same != nullptr && same->info() == info) return *same;
    refuse(info.name, "already registered with another description");
  }
  const std::vector<std::string> names = series_names(info);
  for (const std::string& series : names) {
    if (series_names_.contains(series)) refuse(info.name, series + " is another family's series");
  }
  auto family = std::make_unique<F>(std::move(info), std::forward<Extra>(extra)...);
  F& result = *family;
  series_names_.insert(names.begin(), names.end());
  families_.emplace(result.info().name, std::move(family));
  return result;
}

Family<Counter>& Registry::counter(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names) {
  FamilyInfo info = describe(name, help, Type::kCounter, std::move(label_names));
  if (info.unit == Unit::kSeconds) refuse(name, "time is not counted: use a duration histogram");
  return add<Family<Counter>>(std::move(info), true);
}

Family<Gauge>& Registry::gauge(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names) {
  return add<Family<Gauge>>(describe(name, help, Type::kGauge, std::move(label_names)), true);
}

Family<DoubleGauge>& Registry::double_gauge(std::string_view name, std::string_view help,
                                            std::vector<std::string> label_names) {
  return add<Family<DoubleGauge>>(describe(name, help, Type::kGauge, std::move(label_names)), true);
}

Family<Histogram>& Registry::histogram(std::string_view name, std::string_view help,
                                       std::vector<double> bounds,
                                       std::vector<std::string> label_names) {
  FamilyInfo info = describe(name, help, Type::kHistogram, std::move(label_names));
  if (info.unit == Unit::kSeconds) refuse(name, "durations go in a duration histogram");
  info = with_bounds(std::move(info), std::move(bounds), Histogram::kTicksPerUnit);
  return add<Family<Histogram>>(std::move(info), true);
}

Family<DurationHistogram>& Registry::duration_histogram(std::string_view name,
                                                        std::string_view help,
                                                        std::vector<double> bounds,
                                                        std::vector<std::string> label_names) {
  FamilyInfo info = describe(name, help, Type::kHistogram, std::move(label_names));
  if (info.unit != Unit::kSeconds) refuse(name, "a duration histogram's name ends in _seconds");
  info = with_bounds(std::move(info), std::move(bounds), DurationHistogram::kTicksPerUnit);
  return add<Family<DurationHistogram>>(std::move(info), true);
}

void Registry::counter_collector(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names,
                                 std::function<void(CounterSink&)> collect) {
  FamilyInfo info = describe(name, help, Type::kCounter, std::move(label_names));
  if (info.unit == Unit::kSeconds) refuse(name, "time is not counted: use a duration histogram");
  add<CollectorFamily<std::uint64_t>>(std::move(info), false, std::move(collect));
}

void Registry::gauge_collector(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names,
                               std::function<void(GaugeSink&)> collect) {
  add<CollectorFamily<double>>(describe(name, help, Type::kGauge, std::move(label_names)), false,
                               std::move(collect));
}

std::vector<FamilySnapshot> Registry::snapshot() const {
  // Families are never removed, so the pointers outlive the lock; reading them (and
  // running collectors) outside it keeps registration and scrapes from waiting on
  // each other.
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    families.reserve(families_.size());
    for (const auto& [name, family] : families_) families.push_back(family.get());
  }
  std::vector<FamilySnapshot> out;
  out.reserve(families.size());
  for (const FamilyBase* family : families) out.push_back(family->snapshot());
  return out;
}

std::string Registry::prometheus_text() const { return to_prometheus_text(snapshot()); }

}  // namespace synod::metrics
