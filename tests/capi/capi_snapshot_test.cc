// Host snapshots through the C ABI: the host saves its state when a SAVE event asks,
// installs a snapshot when an INSTALL event brings one, both through snapshot handles, in
// log order with the entries; both state machine models; every misuse of a handle.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "capi_harness.h"

namespace synod::capi_test {
namespace {

const std::uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

using State = std::map<std::string, std::string>;

// A host whose state is a map per partition: an entry "key=value" sets a key. It saves
// its state as lines "key=value\n" in small pieces and installs from them, so that a
// snapshot spans many writes and reads. It checks the log order as it goes: every entry
// lies above the last entry or install of its partition.
class MapHost {
 public:
  explicit MapHost(PolledNode& node) : node_(&node) {}

  // Polls and handles events until `done()` holds; false when kPatience passes first.
  bool run_until(const std::function<bool()>& done) {
    return node_->poll_until([&](const auto&) {
      handle_new();
      return done();
    });
  }

  // Polls once, waiting up to `timeout_ms`, and handles what came.
  void step(int timeout_ms) {
    node_->poll_once(timeout_ms);
    handle_new();
  }

  State& state(std::uint64_t partition) { return states_[partition]; }
  std::uint64_t applied(std::uint64_t partition) { return applied_[partition]; }
  // SAVE, INSTALL and DONE events of user partitions, in order.
  const std::vector<synod_event>& saves() const { return saves_; }
  const std::vector<synod_event>& installs() const { return installs_; }
  const std::vector<synod_event>& dones() const { return dones_; }
  // The first partition-1 event handled (ENTRY or INSTALL), 0 before any.
  int first_event_type() const { return first_type_; }
  // Log order violations seen, and handle calls that failed; both should stay empty.
  const std::vector<std::string>& problems() const { return problems_; }
  // Why the last install could not be read; empty when none failed.
  const std::string& read_failure() const { return read_failure_; }

  // Durable model: report every entry applied as soon as it is, so the log compacts.
  bool report_applied = false;
  // Runs when an INSTALL arrives, before the host reads it.
  std::function<void()> before_install;
  // Leave SAVE handles open (in open_saves) instead of writing and finishing them.
  bool hold_saves = false;
  std::vector<std::uint64_t> open_saves;

  // Writes the partition's state to the save handle in pieces and finishes it.
  void save(const synod_event& e) {
    const std::string data = serialize(states_[e.partition]);
    for (std::size_t at = 0; at < data.size(); at += 7) {
      const std::size_t n = std::min<std::size_t>(7, data.size() - at);
      if (synod_snapshot_write(node_->get(), e.tag, bytes(data) + at, n) != SYNOD_OK) {
        problems_.push_back(std::string("write: ") + synod_last_error());
      }
    }
    std::uint64_t size = 0;
    if (synod_snapshot_size(node_->get(), e.tag, &size) != SYNOD_OK || size != data.size()) {
      problems_.push_back("size of a save: " + std::to_string(size) + " for " + std::to_string(data.size()));
    }
    if (synod_snapshot_finish(node_->get(), e.tag, SYNOD_OK, nullptr) != SYNOD_OK) {
      problems_.push_back(std::string("finish: ") + synod_last_error());
    }
  }

 private:
  static std::string serialize(const State& state) {
    std::string out;
    for (const auto& [k, v] : state) out += k + "=" + v + "\n";
    return out;
  }

  void handle_new() {
    const auto& events = node_->events();
    for (; handled_ < events.size(); ++handled_) handle(events[handled_]);
  }

  void handle(const Event& event) {
    const synod_event& e = event.raw;
    if (e.partition == 0) return;
    if (e.partition == 1 && first_type_ == 0 &&
        (e.type == SYNOD_EVENT_ENTRY || e.type == SYNOD_EVENT_SNAPSHOT_INSTALL)) {
      first_type_ = e.type;
    }
    switch (e.type) {
      case SYNOD_EVENT_ENTRY: {
        if (e.index <= applied_[e.partition]) {
          problems_.push_back("entry " + std::to_string(e.index) + " after " +
                              std::to_string(applied_[e.partition]));
        }
        const auto eq = event.data.find('=');
        states_[e.partition][event.data.substr(0, eq)] = event.data.substr(eq + 1);
        applied_[e.partition] = e.index;
        if (report_applied && synod_node_report_applied(node_->get(), e.partition, e.index) != SYNOD_OK) {
          problems_.push_back(std::string("report_applied: ") + synod_last_error());
        }
        break;
      }
      case SYNOD_EVENT_SNAPSHOT_SAVE:
        saves_.push_back(e);
        // At or above the host's last entry: the engine's own entries are not delivered.
        if (e.index < applied_[e.partition]) {
          problems_.push_back("save at " + std::to_string(e.index) + " after entry " +
                              std::to_string(applied_[e.partition]));
        }
        if (hold_saves) {
          open_saves.push_back(e.tag);
        } else {
          save(e);
        }
        break;
      case SYNOD_EVENT_SNAPSHOT_INSTALL:
        installs_.push_back(e);
        if (before_install) before_install();
        install(e);
        break;
      case SYNOD_EVENT_SNAPSHOT_DONE:
        dones_.push_back(e);
        break;
      default:
        break;
    }
  }

  void install(const synod_event& e) {
    std::uint64_t size = 0;
    if (synod_snapshot_size(node_->get(), e.tag, &size) != SYNOD_OK) {
      problems_.push_back(std::string("size of an install: ") + synod_last_error());
    }
    std::string data;
    std::uint8_t buf[5];
    std::size_t got = 0;
    int status = SYNOD_OK;
    while ((status = synod_snapshot_read(node_->get(), e.tag, buf, sizeof buf, &got)) == SYNOD_OK && got > 0) {
      data.append(reinterpret_cast<const char*>(buf), got);
    }
    if (status != SYNOD_OK) {
      read_failure_ = synod_last_error();
      synod_snapshot_finish(node_->get(), e.tag, status, read_failure_.c_str());
      return;
    }
    if (data.size() != size) {
      problems_.push_back("read " + std::to_string(data.size()) + " of " + std::to_string(size) + " bytes");
    }
    State state;
    std::istringstream lines(data);
    for (std::string line; std::getline(lines, line);) {
      const auto eq = line.find('=');
      state[line.substr(0, eq)] = line.substr(eq + 1);
    }
    states_[e.partition] = std::move(state);
    applied_[e.partition] = e.index;
    if (synod_snapshot_finish(node_->get(), e.tag, SYNOD_OK, nullptr) != SYNOD_OK) {
      problems_.push_back(std::string("finish an install: ") + synod_last_error());
    }
  }

  PolledNode* node_;
  std::size_t handled_ = 0;
  std::map<std::uint64_t, State> states_;
  std::map<std::uint64_t, std::uint64_t> applied_;
  std::vector<synod_event> saves_, installs_, dones_;
  std::vector<std::string> problems_;
  std::string read_failure_;
  int first_type_ = 0;
};

using Hosts = std::map<std::uint64_t, std::unique_ptr<MapHost>>;

// Runs every host side by side, as real hosts run (a leader's host answers saves and
// exports while a follower catches up), until `done` holds for each; false when kPatience
// passes first.
bool run_all_until(Hosts& hosts, const std::function<bool(MapHost&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    bool all = true;
    for (auto& [id, host] : hosts) all = done(*host) && all;
    if (all) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (auto& [id, host] : hosts) host->step(10);
  }
}

// Writes `count` entries "k<i % 5>=<i>" to partition 1 through `leader`, numbered from
// `first`; the index of the last.
std::uint64_t write_entries(synod_node* leader, int first, int count) {
  std::uint64_t last = 0;
  for (int i = first; i < first + count; ++i) {
    const std::string payload = "k" + std::to_string(i % 5) + "=" + std::to_string(i);
    synod_result r{};
    EXPECT_EQ(synod_node_replicate_wait(leader, 1, 1, bytes(payload), payload.size(), &r), SYNOD_OK)
        << synod_last_error();
    last = r.index;
  }
  return last;
}

std::size_t count_reason(const std::vector<synod_event>& saves, std::uint32_t reason) {
  std::size_t n = 0;
  for (const auto& e : saves) n += e.partition == 1 && e.entry_type == reason;
  return n;
}

// Node 1, alone in its cluster, storing with RocksDB in `dir`.
ConfigPtr alone_on_disk(const std::filesystem::path& dir) {
  ConfigPtr c = fast_config(1, {1});
  EXPECT_EQ(synod_config_set_storage(c.get(), "rocksdb", dir.c_str()), SYNOD_OK);
  return c;
}

std::filesystem::path empty_directory(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

// ---------------------------------------------------------------------------- settings

TEST(CapiSnapshotConfig, ModelAndPolicySettersCheckTheirInput) {
  ConfigPtr c = new_config();
  EXPECT_EQ(synod_config_set_state_machine(nullptr, SYNOD_STATE_MACHINE_DURABLE), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_config_set_snapshot_policy(nullptr, 1, 2, 3), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_config_set_state_machine(c.get(), 2), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(synod_last_error()).find("synod_config_set_state_machine"), std::string::npos);
  EXPECT_EQ(synod_config_set_state_machine(c.get(), -1), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_config_set_state_machine(c.get(), SYNOD_STATE_MACHINE_IN_MEMORY), SYNOD_OK);
  EXPECT_EQ(synod_config_set_state_machine(c.get(), SYNOD_STATE_MACHINE_DURABLE), SYNOD_OK);
  EXPECT_EQ(synod_config_set_snapshot_policy(c.get(), 0, 0, 0), SYNOD_OK);
  EXPECT_EQ(synod_config_set_snapshot_policy(c.get(), UINT64_MAX, UINT64_MAX, UINT64_MAX), SYNOD_OK);
}

TEST(CapiSnapshotConfig, DurableModelWithAPeriodicPolicyIsRefused) {
  for (const auto& [entries, bytes] : {std::pair<std::uint64_t, std::uint64_t>{10, 0}, {0, 4096}}) {
    ConfigPtr c = fast_config(1, {1});
    ASSERT_EQ(synod_config_set_state_machine(c.get(), SYNOD_STATE_MACHINE_DURABLE), SYNOD_OK);
    ASSERT_EQ(synod_config_set_snapshot_policy(c.get(), entries, bytes, 16), SYNOD_OK);
    synod_node* n = nullptr;
    EXPECT_EQ(synod_node_new(c.get(), &n), SYNOD_E_CONFIG);
    EXPECT_EQ(n, nullptr);
    EXPECT_NE(std::string(synod_last_error()).find("durable"), std::string::npos) << synod_last_error();
  }
}

// ---------------------------------------------------------------------------- bad input

TEST(CapiSnapshotBadInput, NullsAndUnknownHandlesAreRefused) {
  std::uint8_t buf[8] = {};
  std::size_t got = 7;
  std::uint64_t size = 7;
  EXPECT_EQ(synod_snapshot_write(nullptr, 1, buf, 1), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_read(nullptr, 1, buf, 8, &got), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(synod_snapshot_size(nullptr, 1, &size), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(size, 0u);
  EXPECT_EQ(synod_snapshot_finish(nullptr, 1, SYNOD_OK, nullptr), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_request_snapshot(nullptr, 1, 1), SYNOD_E_INVALID_ARGUMENT);

  ConfigPtr c = fast_config(1, {1});
  PolledNode n(make_node(c.get()));
  for (std::uint64_t handle : {std::uint64_t{0}, std::uint64_t{1}, UINT64_MAX}) {
    EXPECT_EQ(synod_snapshot_write(n.get(), handle, buf, 1), SYNOD_E_INVALID_ARGUMENT);
    EXPECT_NE(std::string(synod_last_error()).find("is not open"), std::string::npos) << synod_last_error();
    EXPECT_EQ(synod_snapshot_read(n.get(), handle, buf, 8, &got), SYNOD_E_INVALID_ARGUMENT);
    EXPECT_EQ(synod_snapshot_size(n.get(), handle, &size), SYNOD_E_INVALID_ARGUMENT);
    EXPECT_EQ(synod_snapshot_finish(n.get(), handle, SYNOD_OK, nullptr), SYNOD_E_INVALID_ARGUMENT);
  }
  EXPECT_EQ(synod_snapshot_write(n.get(), 1, nullptr, 1), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_read(n.get(), 1, nullptr, 8, &got), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_read(n.get(), 1, buf, 0, &got), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_read(n.get(), 1, buf, 8, nullptr), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_size(n.get(), 1, nullptr), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_node_request_snapshot(n.get(), 99, 1), SYNOD_E_UNKNOWN_PARTITION);
  EXPECT_NE(std::string(synod_last_error()).find("synod_node_request_snapshot"), std::string::npos);
  n.drain();
  EXPECT_TRUE(n.of_type(SYNOD_EVENT_SNAPSHOT_DONE).empty());
  ASSERT_EQ(synod_node_stop(n.get()), SYNOD_OK);
  EXPECT_EQ(synod_node_request_snapshot(n.get(), 1, 1), SYNOD_E_SHUTTING_DOWN);
}

// One node that leads partition 1, its host holding every save open.
class CapiSnapshotHandles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::uint64_t leader = 0;
    ASSERT_EQ(synod_node_wait_for_leader(n.get(), 1, 20000, &leader), SYNOD_OK);
    host.hold_saves = true;
  }

  ConfigPtr c = fast_config(1, {1});
  PolledNode n{make_node(c.get())};
  MapHost host{n};
};

// A requested snapshot, its handle misused in every way, and a save the host fails.
TEST_F(CapiSnapshotHandles, MisuseIsRefusedAndAFailedSaveIsReported) {
  write_entries(n.get(), 0, 3);
  ASSERT_EQ(synod_node_request_snapshot(n.get(), 1, 41), SYNOD_OK) << synod_last_error();
  const std::uint64_t last = write_entries(n.get(), 3, 1);
  ASSERT_TRUE(host.run_until([&] { return host.open_saves.size() == 1 && host.applied(1) >= last; }));
  const synod_event save = host.saves().back();
  EXPECT_EQ(save.entry_type, static_cast<std::uint32_t>(SYNOD_SNAPSHOT_REQUESTED));
  EXPECT_EQ(save.partition, 1u);
  const std::uint64_t h = save.tag;
  EXPECT_NE(h, 0u);

  std::uint8_t buf[4];
  std::size_t got = 0;
  EXPECT_EQ(synod_snapshot_read(n.get(), h, buf, 4, &got), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(synod_last_error()).find("written, not read"), std::string::npos) << synod_last_error();
  EXPECT_EQ(synod_snapshot_finish(n.get(), h, 5, "positive"), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_write(n.get(), h, bytes("abc"), 3), SYNOD_OK) << synod_last_error();
  EXPECT_EQ(synod_snapshot_write(n.get(), h, nullptr, 0), SYNOD_OK);
  std::uint64_t size = 0;
  EXPECT_EQ(synod_snapshot_size(n.get(), h, &size), SYNOD_OK);
  EXPECT_EQ(size, 3u);

  // The host fails it: the request learns why, and the handle is gone.
  EXPECT_EQ(synod_snapshot_finish(n.get(), h, SYNOD_E_STORAGE, "host disk full"), SYNOD_OK);
  EXPECT_EQ(synod_snapshot_finish(n.get(), h, SYNOD_OK, nullptr), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_write(n.get(), h, bytes("abc"), 3), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_size(n.get(), h, &size), SYNOD_E_INVALID_ARGUMENT);
  ASSERT_TRUE(host.run_until([&] { return !host.dones().empty(); }));
  EXPECT_EQ(host.dones().back().tag, 41u);
  EXPECT_EQ(host.dones().back().status, SYNOD_E_STORAGE);

  // Asked again, and saved this time.
  host.hold_saves = false;
  ASSERT_EQ(synod_node_request_snapshot(n.get(), 1, 42), SYNOD_OK) << synod_last_error();
  write_entries(n.get(), 4, 1);
  ASSERT_TRUE(host.run_until([&] { return host.dones().size() == 2; }));
  EXPECT_EQ(host.dones().back().tag, 42u);
  EXPECT_EQ(host.dones().back().status, SYNOD_OK);
  EXPECT_EQ(host.dones().back().index, host.saves().back().index);
  EXPECT_TRUE(host.problems().empty()) << host.problems().front();
}

// A handle the host never finishes is finished by the stop, as failed.
TEST_F(CapiSnapshotHandles, StopFinishesOpenHandlesAsFailed) {
  ASSERT_EQ(synod_node_request_snapshot(n.get(), 1, 7), SYNOD_OK) << synod_last_error();
  write_entries(n.get(), 0, 1);
  ASSERT_TRUE(host.run_until([&] { return host.open_saves.size() == 1; }));
  ASSERT_EQ(synod_node_stop(n.get()), SYNOD_OK);
  EXPECT_EQ(synod_snapshot_write(n.get(), host.open_saves[0], bytes("x"), 1), SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_snapshot_finish(n.get(), host.open_saves[0], SYNOD_OK, nullptr), SYNOD_E_INVALID_ARGUMENT);
  n.drain();
  const auto dones = n.of_type(SYNOD_EVENT_SNAPSHOT_DONE);
  ASSERT_EQ(dones.size(), 1u);
  EXPECT_EQ(dones[0].raw.tag, 7u);
  EXPECT_NE(dones[0].raw.status, SYNOD_OK);
}

// ---------------------------------------------------------------------------- in-memory model

// Three nodes snapshot by policy; a follower loses everything, rejoins empty, and is
// brought up to date by the leader's snapshot, installed before any later entry.
TEST(CapiSnapshotCluster, InMemoryModelCompactsAndAWipedFollowerInstallsTheLeadersSnapshot) {
  Cluster cluster(1, [](synod_config* c) {
    EXPECT_EQ(synod_config_set_snapshot_policy(c, 5, 0, 2), SYNOD_OK);
  });
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  Hosts hosts;
  for (std::uint64_t id = 1; id <= 3; ++id) hosts[id] = std::make_unique<MapHost>(cluster.node(id));

  std::uint64_t last = write_entries(cluster.node(leader).get(), 0, 20);
  ASSERT_TRUE(run_all_until(hosts, [&](MapHost& host) { return host.applied(1) >= last && !host.saves().empty(); }));
  for (auto& [id, host] : hosts) {
    EXPECT_GE(count_reason(host->saves(), SYNOD_SNAPSHOT_POLICY), 1u) << "node " << id;
    EXPECT_EQ(host->state(1).size(), 5u);
  }

  const std::uint64_t wiped = leader == 3 ? 2 : 3;
  hosts.erase(wiped);
  cluster.node(wiped).reset();
  last = write_entries(cluster.node(leader).get(), 20, 12);
  hosts[wiped] = std::make_unique<MapHost>(cluster.restart_empty(wiped));
  last = std::max(last, write_entries(cluster.node(leader).get(), 32, 3));

  ASSERT_TRUE(run_all_until(hosts, [&](MapHost& host) { return host.applied(1) >= last; }));
  for (auto& [id, host] : hosts) {
    EXPECT_EQ(host->state(1), hosts[leader]->state(1)) << "node " << id;
    EXPECT_TRUE(host->problems().empty()) << "node " << id << ": " << host->problems().front();
  }
  MapHost& rejoined = *hosts[wiped];
  ASSERT_FALSE(rejoined.installs().empty());
  EXPECT_EQ(rejoined.first_event_type(), SYNOD_EVENT_SNAPSHOT_INSTALL);
  EXPECT_EQ(rejoined.installs().front().entry_type, 1u);  // from the leader
  EXPECT_GT(rejoined.installs().front().term, 0u);
  EXPECT_EQ(rejoined.state(1).at("k4"), "34");
}

// After a restart the node gives its host its own latest snapshot back, then only the
// entries above it.
TEST(CapiSnapshotRestart, InMemoryModelReinstallsItsOwnSnapshotThenLaterEntries) {
  const auto dir = empty_directory("synod-capi-snapshot-restart");
  auto config = [&] {
    ConfigPtr c = fast_config(1, {1});
    EXPECT_EQ(synod_config_set_storage(c.get(), "rocksdb", dir.c_str()), SYNOD_OK);
    EXPECT_EQ(synod_config_set_snapshot_policy(c.get(), 4, 0, 1), SYNOD_OK);
    return c;
  };
  State before;
  std::uint64_t snapshot_index = 0;
  std::uint64_t last = 0;
  {
    ConfigPtr c = config();
    PolledNode n(make_node(c.get()));
    std::uint64_t leader = 0;
    ASSERT_EQ(synod_node_wait_for_leader(n.get(), 1, 20000, &leader), SYNOD_OK);
    MapHost host(n);
    last = write_entries(n.get(), 0, 10);
    ASSERT_TRUE(host.run_until([&] { return host.applied(1) >= last && !host.saves().empty(); }));
    // A policy save the host finishes just before the stop may not be recorded yet (the
    // restart then installs the one before); a requested one is recorded once DONE comes.
    ASSERT_EQ(synod_node_request_snapshot(n.get(), 1, 9), SYNOD_OK) << synod_last_error();
    ASSERT_TRUE(host.run_until([&] { return !host.dones().empty(); }));
    ASSERT_EQ(host.dones().back().status, SYNOD_OK);
    snapshot_index = host.dones().back().index;
    // Fewer than the policy's 4, so that these stay above the last snapshot.
    last = write_entries(n.get(), 10, 2);
    ASSERT_TRUE(host.run_until([&] { return host.applied(1) >= last; }));
    ASSERT_LT(snapshot_index, last);
    before = host.state(1);
    EXPECT_TRUE(host.problems().empty()) << host.problems().front();
  }
  ConfigPtr c = config();
  PolledNode n(make_node(c.get()));
  MapHost host(n);
  ASSERT_TRUE(host.run_until([&] { return host.applied(1) >= last; }));
  ASSERT_FALSE(host.installs().empty());
  EXPECT_EQ(host.first_event_type(), SYNOD_EVENT_SNAPSHOT_INSTALL);
  EXPECT_EQ(host.installs().front().entry_type, 0u);  // its own
  EXPECT_GE(host.installs().front().index, snapshot_index);
  for (const Event& e : n.of_type(SYNOD_EVENT_ENTRY)) {
    EXPECT_GT(e.raw.index, host.installs().front().index);
  }
  EXPECT_EQ(host.state(1), before);
  EXPECT_TRUE(host.problems().empty()) << host.problems().front();
  n.reset();
  std::filesystem::remove_all(dir);
}

// A save the host failed is not kept: after a restart every entry comes again, and no
// snapshot.
TEST(CapiSnapshotRestart, AFailedSaveIsNotKept) {
  const auto dir = empty_directory("synod-capi-snapshot-failed");
  auto config = [&] { return alone_on_disk(dir); };
  std::uint64_t last = 0;
  {
    ConfigPtr c = config();
    PolledNode n(make_node(c.get()));
    std::uint64_t leader = 0;
    ASSERT_EQ(synod_node_wait_for_leader(n.get(), 1, 20000, &leader), SYNOD_OK);
    MapHost host(n);
    host.hold_saves = true;
    last = write_entries(n.get(), 0, 4);
    ASSERT_EQ(synod_node_request_snapshot(n.get(), 1, 1), SYNOD_OK) << synod_last_error();
    last = write_entries(n.get(), 4, 1);
    ASSERT_TRUE(host.run_until([&] { return host.open_saves.size() == 1; }));
    ASSERT_EQ(synod_snapshot_write(n.get(), host.open_saves[0], bytes("half"), 4), SYNOD_OK);
    ASSERT_EQ(synod_snapshot_finish(n.get(), host.open_saves[0], SYNOD_E_INTERNAL, "crashed"), SYNOD_OK);
    ASSERT_TRUE(host.run_until([&] { return !host.dones().empty(); }));
    EXPECT_NE(host.dones()[0].status, SYNOD_OK);
  }
  ConfigPtr c = config();
  PolledNode n(make_node(c.get()));
  MapHost host(n);
  ASSERT_TRUE(host.run_until([&] { return host.applied(1) >= last; }));
  EXPECT_TRUE(host.installs().empty());
  EXPECT_EQ(n.of_type(SYNOD_EVENT_ENTRY).size(), 5u);
  n.reset();
  std::filesystem::remove_all(dir);
}

// Flips a byte in the middle of every snapshot file under `dir`; how many it damaged.
int damage_snapshot_files(const std::filesystem::path& dir) {
  int damaged = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir / "snapshots")) {
    if (!f.is_regular_file() || f.file_size() < 1024) continue;
    std::fstream file(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(f.file_size() / 2);
    file.seekg(middle);
    char byte = 0;
    file.get(byte);
    file.seekp(middle);
    file.put(static_cast<char>(byte ^ 0x5a));
    ++damaged;
  }
  return damaged;
}

// A node alone, made from `config`, whose partition 1 holds 200 KiB of state in a snapshot
// saved on request; stopped again.
void save_a_large_snapshot(const std::function<ConfigPtr()>& config) {
  ConfigPtr c = config();
  PolledNode n(make_node(c.get()));
  std::uint64_t leader = 0;
  ASSERT_EQ(synod_node_wait_for_leader(n.get(), 1, 20000, &leader), SYNOD_OK);
  MapHost host(n);
  for (int i = 0; i < 40; ++i) {
    const std::string payload = "key-" + std::to_string(i) + "=" + std::string(5000, 'a' + i % 26);
    synod_result r{};
    ASSERT_EQ(synod_node_replicate_wait(n.get(), 1, 1, bytes(payload), payload.size(), &r), SYNOD_OK);
  }
  ASSERT_EQ(synod_node_request_snapshot(n.get(), 1, 1), SYNOD_OK) << synod_last_error();
  write_entries(n.get(), 0, 1);
  ASSERT_TRUE(host.run_until([&] { return !host.dones().empty(); }));
  ASSERT_EQ(host.dones()[0].status, SYNOD_OK);
}

// The error `n` logged naming `text`, if any.
std::optional<synod_event> logged_error(const PolledNode& n, const std::string& text) {
  for (const Event& e : n.of_type(SYNOD_EVENT_LOG)) {
    if (e.raw.status == SYNOD_LOG_ERROR && e.data.find(text) != std::string::npos) return e.raw;
  }
  return std::nullopt;
}

// A halted partition's log line says which partition, and its term, as fields.
void expect_scoped_to_partition_1(const std::optional<synod_event>& e) {
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->entry_type, static_cast<uint32_t>(SYNOD_LOG_HAS_PARTITION | SYNOD_LOG_HAS_TERM));
  EXPECT_EQ(e->partition, 1u);
  // Restarted from a term of the run before: never 0.
  EXPECT_GE(e->term, 1u);
}

// A snapshot damaged while the host reads it fails the read; the host fails the install,
// and the partition halts rather than run on a state it does not have.
TEST(CapiSnapshotRestart, DataDamagedDuringTheInstallFailsTheRead) {
  const auto dir = empty_directory("synod-capi-snapshot-damaged");
  auto config = [&] { return alone_on_disk(dir); };
  save_a_large_snapshot(config);
  ConfigPtr c = config();
  PolledNode n(make_node(c.get()));
  MapHost host(n);
  host.before_install = [&] { ASSERT_GT(damage_snapshot_files(dir), 0); };
  ASSERT_TRUE(host.run_until([&] { return !host.read_failure().empty(); }));
  EXPECT_EQ(host.installs().size(), 1u);
  EXPECT_TRUE(host.state(1).empty());
  ASSERT_TRUE(
      n.poll_until([&](const auto&) { return logged_error(n, "partition 1 halted").has_value(); }));
  expect_scoped_to_partition_1(logged_error(n, "partition 1 halted"));
  synod_result r{};
  EXPECT_EQ(synod_node_replicate_wait(n.get(), 1, 1, bytes("k=v"), 3, &r), SYNOD_E_STORAGE);
  n.reset();
  std::filesystem::remove_all(dir);
}

// A snapshot found damaged on restart never reaches the host: the partition halts.
TEST(CapiSnapshotRestart, DataDamagedAtRestIsNeverInstalled) {
  const auto dir = empty_directory("synod-capi-snapshot-damaged-at-rest");
  auto config = [&] { return alone_on_disk(dir); };
  save_a_large_snapshot(config);
  ASSERT_GT(damage_snapshot_files(dir), 0);
  ConfigPtr c = config();
  PolledNode n(make_node(c.get()));
  MapHost host(n);
  ASSERT_TRUE(host.run_until([&] { return logged_error(n, "partition 1 halted").has_value(); }));
  expect_scoped_to_partition_1(logged_error(n, "partition 1 halted"));
  EXPECT_TRUE(host.installs().empty());
  n.reset();
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------- durable model

// Durable hosts report what they applied; the log compacts behind that floor without any
// periodic snapshot; a follower that rejoins empty is behind the compacted log, so the
// leader's host exports its state and the follower's host imports it.
TEST(CapiSnapshotCluster, DurableModelExportsForAFollowerBehindTheCompactedLog) {
  Cluster cluster(1, [](synod_config* c) {
    EXPECT_EQ(synod_config_set_state_machine(c, SYNOD_STATE_MACHINE_DURABLE), SYNOD_OK);
    EXPECT_EQ(synod_config_set_snapshot_policy(c, 0, 0, 2), SYNOD_OK);
  });
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  Hosts hosts;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    hosts[id] = std::make_unique<MapHost>(cluster.node(id));
    hosts[id]->report_applied = true;
  }
  std::uint64_t last = write_entries(cluster.node(leader).get(), 0, 20);
  ASSERT_TRUE(run_all_until(hosts, [&](MapHost& host) { return host.applied(1) >= last; }));
  for (auto& [id, host] : hosts) {
    EXPECT_TRUE(host->saves().empty()) << "node " << id;
  }
  const std::uint64_t wiped = leader == 3 ? 2 : 3;
  hosts.erase(wiped);
  cluster.node(wiped).reset();
  last = write_entries(cluster.node(leader).get(), 20, 10);
  hosts[wiped] = std::make_unique<MapHost>(cluster.restart_empty(wiped));
  hosts[wiped]->report_applied = true;
  last = std::max(last, write_entries(cluster.node(leader).get(), 30, 3));
  ASSERT_TRUE(run_all_until(hosts, [&](MapHost& host) { return host.applied(1) >= last; }));
  for (auto& [id, host] : hosts) {
    EXPECT_EQ(host->state(1), hosts[leader]->state(1)) << "node " << id;
    EXPECT_TRUE(host->problems().empty()) << "node " << id << ": " << host->problems().front();
  }
  EXPECT_GE(count_reason(hosts[leader]->saves(), SYNOD_SNAPSHOT_EXPORT), 1u);
  EXPECT_EQ(count_reason(hosts[leader]->saves(), SYNOD_SNAPSHOT_POLICY), 0u);
  ASSERT_FALSE(hosts[wiped]->installs().empty());
  EXPECT_EQ(hosts[wiped]->first_event_type(), SYNOD_EVENT_SNAPSHOT_INSTALL);
  EXPECT_EQ(hosts[wiped]->installs().front().entry_type, 1u);
}

}  // namespace
}  // namespace synod::capi_test
