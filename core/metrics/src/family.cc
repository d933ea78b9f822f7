#include "synod/metrics/family.h"

#include <stdexcept>
#include <string>

namespace synod::metrics {

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string_view unit_name(Unit unit) {
  switch (unit) {
    case Unit::kNone:
      return "";
    case Unit::kSeconds:
      return "seconds";
    case Unit::kBytes:
      return "bytes";
  }
  return "";
}

DurationBatch::DurationBatch(DurationHistogram& into) : into_(into) {
  if (into.cells_.cells() > counts_.size()) {
    throw std::invalid_argument("a DurationBatch takes histograms of at most 31 bounds");
  }
}

void DurationBatch::flush() noexcept {
  if (!pending_) return;
  into_.cells_.add(std::span<const std::uint64_t>(counts_.data(), into_.cells_.cells()), sum_);
  counts_.fill(0);
  sum_ = 0;
  pending_ = false;
}

void HistogramCells::read(Sample& out, double ticks_per_unit) const {
  out.buckets.resize(bounds_.size());
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out.buckets[i] = cumulative;
  }
  out.count = cumulative + counts_[bounds_.size()].load(std::memory_order_relaxed);
  out.sum = static_cast<double>(sum_.load(std::memory_order_relaxed)) / ticks_per_unit;
}

FamilySnapshot FamilyBase::describe() const {
  FamilySnapshot out;
  static_cast<FamilyDescription&>(out) = info_;
  return out;
}

std::vector<Label> FamilyBase::labels(const std::vector<std::string>& values) const {
  std::vector<Label> out;
  out.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out.push_back({info_.label_names[i], values[i]});
  return out;
}

void FamilyBase::check_arity(std::size_t values) const {
  if (values != info_.label_names.size()) {
    throw std::invalid_argument(info_.name + ": " + std::to_string(values) +
                                " label values given, the family has " +
                                std::to_string(info_.label_names.size()) + " labels");
  }
}

template <typename V>
void SampleSink<V>::add(std::vector<std::string> values, V value) {
  family_.check_arity(values.size());
  if (!values_.emplace(std::move(values), value).second) {
    throw std::invalid_argument(family_.info().name + ": a collector gave a label set twice");
  }
}

template <typename V>
FamilySnapshot CollectorFamily<V>::snapshot() const {
  SampleSink<V> sink(*this);
  collect_(sink);
  FamilySnapshot out = describe();
  out.samples.reserve(sink.values_.size());
  for (const auto& [values, value] : sink.values_) {
    Sample& s = out.samples.emplace_back();
    s.labels = labels(values);
    if constexpr (std::is_same_v<V, double>) {
      s.gauge = value;
    } else {
      s.counter = value;
    }
  }
  return out;
}

template class SampleSink<std::uint64_t>;
template class SampleSink<double>;
template class CollectorFamily<std::uint64_t>;
template class CollectorFamily<double>;

}  // namespace synod::metrics
