// synod_node_metrics_text and synod_node_metrics_json after a workload on a three-node
// cluster: the text is valid Prometheus exposition format, carries the engine's families
// with the values the workload moved, and README.md's metrics table matches it exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "capi_harness.h"
#include "synod.h"

namespace synod::capi_test {
namespace {

// One family as the text shows it.
struct Family {
  std::string help;
  std::string type;
  std::set<std::string> labels;  // label names of its series (without a histogram's le)
  // Series name with its labels as written -> value.
  std::map<std::string, double> samples;
};

// Parses Prometheus text format 0.0.4 strictly enough to catch what a scraper refuses:
// every line is a HELP, a TYPE or a sample; HELP and TYPE come once per family, before
// its samples; sample names belong to the family (with _bucket, _sum, _count for
// histograms); label sets are well formed; values are numbers; a histogram's buckets are
// cumulative and end in le="+Inf" equal to _count. Fails the test on the first error.
std::map<std::string, Family> parse_prometheus(const std::string& text) {
  static const std::regex help(R"re(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))re");
  static const std::regex type(
      R"re(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))re");
  static const std::regex sample(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+))re");
  static const std::regex label(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  std::map<std::string, Family> families;
  std::string current;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the text ends with a newline";
  std::istringstream in(text);
  std::string line;
  double last_bucket = -1;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      current = m[1];
      EXPECT_EQ(families.count(current), 0u) << "family given twice: " << line;
      families[current].help = m[2];
      continue;
    }
    if (std::regex_match(line, m, type)) {
      EXPECT_EQ(m[1], current) << "TYPE without its HELP: " << line;
      families[current].type = m[2];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not a Prometheus text line: " << line;
      continue;
    }
    const std::string name = m[1];
    Family& f = families[current];
    const bool histogram = f.type == "histogram";
    if (histogram) {
      EXPECT_TRUE(name == current + "_bucket" || name == current + "_sum" ||
                  name == current + "_count")
          << line;
    } else {
      EXPECT_EQ(name, current) << "a sample outside its family: " << line;
    }
    char* end = nullptr;
    const std::string raw = m[4];
    double value = HUGE_VAL;
    if (raw != "+Inf") {
      value = std::strtod(raw.c_str(), &end);
      EXPECT_EQ(*end, '\0') << "not a number: " << line;
    }
    std::string labels = m[3];
    bool le_inf = false;
    for (std::sregex_iterator it(labels.begin(), labels.end(), label), stop; it != stop; ++it) {
      if ((*it)[1] == "le") {
        le_inf = (*it)[2] == "+Inf";
        continue;
      }
      f.labels.insert((*it)[1]);
    }
    if (name == current + "_bucket") {
      EXPECT_GE(value, last_bucket) << "buckets are cumulative: " << line;
      last_bucket = le_inf ? -1 : value;
    }
    f.samples[name + "{" + labels + "}"] = value;
  }
  for (const auto& [name, f] : families) {
    EXPECT_FALSE(f.type.empty()) << name << " has no TYPE";
    EXPECT_FALSE(f.samples.empty()) << name << " has no samples";
  }
  return families;
}

std::string metrics_text(synod_node* node) {
  char* text = nullptr;
  size_t len = 0;
  EXPECT_EQ(synod_node_metrics_text(node, &text, &len), SYNOD_OK) << synod_last_error();
  if (!text) return {};
  std::string out(text, len);
  EXPECT_EQ(std::strlen(text), len);
  synod_free(text);
  return out;
}

// The value of one series, as written in the text (name{labels}); -1 when absent.
double series(const std::map<std::string, Family>& families, const std::string& family,
              const std::string& name) {
  auto f = families.find(family);
  if (f == families.end()) return -1;
  auto s = f->second.samples.find(name);
  return s == f->second.samples.end() ? -1 : s->second;
}

// README.md's "Metrics" table: name -> "type | labels | meaning".
std::map<std::string, std::string> readme_table() {
  std::ifstream in(SYNOD_README);
  EXPECT_TRUE(in) << SYNOD_README;
  static const std::regex row(R"re(\| `(synod_[a-z0-9_]+)` \| (.*) \|)re");
  std::map<std::string, std::string> out;
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) in_section = line == "## Metrics";
    std::smatch m;
    if (in_section && std::regex_match(line, m, row)) out[m[1]] = m[2];
  }
  return out;
}

class CapiMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_ = cluster_.await_leader(1);
    ASSERT_NE(leader_, 0u);
    const uint8_t data[] = {'m', 'e', 't', 'r', 'i', 'c', 's'};
    for (int i = 0; i < kWrites; ++i) {
      synod_result r{};
      ASSERT_EQ(synod_node_replicate_wait(n(), 1, 1, data, sizeof data, &r), SYNOD_OK)
          << synod_last_error();
      ASSERT_EQ(r.status, SYNOD_OK);
    }
    synod_result r{};
    ASSERT_EQ(synod_node_read_index_wait(n(), 1, &r), SYNOD_OK) << synod_last_error();
    // A cycle adds its answers' latencies once it ends, a moment after the answers.
    ASSERT_TRUE(cluster_.node(leader_).poll_until([&](const std::vector<Event>&) {
      const auto families = parse_prometheus(metrics_text(n()));
      return series(families, "synod_read_index_latency_seconds",
                    "synod_read_index_latency_seconds_count{}") >= 1 &&
             series(families, "synod_proposal_apply_latency_seconds",
                    "synod_proposal_apply_latency_seconds_count{}") >= kWrites;
    }));
  }
  synod_node* n() { return cluster_.node(leader_).get(); }

  static constexpr int kWrites = 20;
  Cluster cluster_{1};
  std::uint64_t leader_ = 0;
};

TEST_F(CapiMetrics, TextIsPrometheusFormatWithTheWorkloadsValues) {
  const auto families = parse_prometheus(metrics_text(n()));
  // Each of these moved during the workload.
  for (const char* counted :
       {"synod_proposal_commit_latency_seconds", "synod_proposal_apply_latency_seconds",
        "synod_read_index_latency_seconds", "synod_cycle_duration_seconds",
        "synod_storage_batch_entries", "synod_network_batch_messages"}) {
    EXPECT_GE(series(families, counted, std::string(counted) + "_count{}"), 1) << counted;
  }
  EXPECT_GE(series(families, "synod_proposal_commit_latency_seconds",
                   "synod_proposal_commit_latency_seconds_count{}"),
            kWrites);
  EXPECT_GE(series(families, "synod_storage_entries_total", "synod_storage_entries_total{}"),
            kWrites);
  EXPECT_GT(series(families, "synod_transport_messages_sent_total",
                   "synod_transport_messages_sent_total{}"),
            0);
  EXPECT_GT(series(families, "synod_heartbeats_sent_total", "synod_heartbeats_sent_total{}"), 0);
  EXPECT_GE(
      series(families, "synod_elections_won_total", "synod_elections_won_total{partition=\"1\"}"),
      1);
  EXPECT_GE(series(families, "synod_partition_term", "synod_partition_term{partition=\"1\"}"), 1);
  EXPECT_EQ(series(families, "synod_partition_leader", "synod_partition_leader{partition=\"1\"}"),
            static_cast<double>(leader_));
  // The C ABI's own gauge sits beside the engine's.
  EXPECT_GE(series(families, "synod_event_queue_depth", "synod_event_queue_depth{}"), 0);
}

TEST_F(CapiMetrics, ReadmeTableListsEveryMetricExactly) {
  const auto families = parse_prometheus(metrics_text(n()));
  std::map<std::string, std::string> expected;
  for (const auto& [name, f] : families) {
    std::string labels;
    for (const auto& l : f.labels) labels += (labels.empty() ? "" : ", ") + l;
    expected[name] = f.type + " | " + labels + " | " + f.help;
  }
  const auto documented = readme_table();
  std::string table;
  for (const auto& [name, row] : expected) table += "| `" + name + "` | " + row + " |\n";
  EXPECT_EQ(documented, expected)
      << "README.md's \"Metrics\" table differs from the registry; its rows should be:\n"
      << table;
}

TEST_F(CapiMetrics, JsonCarriesTheSameFamiliesAndValues) {
  char* json = nullptr;
  size_t len = 0;
  ASSERT_EQ(synod_node_metrics_json(n(), &json, &len), SYNOD_OK) << synod_last_error();
  ASSERT_NE(json, nullptr);
  const std::string text(json, len);
  EXPECT_EQ(std::strlen(json), len);
  synod_free(json);
  EXPECT_TRUE(text.starts_with("{\"node\":" + std::to_string(leader_) + ",\"families\":["))
      << text.substr(0, 200);
  EXPECT_EQ(text.back(), '}');
  // Every family of the text is there, with its type.
  for (const auto& [name, f] : parse_prometheus(metrics_text(n()))) {
    EXPECT_NE(text.find("{\"name\":\"" + name + "\",\"help\":"), std::string::npos) << name;
  }
  EXPECT_NE(text.find("\"name\":\"synod_proposal_commit_latency_seconds\",\"help\":"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          "\"type\":\"histogram\",\"unit\":\"seconds\",\"labels\":[],\"bounds\":[1e-04,2e-04,"),
      std::string::npos)
      << text.substr(text.find("synod_proposal_commit"), 300);
  EXPECT_NE(text.find("{\"labels\":{\"partition\":\"1\"},\"value\":"), std::string::npos);
}

TEST_F(CapiMetrics, AStoppedNodeStillAnswersWithItsLastValues) {
  ASSERT_EQ(synod_node_stop(n()), SYNOD_OK);
  const auto families = parse_prometheus(metrics_text(n()));
  EXPECT_GE(series(families, "synod_storage_entries_total", "synod_storage_entries_total{}"),
            kWrites);
}

}  // namespace
}  // namespace synod::capi_test
