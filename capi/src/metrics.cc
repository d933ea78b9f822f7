// synod_node_metrics_text and synod_node_metrics_json: the NodeHost's registry, as
// Prometheus text and as JSON.
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "handles.h"
#include "json.h"
#include "synod/metrics/snapshot.h"

using synod::capi::fail;
using synod::capi::guarded;
using synod::capi::JsonObject;

namespace {

void append_labels(std::string& out, const std::vector<synod::metrics::Label>& labels) {
  JsonObject object(out);
  for (const auto& label : labels) object.string(label.name, label.value);
}

std::string metrics_json(synod_node& n) {
  namespace m = synod::metrics;
  std::string out;
  {
    JsonObject root(out);
    root.number("node", n.id);
    root.key("families") += '[';
    bool first_family = true;
    for (const m::FamilySnapshot& family : n.runtime->host().metrics().snapshot()) {
      if (!std::exchange(first_family, false)) out += ',';
      JsonObject f(out);
      f.string("name", family.name);
      f.string("help", family.help);
      f.string("type", m::type_name(family.type));
      f.string("unit", m::unit_name(family.unit));
      std::string& names = f.key("labels");
      names += '[';
      for (std::size_t i = 0; i < family.label_names.size(); ++i) {
        if (i > 0) names += ',';
        synod::capi::append_json_string(names, family.label_names[i]);
      }
      names += ']';
      const bool histogram = family.type == m::Type::kHistogram;
      if (histogram) {
        std::string& bounds = f.key("bounds");
        bounds += '[';
        for (std::size_t i = 0; i < family.bounds.size(); ++i) {
          if (i > 0) bounds += ',';
          synod::capi::append_json_number(bounds, family.bounds[i]);
        }
        bounds += ']';
      }
      f.key("samples") += '[';
      bool first_sample = true;
      for (const m::Sample& sample : family.samples) {
        if (!std::exchange(first_sample, false)) out += ',';
        JsonObject s(out);
        append_labels(s.key("labels"), sample.labels);
        if (histogram) {
          std::string& buckets = s.key("buckets");
          buckets += '[';
          for (std::size_t i = 0; i < sample.buckets.size(); ++i) {
            if (i > 0) buckets += ',';
            buckets += std::to_string(sample.buckets[i]);
          }
          buckets += ']';
          s.number("count", sample.count);
          s.real("sum", sample.sum);
        } else if (family.type == m::Type::kCounter) {
          s.number("value", sample.counter);
        } else {
          s.real("value", sample.gauge);
        }
      }
      out += ']';
    }
    out += ']';
  }
  return out;
}

// The checks and hand-out both functions share; `render` makes the text.
template <typename Render>
int render_out(const char* fn, synod_node* node, char** out, size_t* out_len, Render&& render) {
  if (out) *out = nullptr;
  return guarded(fn, [&]() -> int {
    if (!node) return fail(SYNOD_E_INVALID_ARGUMENT, std::string(fn) + ": node is NULL");
    if (!out) return fail(SYNOD_E_INVALID_ARGUMENT, std::string(fn) + ": output pointer is NULL");
    return synod::capi::hand_out(fn, render(*node), out, out_len);
  });
}

}  // namespace

extern "C" {

SYNOD_API int synod_node_metrics_text(synod_node* node, char** out_text, size_t* out_len) {
  return render_out("synod_node_metrics_text", node, out_text, out_len,
                    [](synod_node& n) { return n.runtime->host().metrics().prometheus_text(); });
}

SYNOD_API int synod_node_metrics_json(synod_node* node, char** out_json, size_t* out_len) {
  return render_out("synod_node_metrics_json", node, out_json, out_len, metrics_json);
}

}  // extern "C"
