#include "synod/metrics/prometheus.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "synod/metrics/registry.h"

namespace synod::metrics {
namespace {

// A strict reader of the text format, written from the format's description, so that
// the writer is checked against the grammar rather than against itself.
struct ParsedSample {
  std::string name;
  std::vector<Label> labels;
  double value = 0;
};
struct ParsedFamily {
  std::string name;
  std::string help;
  std::string type;
  std::vector<ParsedSample> samples;
};

[[noreturn]] void bad(const std::string& line, const std::string& why) {
  throw std::runtime_error("unparsable line '" + line + "': " + why);
}

std::string unescape(const std::string& line, std::string_view text, bool quoted) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      if (quoted && text[i] == '"') bad(line, "bare quote in a label value");
      if (text[i] == '\n') bad(line, "raw newline");
      out += text[i];
      continue;
    }
    if (++i == text.size()) bad(line, "dangling backslash");
    if (text[i] == '\\') {
      out += '\\';
    } else if (text[i] == 'n') {
      out += '\n';
    } else if (quoted && text[i] == '"') {
      out += '"';
    } else {
      bad(line, "unknown escape");
    }
  }
  return out;
}

double parse_value(const std::string& line, const std::string& text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::nan("");
  std::size_t used = 0;
  const double v = std::stod(text, &used);
  if (used != text.size()) bad(line, "trailing characters after the value");
  return v;
}

ParsedSample parse_sample(const std::string& line) {
  ParsedSample s;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  s.name = line.substr(0, i);
  if (!valid_metric_name(s.name)) bad(line, "metric name");
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (line.at(i) != '}') {
      const std::size_t eq = line.find('=', i);
      Label label{line.substr(i, eq - i), ""};
      if (!valid_label_name(label.name) || line.at(eq + 1) != '"') bad(line, "label");
      std::size_t end = eq + 2;
      while (line.at(end) != '"') end += line[end] == '\\' ? 2 : 1;
      label.value = unescape(line, std::string_view(line).substr(eq + 2, end - eq - 2), true);
      s.labels.push_back(label);
      i = end + 1;
      if (line.at(i) == ',') ++i;
    }
    ++i;
  }
  if (line.at(i) != ' ') bad(line, "no space before the value");
  s.value = parse_value(line, line.substr(i + 1));
  return s;
}

std::vector<ParsedFamily> parse(const std::string& text) {
  std::vector<ParsedFamily> out;
  std::istringstream in(text);
  std::string line;
  if (!text.empty() && text.back() != '\n') bad(text, "no final newline");
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ")) {
      const std::size_t space = line.find(' ', 7);
      out.push_back({line.substr(7, space - 7),
                     unescape(line, std::string_view(line).substr(space + 1), false),
                     "",
                     {}});
    } else if (line.starts_with("# TYPE ")) {
      const std::size_t space = line.find(' ', 7);
      if (out.empty() || out.back().name != line.substr(7, space - 7))
        bad(line, "TYPE not after HELP");
      out.back().type = line.substr(space + 1);
    } else {
      if (out.empty() || out.back().type.empty()) bad(line, "a sample before its TYPE");
      out.back().samples.push_back(parse_sample(line));
    }
  }
  return out;
}

// What the text must hold for a snapshot, series by series.
std::vector<ParsedSample> expected_samples(const FamilySnapshot& f) {
  std::vector<ParsedSample> out;
  for (const Sample& s : f.samples) {
    switch (f.type) {
      case Type::kCounter:
        out.push_back({f.name, s.labels, static_cast<double>(s.counter)});
        break;
      case Type::kGauge:
        out.push_back({f.name, s.labels, s.gauge});
        break;
      case Type::kHistogram:
        for (std::size_t i = 0; i <= f.bounds.size(); ++i) {
          std::vector<Label> labels = s.labels;
          const bool inf = i == f.bounds.size();
          std::ostringstream le;
          le.precision(17);
          le << (inf ? 0 : f.bounds[i]);
          labels.push_back({"le", inf ? "+Inf" : le.str()});
          out.push_back(
              {f.name + "_bucket", labels, static_cast<double>(inf ? s.count : s.buckets[i])});
        }
        out.push_back({f.name + "_sum", s.labels, s.sum});
        out.push_back({f.name + "_count", s.labels, static_cast<double>(s.count)});
        break;
    }
  }
  return out;
}

void expect_same(const ParsedSample& got, const ParsedSample& want) {
  EXPECT_EQ(got.name, want.name);
  ASSERT_EQ(got.labels.size(), want.labels.size()) << want.name;
  for (std::size_t i = 0; i < want.labels.size(); ++i) {
    EXPECT_EQ(got.labels[i].name, want.labels[i].name);
    if (want.labels[i].name == "le") {  // compared as numbers: the text is the shortest form
      EXPECT_EQ(parse_value("le", got.labels[i].value), parse_value("le", want.labels[i].value));
    } else {
      EXPECT_EQ(got.labels[i].value, want.labels[i].value);
    }
  }
  if (std::isnan(want.value)) {
    EXPECT_TRUE(std::isnan(got.value)) << want.name;
  } else {
    EXPECT_EQ(got.value, want.value) << want.name;
  }
}

TEST(PrometheusText, ParsesBackToTheSnapshot) {
  Registry r;
  auto& msgs = r.counter("synod_messages_total", "Messages sent.\nPer peer \\ partition.",
                         {"partition", "peer"});
  msgs.with({"3", "2"}).add(12);
  msgs.with({"quote\"back\\slash", "new\nline"}).add(1);
  msgs.with({"", "ünïcødé"}).add(2);
  r.gauge("synod_queue_depth", "Depth.").get().set(-7);
  auto& ratio = r.double_gauge("synod_ratio", "Ratio.", {"kind"});
  ratio.with({"third"}).set(1.0 / 3);
  ratio.with({"nan"}).set(std::nan(""));
  ratio.with({"inf"}).set(-std::numeric_limits<double>::infinity());
  auto& fsync = r.duration_histogram("synod_fsync_seconds", "Fsync.",
                                     exponential_bounds(0.0001, 2, 12), {"partition"});
  fsync.with({"1"}).observe(std::chrono::microseconds(150));
  fsync.with({"1"}).observe(std::chrono::milliseconds(3));
  fsync.with({"1"}).observe(std::chrono::seconds(1));
  r.histogram("synod_batch_bytes", "Bytes.", {64, 4096, 1 << 20}).get().observe(4096);
  r.counter_collector("synod_syncs_total", "Syncs.", {}, [](CounterSink& s) {
    s.add({}, std::uint64_t{1} << 60);  // exact: counters print as integers
  });
  r.counter("synod_unused_total", "No series yet.", {"peer"});

  const std::vector<FamilySnapshot> snapshot = r.snapshot();
  const std::string text = to_prometheus_text(snapshot);
  const std::vector<ParsedFamily> parsed = parse(text);

  std::size_t i = 0;
  for (const FamilySnapshot& f : snapshot) {
    if (f.samples.empty()) continue;  // families without series are left out
    ASSERT_LT(i, parsed.size());
    const ParsedFamily& p = parsed[i++];
    EXPECT_EQ(p.name, f.name);
    EXPECT_EQ(p.help, f.help);
    EXPECT_EQ(p.type, type_name(f.type));
    const std::vector<ParsedSample> want = expected_samples(f);
    ASSERT_EQ(p.samples.size(), want.size()) << f.name;
    for (std::size_t j = 0; j < want.size(); ++j) expect_same(p.samples[j], want[j]);
  }
  EXPECT_EQ(i, parsed.size());
  EXPECT_EQ(parsed.size(), 6u);
  EXPECT_NE(text.find("synod_syncs_total 1152921504606846976\n"), std::string::npos);
}

TEST(PrometheusText, Golden) {
  Registry r;
  auto& msgs = r.counter("synod_messages_total", "Messages sent, by peer.", {"peer"});
  msgs.with({"2"}).add(5);
  msgs.with({"a\"b\\c\nd"}).add(1);
  r.gauge("synod_term", "Current term.\\ Second \"line\":\nhere.").get().set(42);
  r.double_gauge("synod_load", "Load.").get().set(0.25);
  auto& commit = r.duration_histogram("synod_commit_seconds", "Propose to commit.",
                                      {0.001, 0.005, 0.1}, {"partition"});
  commit.with({"3"}).observe(std::chrono::milliseconds(1));
  commit.with({"3"}).observe(std::chrono::microseconds(2500));
  commit.with({"3"}).observe(std::chrono::milliseconds(200));
  r.gauge_collector("synod_lag", "Follower lag.", {"peer"}, [](GaugeSink& s) {
    s.add({"1"}, 0);
    s.add({"3"}, 17);
  });

  EXPECT_EQ(r.prometheus_text(),
            "# HELP synod_commit_seconds Propose to commit.\n"
            "# TYPE synod_commit_seconds histogram\n"
            "synod_commit_seconds_bucket{partition=\"3\",le=\"0.001\"} 1\n"
            "synod_commit_seconds_bucket{partition=\"3\",le=\"0.005\"} 2\n"
            "synod_commit_seconds_bucket{partition=\"3\",le=\"0.1\"} 2\n"
            "synod_commit_seconds_bucket{partition=\"3\",le=\"+Inf\"} 3\n"
            "synod_commit_seconds_sum{partition=\"3\"} 0.2035\n"
            "synod_commit_seconds_count{partition=\"3\"} 3\n"
            "# HELP synod_lag Follower lag.\n"
            "# TYPE synod_lag gauge\n"
            "synod_lag{peer=\"1\"} 0\n"
            "synod_lag{peer=\"3\"} 17\n"
            "# HELP synod_load Load.\n"
            "# TYPE synod_load gauge\n"
            "synod_load 0.25\n"
            "# HELP synod_messages_total Messages sent, by peer.\n"
            "# TYPE synod_messages_total counter\n"
            "synod_messages_total{peer=\"2\"} 5\n"
            "synod_messages_total{peer=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP synod_term Current term.\\\\ Second \"line\":\\nhere.\n"
            "# TYPE synod_term gauge\n"
            "synod_term 42\n");
}

TEST(PrometheusText, NamesFollowTheGrammar) {
  EXPECT_TRUE(valid_metric_name("synod_x:y_1"));
  EXPECT_TRUE(valid_metric_name(":leading_colon"));
  EXPECT_TRUE(valid_metric_name("_"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("1x"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name("a b"));
  EXPECT_TRUE(valid_label_name("partition_2"));
  EXPECT_TRUE(valid_label_name("_private"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("2a"));
  EXPECT_FALSE(valid_label_name(""));
}

TEST(PrometheusText, NothingForARegistryWithoutSeries) {
  Registry r;
  r.counter("labelled_total", "h", {"peer"});
  EXPECT_EQ(r.prometheus_text(), "");
}

}  // namespace
}  // namespace synod::metrics
