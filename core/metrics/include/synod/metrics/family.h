// A metric family: one name, help text, type and unit, and a series (an instrument) per
// set of label values. Looking a series up locks the family; callers do it once and
// keep the reference.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "synod/metrics/instruments.h"
#include "synod/metrics/snapshot.h"

namespace synod::metrics {

// A family's description and, for histograms, its bounds in whole ticks.
struct FamilyInfo : FamilyDescription {
  std::vector<std::uint64_t> bound_ticks;
  friend bool operator==(const FamilyInfo&, const FamilyInfo&) = default;
};

// What the registry holds: a family of instruments or a collector.
class FamilyBase {
 public:
  explicit FamilyBase(FamilyInfo info) : info_(std::move(info)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const FamilyInfo& info() const { return info_; }
  // The family's description and its series as they are now.
  virtual FamilySnapshot snapshot() const = 0;
  // Throws std::invalid_argument unless there is one value per label name.
  void check_arity(std::size_t values) const;

 protected:
  // A snapshot with the description filled in and no samples.
  FamilySnapshot describe() const;
  // The sample's labels from the family's label names and these values.
  std::vector<Label> labels(const std::vector<std::string>& values) const;

 private:
  const FamilyInfo info_;
};

// T is Counter, Gauge, DoubleGauge, Histogram or DurationHistogram.
template <typename T>
class Family final : public FamilyBase {
 public:
  explicit Family(FamilyInfo info) : FamilyBase(std::move(info)) {
    if (this->info().label_names.empty()) with({});  // exported as zero from the start
  }

  // The series for these label values (one per label name, in order), created on first
  // use. The reference stays valid until remove() of the same values or the registry's
  // end. Throws std::invalid_argument on a wrong number of values.
  T& with(std::initializer_list<std::string_view> values) {
    return with(std::vector<std::string>(values.begin(), values.end()));
  }
  T& with(std::vector<std::string> values) {
    check_arity(values.size());
    std::lock_guard lock(mu_);
    auto& slot = series_[std::move(values)];
    if (!slot) slot = make();
    return *slot;
  }
  // The only series of a family without labels.
  T& get() { return with({}); }

  // Drops a series (a partition or peer that is gone), so scrapes stop showing it. The
  // caller must no longer use its reference. Returns whether it existed.
  bool remove(std::initializer_list<std::string_view> values) {
    check_arity(values.size());
    std::lock_guard lock(mu_);
    return series_.erase(std::vector<std::string>(values.begin(), values.end())) > 0;
  }

  FamilySnapshot snapshot() const override {
    FamilySnapshot out = describe();
    std::lock_guard lock(mu_);
    out.samples.reserve(series_.size());
    for (const auto& [values, series] : series_) {
      Sample& s = out.samples.emplace_back();
      s.labels = labels(values);
      series->read(s);
    }
    return out;
  }

 private:
  std::unique_ptr<T> make() const {
    if constexpr (std::is_constructible_v<T, std::span<const std::uint64_t>>) {
      return std::make_unique<T>(std::span<const std::uint64_t>(info().bound_ticks));
    } else {
      return std::make_unique<T>();
    }
  }

  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

// What a collector writes its values into at scrape time: one add() per series.
template <typename V>
class SampleSink {
 public:
  // Throws std::invalid_argument on a wrong number of label values or a label set
  // given twice.
  void add(std::initializer_list<std::string_view> values, V value) {
    add(std::vector<std::string>(values.begin(), values.end()), value);
  }
  void add(std::vector<std::string> values, V value);

 private:
  template <typename>
  friend class CollectorFamily;
  explicit SampleSink(const FamilyBase& family) : family_(family) {}

  const FamilyBase& family_;
  std::map<std::vector<std::string>, V> values_;
};

using CounterSink = SampleSink<std::uint64_t>;
using GaugeSink = SampleSink<double>;

// A family whose values a callback produces when the registry is read, over counters
// kept elsewhere (the storage's, the transport's): the hot path pays nothing.
template <typename V>
class CollectorFamily final : public FamilyBase {
 public:
  CollectorFamily(FamilyInfo info, std::function<void(SampleSink<V>&)> collect)
      : FamilyBase(std::move(info)), collect_(std::move(collect)) {}

  FamilySnapshot snapshot() const override;

 private:
  const std::function<void(SampleSink<V>&)> collect_;
};

extern template class SampleSink<std::uint64_t>;
extern template class SampleSink<double>;
extern template class CollectorFamily<std::uint64_t>;
extern template class CollectorFamily<double>;

}  // namespace synod::metrics
