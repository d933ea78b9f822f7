#include "synod/metrics/prometheus.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace synod::metrics {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Help text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// The shortest text that reads back as the same double, as Prometheus' Go parser
// reads it.
void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    out.append(buf, end);
  }
}

// {a="x",b="y"} with an optional trailing le label; nothing when there are no labels.
void append_labels(std::string& out, const std::vector<Label>& labels, const std::string* le) {
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const Label& label : labels) {
    if (!first) out += ',';
    first = false;
    out += label.name;
    out += "=\"";
    append_escaped(out, label.value, true);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<Label>& labels, const std::string* le) {
  out += name;
  out += suffix;
  append_labels(out, labels, le);
  out += ' ';
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha(name[0]) || name[0] == ':')) return false;
  for (char c : name) {
    if (!(is_alpha(c) || is_digit(c) || c == ':')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_alpha(name[0]) || name.starts_with("__")) return false;
  for (char c : name) {
    if (!(is_alpha(c) || is_digit(c))) return false;
  }
  return true;
}

std::string to_prometheus_text(std::span<const FamilySnapshot> families) {
  std::string out;
  for (const FamilySnapshot& family : families) {
    if (family.samples.empty()) continue;
    out += "# HELP ";
    out += family.name;
    out += ' ';
    append_escaped(out, family.help, false);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += type_name(family.type);
    out += '\n';
    if (family.type != Type::kHistogram) {
      for (const Sample& s : family.samples) {
        append_series(out, family.name, "", s.labels, nullptr);
        if (family.type == Type::kCounter) {
          out += std::to_string(s.counter);
        } else {
          append_double(out, s.gauge);
        }
        out += '\n';
      }
      continue;
    }
    std::vector<std::string> les;
    les.reserve(family.bounds.size() + 1);
    for (double bound : family.bounds) {
      append_double(les.emplace_back(), bound);
    }
    les.emplace_back("+Inf");
    for (const Sample& s : family.samples) {
      for (std::size_t i = 0; i < les.size(); ++i) {
        append_series(out, family.name, "_bucket", s.labels, &les[i]);
        out += std::to_string(i < s.buckets.size() ? s.buckets[i] : s.count);
        out += '\n';
      }
      append_series(out, family.name, "_sum", s.labels, nullptr);
      append_double(out, s.sum);
      out += '\n';
      append_series(out, family.name, "_count", s.labels, nullptr);
      out += std::to_string(s.count);
      out += '\n';
    }
  }
  return out;
}

}  // namespace synod::metrics
