// synod_node_metrics_text and synod_node_metrics_json: the NodeHost's registry, as
// Prometheus text and as JSON.
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "handles.h"  // the NodeHost, and with it synod::metrics
#include "json.h"

using synod::capi::fail;
using synod::capi::guarded;
using synod::capi::JsonObject;

namespace {

// Appends `items` as a JSON array, each written by append(out, item).
template <typename T, typename Append>
void append_array(std::string& out, const std::vector<T>& items, Append&& append) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    append(out, items[i]);
  }
  out += ']';
}

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
      append_array(f.key("labels"), family.label_names, synod::capi::append_json_string);
      const bool histogram = family.type == m::Type::kHistogram;
      if (histogram) append_array(f.key("bounds"), family.bounds, synod::capi::append_json_number);
      f.key("samples") += '[';
      bool first_sample = true;
      for (const m::Sample& sample : family.samples) {
        if (!std::exchange(first_sample, false)) out += ',';
        JsonObject s(out);
        append_labels(s.key("labels"), sample.labels);
        if (histogram) {
          append_array(s.key("buckets"), sample.buckets,
                       [](std::string& o, std::uint64_t n) { o += std::to_string(n); });
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
