// A registry's values at one instant, as plain structs: what the Prometheus writer
// prints and what the C ABI and the bindings hand to their hosts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synod::metrics {

enum class Type { kCounter, kGauge, kHistogram };

// The unit follows from the metric's name (Prometheus conventions): a name whose base
// (without `_total`) ends in `_seconds` is in seconds, in `_bytes` in bytes; any other
// name counts things.
enum class Unit { kNone, kSeconds, kBytes };

// "counter", "gauge", "histogram": the words of the text format's # TYPE line.
std::string_view type_name(Type type);
// "", "seconds", "bytes".
std::string_view unit_name(Unit unit);

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
};

// One series of a family: one set of label values. Which fields hold the value depends
// on the family's type.
struct Sample {
  std::vector<Label> labels;  // in the order of the family's label names
  std::uint64_t counter = 0;  // kCounter: the count, exact
  double gauge = 0;           // kGauge: the value (an integer gauge converted)
  // kHistogram: cumulative counts, buckets[i] counting the observations <= bounds[i] of
  // the family; the +Inf bucket is `count`. `sum` is in the family's unit.
  std::vector<std::uint64_t> buckets;
  double sum = 0;
  std::uint64_t count = 0;
};

// What describes a family, fixed when it is registered.
struct FamilyDescription {
  std::string name;
  std::string help;
  Type type = Type::kCounter;
  Unit unit = Unit::kNone;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // kHistogram: the finite upper bounds, increasing
  friend bool operator==(const FamilyDescription&, const FamilyDescription&) = default;
};

struct FamilySnapshot : FamilyDescription {
  // Ordered by label values. Empty for a labelled family no series was created in yet.
  std::vector<Sample> samples;
};

}  // namespace synod::metrics
