// The C runner of the scenarios every binding shares (bindings/scenarios/README.md): each
// *.scenario file there is one test here, run through synod.h alone.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "capi_harness.h"
#include "synod.h"

namespace synod::capi_test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> scenario_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(SYNOD_SCENARIO_DIR)) {
    if (e.path().extension() == ".scenario") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

const std::map<std::string, int>& statuses() {
  static const std::map<std::string, int> by_name = {
      {"invalid_argument", SYNOD_E_INVALID_ARGUMENT},
      {"not_leader", SYNOD_E_NOT_LEADER},
      {"no_leader", SYNOD_E_NO_LEADER},
      {"unknown_partition", SYNOD_E_UNKNOWN_PARTITION},
      {"payload_too_large", SYNOD_E_PAYLOAD_TOO_LARGE},
      {"timeout", SYNOD_E_TIMEOUT},
      {"shutting_down", SYNOD_E_SHUTTING_DOWN},
      {"dropped", SYNOD_E_DROPPED}};
  return by_name;
}

// A scenario's DATA field, with {i} replaced by `i`.
std::string data_of(const std::string& field, int i) {
  if (field == "-") return {};
  if (field.rfind("bytes:", 0) == 0) return std::string(std::stoul(field.substr(6)), 'a');
  std::string out = field;
  for (auto at = out.find("{i}"); at != std::string::npos; at = out.find("{i}")) {
    out.replace(at, 3, std::to_string(i));
  }
  return out;
}

// A TYPE field as the C ABI carries it: the entry type and the payload, or the status of
// synod_log_type_encode when it refuses the type.
struct Encoded {
  int status = SYNOD_OK;
  std::uint32_t entry_type = 0;
  std::string payload;
};

Encoded encode(const std::string& type, const std::string& data) {
  Encoded e;
  if (type.rfind("n:", 0) == 0) {
    e.entry_type = static_cast<std::uint32_t>(std::stoul(type.substr(2)));
    e.payload = data;
    return e;
  }
  const std::string name = type.substr(2);
  std::vector<std::uint8_t> out(data.size() + SYNOD_LOG_TYPE_MAX_OVERHEAD);
  std::size_t len = 0;
  e.status = synod_log_type_encode(name.data(), name.size(),
                                   reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                                   &e.entry_type, out.data(), out.size(), &len);
  e.payload.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len));
  return e;
}

// An entry's log type and data as a TYPE field and text, decoded per bindings/LOG_TYPES.md.
std::pair<std::string, std::string> decode(const Event& e) {
  const char* name = nullptr;
  std::size_t name_len = 0;
  const std::uint8_t* data = nullptr;
  std::size_t len = 0;
  EXPECT_EQ(
      synod_log_type_decode(e.raw.entry_type, reinterpret_cast<const std::uint8_t*>(e.data.data()),
                            e.data.size(), &name, &name_len, &data, &len),
      SYNOD_OK);
  std::string type =
      name ? "s:" + std::string(name, name_len) : "n:" + std::to_string(e.raw.entry_type);
  return {type, std::string(reinterpret_cast<const char*>(data), len)};
}

struct Written {
  std::string type;
  std::string data;
  std::uint64_t index;
};

class Runner {
 public:
  explicit Runner(std::string name)
      : name_(std::move(name)),
        dir_(fs::temp_directory_path() /
             ("synod-scenario-" + name_ + "-" + std::to_string(::getpid()))) {}
  ~Runner() {
    nodes_.clear();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void step(const std::vector<std::string>& f, const std::map<std::string, std::string>& opts) {
    const std::string& op = f[0];
    if (op == "cluster") {
      size_ = std::stoul(f.at(1));
      options_ = opts;
      network_ = new_network();
      start();
    } else if (op == "await_leader") {
      std::vector<synod_node*> connected;
      for (auto& [id, n] : nodes_) {
        if (id != isolated_) connected.push_back(n->get());
      }
      leader_ = await_leader(connected, 1);
      ASSERT_NE(leader_, 0u) << "no leader agreed";
    } else if (op == "write") {
      const int count = f.size() > 3 ? std::stoi(f[3].substr(1)) : 1;
      for (int i = 0; i < count; ++i) write(f.at(1), data_of(f.at(2), i));
    } else if (op == "refuse") {
      const std::uint64_t partition =
          opts.count("partition") ? std::stoull(opts.at("partition")) : 1;
      const int status = propose(leader(), partition, f.at(2), data_of(f.at(3), 0));
      EXPECT_EQ(status, statuses().at(f.at(1))) << synod_errstr(status);
    } else if (op == "isolate_leader") {
      ASSERT_EQ(synod_network_isolate(network_.get(), leader_), SYNOD_OK);
      isolated_ = leader_;
      leader_ = 0;
    } else if (op == "write_isolated_fails") {
      ASSERT_NE(isolated_, 0u);
      const int status = propose(*nodes_.at(isolated_), 1, f.at(1), data_of(f.at(2), 0));
      const std::set<int> allowed = {SYNOD_E_TIMEOUT, SYNOD_E_NOT_LEADER, SYNOD_E_NO_LEADER,
                                     SYNOD_E_DROPPED};
      EXPECT_TRUE(allowed.count(status)) << synod_errstr(status);
    } else if (op == "heal") {
      ASSERT_EQ(synod_network_heal(network_.get()), SYNOD_OK);
      isolated_ = 0;
    } else if (op == "expect_entries") {
      const std::size_t from = opts.count("from") ? std::stoul(opts.at("from")) : 1;
      expect_entries(from);
    } else if (op == "report_applied") {
      const std::uint64_t index = written_.at(std::stoul(f.at(1)) - 1).index;
      for (auto& [id, n] : nodes_) {
        EXPECT_EQ(synod_node_report_applied(n->get(), 1, index), SYNOD_OK) << synod_last_error();
      }
    } else if (op == "restart") {
      nodes_.clear();
      start();
    } else if (op == "close_with_pending") {
      close_with_pending(std::stoi(f.at(1)));
    } else {
      FAIL() << "unknown step " << op;
    }
  }

 private:
  void start() {
    std::vector<std::uint64_t> members;
    for (std::uint64_t id = 1; id <= size_; ++id) members.push_back(id);
    for (std::uint64_t id = 1; id <= size_; ++id) {
      ConfigPtr c = fast_config(id, members);
      ASSERT_EQ(synod_config_set_network(c.get(), network_.get()), SYNOD_OK);
      if (options_.count("max_payload_bytes")) {
        ASSERT_EQ(synod_config_set_max_payload_bytes(c.get(),
                                                     std::stoul(options_.at("max_payload_bytes"))),
                  SYNOD_OK);
      }
      if (options_.count("request_timeout_ms")) {
        ASSERT_EQ(
            synod_config_set_request_timeout_ms(
                c.get(), static_cast<std::uint32_t>(std::stoul(options_.at("request_timeout_ms")))),
            SYNOD_OK);
      }
      if (options_.count("durable")) {
        const fs::path dir = dir_ / ("node-" + std::to_string(id));
        ASSERT_EQ(synod_config_set_storage(c.get(), "rocksdb", dir.c_str()), SYNOD_OK);
        ASSERT_EQ(synod_config_set_sync(c.get(), 0), SYNOD_OK);  // a test: no power cuts
      }
      nodes_[id] = std::make_unique<PolledNode>(make_node(c.get()));
      ASSERT_NE(nodes_[id]->get(), nullptr);
    }
  }

  PolledNode& leader() {
    EXPECT_NE(leader_, 0u) << "no leader: await_leader first";
    return *nodes_.at(leader_);
  }

  // Proposes one entry and returns its outcome: the refusal, or the result's status.
  int propose(PolledNode& node, std::uint64_t partition, const std::string& type,
              const std::string& data, std::uint64_t* index = nullptr) {
    const Encoded e = encode(type, data);
    if (e.status != SYNOD_OK) return e.status;
    const std::uint64_t tag = next_tag_++;
    const int status = synod_node_replicate(node.get(), partition, e.entry_type,
                                            reinterpret_cast<const std::uint8_t*>(e.payload.data()),
                                            e.payload.size(), tag);
    if (status != SYNOD_OK) return status;
    EXPECT_TRUE(node.poll_until([&](const auto&) { return node.result(tag) != nullptr; }))
        << "no result for tag " << tag;
    const Event* r = node.result(tag);
    if (!r) return SYNOD_E_INTERNAL;
    if (index) *index = r->raw.index;
    return r->raw.status;
  }

  void write(const std::string& type, const std::string& data) {
    std::uint64_t index = 0;
    const int status = propose(leader(), 1, type, data, &index);
    ASSERT_EQ(status, SYNOD_OK) << synod_errstr(status) << ": " << type << " " << data;
    if (!written_.empty()) {
      EXPECT_GT(index, written_.back().index);
    }
    written_.push_back({type, data, index});
  }

  void expect_entries(std::size_t from) {
    const std::size_t expected = written_.size() - (from - 1);
    for (auto& [id, n] : nodes_) {
      ASSERT_TRUE(n->poll_until([&](const auto&) {
        return n->of_type(SYNOD_EVENT_ENTRY).size() >= expected;
      })) << "node "
          << id << " was given " << n->of_type(SYNOD_EVENT_ENTRY).size() << " of " << expected;
      const auto entries = n->of_type(SYNOD_EVENT_ENTRY);
      ASSERT_EQ(entries.size(), expected) << "node " << id;
      for (std::size_t k = 0; k < expected; ++k) {
        const Written& w = written_[from - 1 + k];
        EXPECT_EQ(decode(entries[k]), std::make_pair(w.type, w.data))
            << "node " << id << " entry " << k;
        EXPECT_EQ(entries[k].raw.index, w.index) << "node " << id << " entry " << k;
      }
    }
  }

  void close_with_pending(int count) {
    PolledNode& l = leader();
    std::vector<std::uint64_t> tags;
    for (int i = 0; i < count; ++i) {
      const Encoded e = encode("n:1", "pending-" + std::to_string(i));
      const std::uint64_t tag = next_tag_++;
      if (synod_node_replicate(l.get(), 1, e.entry_type,
                               reinterpret_cast<const std::uint8_t*>(e.payload.data()),
                               e.payload.size(), tag) == SYNOD_OK) {
        tags.push_back(tag);
      }
    }
    for (auto& [id, n] : nodes_) EXPECT_EQ(synod_node_stop(n->get()), SYNOD_OK);
    // A stopped node's queue ends (poll returns SYNOD_E_SHUTTING_DOWN) after its last
    // result: every accepted proposal must have one by then.
    EXPECT_TRUE(l.poll_until([&](const auto&) {
      return std::all_of(tags.begin(), tags.end(),
                         [&](std::uint64_t t) { return l.result(t) != nullptr; });
    }));
    for (std::uint64_t tag : tags) {
      const Event* r = l.result(tag);
      ASSERT_NE(r, nullptr) << "tag " << tag << " never completed";
      EXPECT_TRUE(r->raw.status == SYNOD_OK || r->raw.status == SYNOD_E_SHUTTING_DOWN)
          << synod_errstr(r->raw.status);
    }
    for (auto& [id, n] : nodes_) {
      synod_event batch[64];
      int polled = 0;
      const auto deadline = std::chrono::steady_clock::now() + kPatience;
      while ((polled = synod_node_poll(n->get(), batch, 64, 100)) >= 0 &&
             std::chrono::steady_clock::now() < deadline) {
      }
      EXPECT_EQ(polled, SYNOD_E_SHUTTING_DOWN) << "node " << id << "'s queue never ended";
    }
    nodes_.clear();  // frees every node: a sanitized build reports anything left behind
  }

  std::string name_;
  fs::path dir_;
  std::size_t size_ = 0;
  std::map<std::string, std::string> options_;
  NetworkPtr network_;
  std::map<std::uint64_t, std::unique_ptr<PolledNode>> nodes_;
  std::uint64_t leader_ = 0;
  std::uint64_t isolated_ = 0;
  std::uint64_t next_tag_ = 1;
  std::vector<Written> written_;
};

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, Runs) {
  std::ifstream in(fs::path(SYNOD_SCENARIO_DIR) / (GetParam() + ".scenario"));
  ASSERT_TRUE(in) << GetParam();
  Runner runner(GetParam());
  std::string line;
  int steps = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::vector<std::string> fields;
    std::map<std::string, std::string> options;
    for (std::string w; words >> w;) {
      const auto eq = w.find('=');
      if (eq != std::string::npos) {
        options[w.substr(0, eq)] = w.substr(eq + 1);
      } else if (!fields.empty() && fields[0] == "cluster" && w == "durable") {
        options[w] = "";
      } else {
        fields.push_back(w);
      }
    }
    if (fields.empty()) continue;
    SCOPED_TRACE(line);
    runner.step(fields, options);
    ++steps;
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(steps, 0);
}

INSTANTIATE_TEST_SUITE_P(Shared, Scenario, ::testing::ValuesIn(scenario_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace synod::capi_test
