// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), served with the
// content type kPrometheusContentType.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "synod/metrics/snapshot.h"

namespace synod::metrics {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus itself).
bool valid_label_name(std::string_view name);

// # HELP and # TYPE per family, then its series; histograms as _bucket{le="..."} (with
// le="+Inf"), _sum and _count. Families without series are left out.
std::string to_prometheus_text(std::span<const FamilySnapshot> families);

}  // namespace synod::metrics
