// The simulator: 3 and 5 real NodeHosts (Raft core, runtime, log stores, in-memory
// network) in one SimulatedWorld on virtual time, serving a replicated key-value store
// spread over several user partitions to a few clients. One seed chooses the settings,
// the network's weather (loss, delay, jitter, duplication), partitions and healing,
// crashes that lose unsynced writes, restarts, leadership transfers and the workload.
// Every node's store is a MemoryLogStore, or (in the RocksDB and SQLite cases) a real
// durable store on a PowerCutStore in a fresh temporary directory per node and seed: a
// crash cuts its power and the restarted node runs on the store as recovered from disk.
//
// Checked every 10 ms of virtual time: at most one leader per term per partition; a
// leader's log reaches every entry committed before its term; commit never decreases
// within a node's incarnation; every node applies the same entry at an index, in order,
// skipping none; an entry answered Ok is the proposer's own; no entry is committed twice
// or after its proposal was answered Dropped; no step livelocks. At the end, on a healed
// network with every node up: every node applied the same log and holds the same state,
// every acknowledged write is in it, and each key's client history is linearizable.
// Nodes never report an applied floor, so a restarted node rebuilds its state by replaying
// its whole log.
//
// Environment (the names follow tests/raft/randomized):
//   SYNOD_SIM_SEEDS=<count>        seeds per cluster size and store (default: the store's
//                                  default_seeds, below)
//   SYNOD_SIM_SEED=<n>             run only seed n (the replay line of a failure sets it)
//   SYNOD_SIM_NODES=3|5            run only that cluster size
//   SYNOD_SIM_STORE=memory|rocksdb|sqlite
//                                  run only the cases of that store (the replay line of a
//                                  failure on a durable store sets it)
//   SYNOD_SIM_DURATION_MS=<ms>     virtual time of faults and workload per seed
//   SYNOD_SIM_TRACE=1              print every event (with one seed, to study a replay)
//   SYNOD_SIM_KEEP_GOING=1         run every seed after a failure and list the failing ones

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kv_model.h"
#include "linearizability.h"
#include "power_cut_store.h"
#include "synod/env/random.h"
#include "synod/env/simulated_world.h"
#include "synod/node/node_host.h"
#include "synod/storage/memory_log_store.h"
#include "synod/transport/in_memory.h"

namespace synod::sim {
namespace {

using namespace std::chrono_literals;
using node::CommittedEntry;
using node::NodeHost;
using node::NodeHostConfig;
using node::PartitionId;
using node::Status;
using raft::Index;
using raft::NodeId;
using raft::Term;
using std::chrono::milliseconds;

// The store under every node of a run.
struct SimStore {
  const char* name;          // as SYNOD_SIM_STORE names it
  const char* durable_kind;  // PowerCutStore's kind; nullptr for the memory store
  // Sized for CI on 2 cores. Memory: 2 x 500 seeds take about 15 s in RelWithDebInfo and
  // about 3.5 minutes under ASan+UBSan. A durable store fsyncs for real and copies its
  // directory at every sync (SQLite's write-ahead log grows to 32 MiB between checkpoints),
  // so one seed takes from 0.1 s to a minute: 3 seeds keep each of its cases within about
  // 30 s, under ASan+UBSan too (the time goes to the kernel). The long mode raises
  // SYNOD_SIM_SEEDS (and the duration); TMPDIR=/dev/shm spares the disk.
  std::uint64_t default_seeds;
};
constexpr SimStore kMemory{"memory", nullptr, 500};
constexpr SimStore kRocksDB{"rocksdb", "RocksDB", 3};
constexpr SimStore kSQLite{"sqlite", "SQLite", 3};
constexpr std::array kStores{kMemory, kRocksDB, kSQLite};

constexpr std::uint64_t kDefaultDurationMs = 3000;
constexpr milliseconds kStep{10};
// Bounds for the end of a seed: the cluster must settle, and answer the final reads.
constexpr milliseconds kSettleLimit{30000};
constexpr std::size_t kTraceLength = 60;
// Far above the busiest step seen (under 5,000 events), and quick to reach in a livelock.
constexpr std::size_t kMaxEventsPerStep = 200'000;
constexpr std::uint32_t kEntryType = 1;

std::optional<std::uint64_t> env_number(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(value, &end, 10);
  if (*end != '\0') return std::nullopt;
  return n;
}

std::string self_path() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "build/tests/sim/synod_simulator_test";
  return path.string();
}

// Settings one seed draws before it starts.
struct Settings {
  std::uint32_t partitions = 0;
  std::size_t keys = 0;
  std::size_t clients = 0;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  milliseconds request_timeout{0};
  bool quiesce = true;
  int quiesce_after_ticks = 0;
  // Chance, per 10 ms step, of one fault event.
  double fault_rate = 0;
};

struct Stats {
  std::uint64_t acked_writes = 0;
  std::uint64_t reads = 0;
  std::uint64_t unknown = 0;
  std::uint64_t refused = 0;
  std::uint64_t crashes = 0;
  std::uint64_t transfers = 0;
  std::uint64_t partitions = 0;
  std::uint64_t leaders = 0;
  std::uint64_t gave_up = 0;
};

// What one node applied at an index, and what every node must agree on.
struct Applied {
  Index index = 0;
  Term term = 0;
  std::uint64_t op_id = 0;
  std::string payload;
  friend bool operator==(const Applied&, const Applied&) = default;
};

struct SimNode {
  // The node's disk: one of the two is set, until a durable store fails to (re)open.
  std::unique_ptr<storage::MemoryLogStore> memory_store;
  std::unique_ptr<storage::testing::PowerCutStore> durable_store;
  std::unique_ptr<transport::InMemoryTransport> transport;
  std::unique_ptr<NodeHost> host;
  // Everything below belongs to the current incarnation and is rebuilt by replay.
  std::uint64_t incarnation = 0;
  KvStateMachine kv;
  std::map<PartitionId, std::vector<Applied>> applied;
  std::map<PartitionId, Index> commit_seen;
  milliseconds restart_at{0};

  storage::LogStore* store() const {
    if (memory_store) return memory_store.get();
    return durable_store.get();
  }
  std::size_t unsynced_writes() const {
    if (memory_store) return memory_store->unsynced_writes();
    return durable_store->unsynced_writes();
  }
};

// A client operation and what the checks need beyond the history.
struct OpRecord {
  Operation op;
  PartitionId partition = 0;
  std::uint64_t op_id = 0;
  NodeId target = raft::kNoNode;
  bool in_history = true;  // false: refused, so it had no effect
  bool pending = true;
};

struct Client {
  std::uint64_t id = 0;
  std::map<PartitionId, NodeId> leader_guess;
  std::map<std::string, std::string> last_seen;  // key -> last value this client saw
};

class Simulation {
 public:
  Simulation(int nodes, const SimStore& store, std::uint64_t seed, milliseconds duration)
      : store_(store),
        seed_(seed),
        duration_(duration),
        rng_(seed * 1000003 + static_cast<std::uint64_t>(nodes)),
        world_(seed ^ 0x5eed5eed5eedULL),
        network_(world_, world_, world_.random()) {
    for (int i = 1; i <= nodes; ++i) members_.push_back(static_cast<NodeId>(i));
    s_.partitions = 1 + static_cast<std::uint32_t>(rng_.below(4));
    s_.keys = 4 + rng_.below(9);
    s_.clients = 2 + rng_.below(6);
    s_.election_ticks = 5 + static_cast<int>(rng_.below(11));
    s_.heartbeat_ticks = rng_.chance(0.2) ? 2 : 1;
    s_.request_timeout = milliseconds(300 + 100 * rng_.below(28));
    const auto quiesce_mode = rng_.below(3);
    s_.quiesce = quiesce_mode != 0;
    s_.quiesce_after_ticks = quiesce_mode == 2 ? 3 + static_cast<int>(rng_.below(20)) : 0;
    s_.fault_rate = std::array{0.01, 0.03, 0.06, 0.1}[rng_.below(4)];
    for (std::size_t i = 0; i < s_.keys; ++i) keys_.push_back("k" + std::to_string(i));
    for (std::size_t i = 0; i < s_.clients; ++i) clients_.push_back(Client{i + 1, {}, {}});
    open_stores();
  }

  ~Simulation() {
    // Hosts complete their requests as they stop; nothing may be recorded from now on.
    closing_ = true;
    for (auto& [id, n] : nodes_) {
      n.host.reset();
      n.transport.reset();
      n.durable_store.reset();
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      EXPECT_FALSE(ec) << "cannot remove " << dir_ << ": " << ec.message();
    }
  }

  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Returns an empty string when every check passed, otherwise the report of a failure.
  std::string run() {
    for (NodeId id : members_) start(id);
    for (const Client& c : clients_) schedule_client(c.id, milliseconds(rng_.below(20)));
    for (; elapsed() < duration_;) {
      maybe_fault();
      restart_due();
      if (!advance()) return report(violation_);
    }
    note("stop the workload, heal, restart every node");
    clients_running_ = false;
    for (auto& [id, n] : nodes_) {
      if (!n.host) start(id);
    }
    heal_all();
    if (!settle()) return report(violation_);
    if (!final_reads()) return report(violation_);
    if (auto failure = check_final(); !failure.empty()) return report(failure);
    return {};
  }

  const Stats& stats() const { return stats_; }

 private:
  // --- randomness: rng_ is the only source of the simulation's own choices -----------
  template <typename T>
  const T& pick(const std::vector<T>& from) {
    return from[rng_.below(from.size())];
  }
  milliseconds elapsed() const { return std::chrono::duration_cast<milliseconds>(world_.now()); }
  std::uint64_t now_ns() const { return static_cast<std::uint64_t>(world_.now().count()); }

  // --- trace ------------------------------------------------------------------------
  void note(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    char buf[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    char head[32];
    std::snprintf(head, sizeof head, "%7lld ms ", static_cast<long long>(elapsed().count()));
    trace_[trace_next_++ % kTraceLength] = std::string(head) + buf;
    if (print_trace_) std::printf("%s%s\n", head, buf);
  }

  void fail(const std::string& what) {
    if (violation_.empty()) violation_ = what;
  }

  std::string report(const std::string& failure) const {
    std::string out = "at " + std::to_string(elapsed().count()) + " ms: " + failure;
    out += "\nreplay: SYNOD_SIM_SEED=" + std::to_string(seed_) +
           " SYNOD_SIM_NODES=" + std::to_string(members_.size());
    if (store_.durable_kind) out += " SYNOD_SIM_STORE=" + std::string(store_.name);
    if (env_number("SYNOD_SIM_DURATION_MS")) {
      out += " SYNOD_SIM_DURATION_MS=" + std::to_string(duration_.count());
    }
    out += " " + self_path() + "\n";
    out += "settings: partitions=" + std::to_string(s_.partitions) +
           " keys=" + std::to_string(s_.keys) + " clients=" + std::to_string(s_.clients) +
           " election_ticks=" + std::to_string(s_.election_ticks) +
           " heartbeat_ticks=" + std::to_string(s_.heartbeat_ticks) +
           " request_timeout=" + std::to_string(s_.request_timeout.count()) +
           "ms quiesce=" + std::to_string(s_.quiesce) +
           " quiesce_after_ticks=" + std::to_string(s_.quiesce_after_ticks) +
           " fault_rate=" + std::to_string(s_.fault_rate) + "\n";
    out += "nodes:\n" + node_summary();
    out += "last events (oldest first):\n";
    const std::size_t count = std::min(trace_next_, kTraceLength);
    for (std::size_t i = trace_next_ - count; i < trace_next_; ++i) {
      out += "  " + trace_[i % kTraceLength] + "\n";
    }
    return out;
  }

  std::string node_summary() const {
    std::string out;
    for (const auto& [id, n] : nodes_) {
      out += "  node " + std::to_string(id);
      if (!n.host) {
        out += " down\n";
        continue;
      }
      for (const auto& s : n.host->status()) {
        out += " | p" + std::to_string(s.partition) + " " +
               raft::to_string(s.raft.soft_state.role) + " t" +
               std::to_string(s.raft.hard_state.term) + " c" +
               std::to_string(s.raft.hard_state.commit) + " a" + std::to_string(s.raft.applied) +
               " l" + std::to_string(s.raft.last_index) + (s.quiescent ? " q" : "");
      }
      out += "\n";
    }
    return out;
  }

  // --- nodes --------------------------------------------------------------------------
  // Every node's disk: a memory store, or a durable store in a fresh directory of its own.
  void open_stores() {
    if (!store_.durable_kind) {
      for (NodeId id : members_) {
        nodes_[id].memory_store = std::make_unique<storage::MemoryLogStore>();
      }
      return;
    }
    std::string dir = (std::filesystem::temp_directory_path() / "synod-sim-XXXXXX").string();
    if (!mkdtemp(dir.data())) return fail("cannot create a directory like " + dir);
    dir_ = dir;
    for (NodeId id : members_) {
      const std::string node_dir = dir_ + "/node" + std::to_string(id);
      SimNode& n = nodes_[id];
      n.durable_store = storage::testing::PowerCutStore::open(store_.durable_kind, node_dir);
      if (!n.durable_store) fail("node " + std::to_string(id) + ": no store in " + node_dir);
    }
  }

  NodeHostConfig config_for(NodeId id, SimNode& n) {
    NodeHostConfig c;
    c.node_id = id;
    c.initial_members = members_;
    c.user_partitions = s_.partitions;
    c.tick_interval = kStep;
    c.election_ticks = s_.election_ticks;
    c.heartbeat_ticks = s_.heartbeat_ticks;
    c.request_timeout = s_.request_timeout;
    c.quiesce = s_.quiesce;
    c.quiesce_after_ticks = s_.quiesce_after_ticks;
    // Each incarnation draws other election timeouts, as a restarted process would.
    c.seed = seed_ * 131 + id * 17 + n.incarnation;
    c.store = n.store();
    c.transport = n.transport.get();
    c.clock = &world_;
    c.scheduler = &world_;
    c.executor = &world_;
    return c;
  }

  void start(NodeId id) {
    SimNode& n = nodes_[id];
    ++n.incarnation;
    n.transport = std::make_unique<transport::InMemoryTransport>(network_, 1, id);
    std::string error;
    n.host = NodeHost::create(config_for(id, n), &error);
    if (!n.host) return fail("node " + std::to_string(id) + " does not restart: " + error);
    const std::uint64_t incarnation = n.incarnation;
    n.host->set_apply_handler(
        [this, id, incarnation](const CommittedEntry& e) { on_apply(id, incarnation, e); });
    n.host->set_leader_handler([this, id](const node::LeaderChange& c) {
      if (c.leader == id) {
        ++stats_.leaders;
        claim_leadership(id, c.partition, c.term);
      }
      note("node %llu p%llu: leader %llu term %llu", static_cast<unsigned long long>(id),
           static_cast<unsigned long long>(c.partition), static_cast<unsigned long long>(c.leader),
           static_cast<unsigned long long>(c.term));
    });
    n.host->start();
    note("node %llu starts (incarnation %llu)", static_cast<unsigned long long>(id),
         static_cast<unsigned long long>(incarnation));
  }

  // A power failure: the process and its memory are gone, unsynced writes too.
  void crash(NodeId id) {
    SimNode& n = nodes_.at(id);
    note("node %llu crashes (%zu unsynced writes lost)", static_cast<unsigned long long>(id),
         n.unsynced_writes());
    n.host.reset();
    n.transport.reset();
    if (n.memory_store) {
      n.memory_store->crash();
    } else if (!n.durable_store->cut_power()) {
      fail("node " + std::to_string(id) + ": the store does not reopen after a power cut");
      n.durable_store.reset();  // start() then finds no store, and gives up
    }
    n.kv = KvStateMachine();
    n.applied.clear();
    n.commit_seen.clear();
    ++stats_.crashes;
  }

  std::vector<NodeId> up_nodes() const {
    std::vector<NodeId> up;
    for (const auto& [id, n] : nodes_) {
      if (n.host) up.push_back(id);
    }
    return up;
  }

  // --- apply: every node's stream is checked against the one log all must share -------
  void on_apply(NodeId id, std::uint64_t incarnation, const CommittedEntry& e) {
    SimNode& n = nodes_.at(id);
    if (n.incarnation != incarnation || closing_) return;
    auto where = [&] {
      return "node " + std::to_string(id) + " p" + std::to_string(e.partition) + " index " +
             std::to_string(e.index);
    };
    const auto command = decode(e.payload.view());
    if (!command) return fail(where() + ": applied an undecodable payload");
    auto& mine = n.applied[e.partition];
    const Index previous = mine.empty() ? 0 : mine.back().index;
    if (e.index <= previous) {
      return fail(where() + ": applied after index " + std::to_string(previous));
    }
    auto& log = committed_[e.partition];
    // Every incarnation applies from the start of the log, so an entry some node applied
    // between this node's previous entry and this one was skipped here.
    if (auto next = log.upper_bound(previous); next != log.end() && next->first < e.index) {
      return fail(where() + ": skipped the committed entry at index " +
                  std::to_string(next->first));
    }
    Applied entry{e.index, e.term, command->op_id, std::string(e.payload.view())};
    auto [slot, fresh] = log.try_emplace(e.index, entry);
    if (!fresh && slot->second != entry) {
      return fail(where() + ": applied op " + std::to_string(entry.op_id) + " term " +
                  std::to_string(entry.term) + " where another node applied op " +
                  std::to_string(slot->second.op_id) + " term " +
                  std::to_string(slot->second.term));
    }
    if (fresh) {
      if (!committed_ops_.insert(entry.op_id).second) {
        return fail(where() + ": op " + std::to_string(entry.op_id) + " committed a second time");
      }
      if (dropped_ops_.count(entry.op_id)) {
        return fail(where() + ": op " + std::to_string(entry.op_id) +
                    " was answered Dropped yet is committed");
      }
      for (const auto& [other, o] : nodes_) {
        auto it = o.applied.find(e.partition);
        if (other != id && it != o.applied.end() && !it->second.empty() &&
            it->second.back().index > e.index) {
          return fail(where() + ": node " + std::to_string(other) + " applied past it without it");
        }
      }
    }
    mine.push_back(std::move(entry));
    n.kv.apply(*command);
  }

  // --- invariants after every step ----------------------------------------------------
  // Runs one step of virtual time. A bounded number of events: an engine that keeps
  // exchanging messages without letting time pass must fail, not hang the test.
  bool advance() {
    bool reached = false;
    world_.after(kStep, [&reached] { reached = true; });
    for (std::size_t events = 0; !reached; ++events) {
      if (events == kMaxEventsPerStep) {
        fail("livelock: " + std::to_string(events) + " events without 10 ms of time passing");
        return false;
      }
      world_.step();
    }
    check_nodes();
    return violation_.empty();
  }

  // Election safety: one leader per term and partition, ever (terms survive restarts).
  void claim_leadership(NodeId id, PartitionId p, Term term) {
    auto [it, fresh] = leaders_.try_emplace({p, term}, id);
    if (!fresh && it->second != id) {
      fail("node " + std::to_string(id) + " p" + std::to_string(p) + ": leads term " +
           std::to_string(term) + ", which node " + std::to_string(it->second) + " led");
    }
  }

  // Leader completeness: a leader of `term` holds every entry an earlier term committed.
  // Returns the index of the last such entry if it lies beyond `last_index`, else 0.
  Index committed_beyond(PartitionId p, Term term, Index last_index) const {
    auto found = committed_.find(p);
    if (found == committed_.end()) return 0;
    for (auto it = found->second.rbegin(); it != found->second.rend(); ++it) {
      if (it->second.term < term) return it->first > last_index ? it->first : 0;
    }
    return 0;
  }

  void check_nodes() {
    for (auto& [id, n] : nodes_) {
      if (!n.host) continue;
      for (const auto& s : n.host->status()) {
        const auto& hs = s.raft.hard_state;
        auto where = [&] {
          return "node " + std::to_string(id) + " p" + std::to_string(s.partition);
        };
        if (s.raft.soft_state.role == raft::Role::Leader) {
          claim_leadership(id, s.partition, hs.term);
          if (const Index missing = committed_beyond(s.partition, hs.term, s.raft.last_index)) {
            return fail(where() + ": leads term " + std::to_string(hs.term) +
                        " with a log ending at " + std::to_string(s.raft.last_index) +
                        ", without the entry committed at " + std::to_string(missing));
          }
        }
        Index& seen = n.commit_seen[s.partition];
        if (hs.commit < seen) {
          return fail(where() + ": commit went back from " + std::to_string(seen) + " to " +
                      std::to_string(hs.commit));
        }
        seen = hs.commit;
        if (s.raft.applied > hs.commit) {
          return fail(where() + ": applied " + std::to_string(s.raft.applied) + " beyond commit " +
                      std::to_string(hs.commit));
        }
      }
    }
  }

  // --- faults -------------------------------------------------------------------------
  void maybe_fault() {
    if (!rng_.chance(s_.fault_rate)) return;
    const auto up = up_nodes();
    const std::size_t down = members_.size() - up.size();
    switch (rng_.below(9)) {
      case 0: {
        // The weather of every link: loss, delay, reordering through jitter, copies.
        transport::LinkFaults f;
        f.drop = std::array{0.0, 0.0, 0.01, 0.05, 0.2}[rng_.below(5)];
        f.duplicate = std::array{0.0, 0.0, 0.02, 0.1}[rng_.below(4)];
        f.delay = milliseconds(rng_.below(4));
        f.jitter = std::array{0ms, 0ms, 3ms, 10ms, 40ms}[rng_.below(5)];
        network_.set_default_faults(f);
        note("weather: drop %.2f duplicate %.2f delay %lld ms jitter %lld ms", f.drop, f.duplicate,
             static_cast<long long>(f.delay.count() / 1000000),
             static_cast<long long>(f.jitter.count() / 1000000));
        break;
      }
      case 1: {
        const NodeId from = pick(members_);
        NodeId to = pick(members_);
        if (to == from) break;
        transport::LinkFaults f;
        f.drop = rng_.chance(0.5) ? 0.5 : 1.0;
        f.jitter = milliseconds(rng_.below(50));
        network_.set_link(from, to, f);
        faulty_links_.insert({from, to});
        note("link %llu->%llu: drop %.1f", static_cast<unsigned long long>(from),
             static_cast<unsigned long long>(to), f.drop);
        break;
      }
      case 2: {
        std::vector<NodeId> order = members_;
        for (std::size_t i = order.size(); i > 1; --i) {
          std::swap(order[i - 1], order[rng_.below(i)]);
        }
        const std::size_t cut = 1 + rng_.below(order.size() - 1);
        std::vector<std::vector<NodeId>> groups{{order.begin(), order.begin() + cut},
                                                {order.begin() + cut, order.end()}};
        network_.partition(groups);
        ++stats_.partitions;
        std::string text;
        for (const auto& g : groups) {
          text += " {";
          for (NodeId id : g) text += " " + std::to_string(id);
          text += " }";
        }
        note("partition%s", text.c_str());
        break;
      }
      case 3: {
        const NodeId id = pick(members_);
        network_.isolate(id);
        ++stats_.partitions;
        note("isolate node %llu", static_cast<unsigned long long>(id));
        break;
      }
      case 4:
        network_.heal();
        note("heal");
        break;
      case 5: {
        // Keep a majority up most of the time, so that the workload makes progress.
        if (up.empty() || (2 * (down + 1) >= members_.size() && !rng_.chance(0.1))) break;
        const NodeId id = pick(up);
        crash(id);
        nodes_.at(id).restart_at = elapsed() + milliseconds(50 + rng_.below(1500));
        break;
      }
      case 6:
        // A power failure of the whole cluster, now and then: only synced writes survive,
        // and they must hold every acknowledged write.
        if (!rng_.chance(0.2)) break;
        note("power failure of every node");
        for (NodeId id : up) {
          crash(id);
          nodes_.at(id).restart_at = elapsed() + milliseconds(rng_.below(300));
        }
        break;
      default: {
        const PartitionId p = 1 + rng_.below(s_.partitions);
        for (NodeId id : up) {
          if (!nodes_.at(id).host->is_leader(p)) continue;
          const NodeId target = pick(members_);
          if (target == id) break;
          const Status st = nodes_.at(id).host->transfer_leadership(p, target);
          ++stats_.transfers;
          note("p%llu: transfer %llu -> %llu: %s", static_cast<unsigned long long>(p),
               static_cast<unsigned long long>(id), static_cast<unsigned long long>(target),
               node::to_string(st));
          break;
        }
        break;
      }
    }
  }

  void restart_due() {
    for (auto& [id, n] : nodes_) {
      if (!n.host && n.restart_at <= elapsed()) start(id);
    }
  }

  void heal_all() {
    network_.heal();
    network_.set_default_faults({});
    for (const auto& [from, to] : faulty_links_) network_.set_link(from, to, {});
    faulty_links_.clear();
  }

  // --- clients ------------------------------------------------------------------------
  void schedule_client(std::uint64_t client, milliseconds delay) {
    world_.after(delay, [this, client] {
      if (clients_running_ && !closing_) issue(clients_.at(client - 1));
    });
  }

  // A refused client backs off a little, as a real one would, before it tries again.
  void next_op(const Client* c, bool refused = false) {
    if (!c || !clients_running_ || closing_) return;
    schedule_client(c->id, milliseconds(refused ? 5 + rng_.below(40) : rng_.below(15)));
  }

  NodeId target_for(Client& c, PartitionId p) {
    auto it = c.leader_guess.find(p);
    if (it != c.leader_guess.end()) return it->second;
    return pick(members_);
  }

  // The final reads belong to no client.
  Client* client_of(const OpRecord& r) {
    return r.op.client == 0 ? nullptr : &clients_.at(r.op.client - 1);
  }

  // A definite failure: the op had no effect, so it leaves the history.
  void refuse(OpRecord& r, Status status, NodeId hint) {
    r.in_history = false;
    r.pending = false;
    ++stats_.refused;
    Client* c = client_of(r);
    if (!c) return;
    if (status == Status::NotLeader && hint != raft::kNoNode) {
      c->leader_guess[r.partition] = hint;
    } else {
      c->leader_guess.erase(r.partition);
    }
  }

  void issue(Client& c) {
    const std::string& key = pick(keys_);
    const PartitionId p = partition_of(key, s_.partitions);
    const NodeId target = target_for(c, p);
    SimNode& n = nodes_.at(target);
    if (!n.host) {
      // Connection refused: try another node soon.
      c.leader_guess.erase(p);
      return next_op(&c, true);
    }
    const std::size_t slot = ops_.size();
    OpRecord& r = ops_.emplace_back();
    r.partition = p;
    r.op_id = slot + 1;
    r.op.key = key;
    r.op.client = c.id;
    r.op.invoked_at = now_ns();
    r.target = target;
    const auto roll = rng_.below(100);
    if (roll < 35) {
      r.op.kind = OpKind::Get;
      n.host->read_index(
          p, [this, slot, target, incarnation = n.incarnation](const node::ReadResult& result) {
            on_read(slot, target, incarnation, result);
          });
      return;
    }
    Command command{r.op_id, CommandKind::Put, key, std::nullopt, "v" + std::to_string(r.op_id)};
    if (roll < 65) {
      r.op.kind = OpKind::Put;
    } else if (roll < 75) {
      r.op.kind = OpKind::Delete;
      command.kind = CommandKind::Delete;
      command.value.clear();
    } else {
      r.op.kind = OpKind::CompareAndSwap;
      command.kind = CommandKind::CompareAndSwap;
      auto seen = c.last_seen.find(key);
      const auto choice = rng_.below(10);
      if (choice < 6 && seen != c.last_seen.end()) {
        command.expected = seen->second;
      } else if (choice < 9) {
        command.expected = "v" + std::to_string(1 + rng_.below(r.op_id));
      }
      r.op.expected = command.expected;
    }
    r.op.argument = command.value;
    n.host->replicate(p, kEntryType, raft::Bytes(encode(command)),
                      [this, slot, target](const node::ReplicationResult& result) {
                        on_written(slot, target, result);
                      });
  }

  void on_written(std::size_t slot, NodeId target, const node::ReplicationResult& result) {
    if (closing_) return;
    OpRecord& r = ops_[slot];
    Client& c = *client_of(r);
    const std::string what = "op " + std::to_string(r.op_id) + " on node " +
                             std::to_string(target) + " p" + std::to_string(r.partition);
    switch (result.status) {
      case Status::Ok: {
        auto& log = committed_[r.partition];
        auto at = log.find(result.index);
        if (at == log.end() || at->second.op_id != r.op_id) {
          fail(what + ": answered Ok at index " + std::to_string(result.index) + " term " +
               std::to_string(result.term) + ", where the committed entry is " +
               (at == log.end() ? std::string("an engine entry, not a host's")
                                : "op " + std::to_string(at->second.op_id) + " term " +
                                      std::to_string(at->second.term)));
          break;
        }
        const auto swapped = nodes_.at(target).kv.outcome(r.op_id);
        if (!swapped) {
          fail(what + ": answered Ok before the node applied it");
          break;
        }
        r.op.swapped = *swapped;
        r.op.answered_at = now_ns();
        r.pending = false;
        ++stats_.acked_writes;
        if (r.op.kind == OpKind::Put || (r.op.kind == OpKind::CompareAndSwap && *swapped)) {
          c.last_seen[r.op.key] = r.op.argument;
        }
        break;
      }
      case Status::Timeout:
      case Status::ShuttingDown:
        // The entry may yet be committed, or never: the outcome is unknown.
        r.pending = false;
        ++stats_.unknown;
        c.leader_guess.erase(r.partition);
        break;
      case Status::Dropped:
        // Its index was committed with another entry; the checks verify it never commits.
        dropped_ops_.insert(r.op_id);
        if (committed_ops_.count(r.op_id)) fail(what + ": answered Dropped, but it is committed");
        refuse(r, result.status, result.leader_hint);
        break;
      case Status::NotLeader:
      case Status::NoLeader:
      case Status::QueueFull:
      case Status::TransferInProgress:
        refuse(r, result.status, result.leader_hint);
        break;
      default:
        fail(what + ": unexpected status " + node::to_string(result.status));
        break;
    }
    next_op(&c, !r.in_history);
  }

  void on_read(std::size_t slot, NodeId target, std::uint64_t incarnation,
               const node::ReadResult& result) {
    if (closing_) return;
    OpRecord& r = ops_[slot];
    Client* c = client_of(r);
    switch (result.status) {
      case Status::Ok: {
        const SimNode& n = nodes_.at(target);
        if (n.incarnation != incarnation || !n.host) {
          fail("read " + std::to_string(r.op_id) + " answered by a node that restarted");
          break;
        }
        r.op.read = n.kv.get(r.op.key);
        r.op.answered_at = now_ns();
        r.pending = false;
        ++stats_.reads;
        if (c && r.op.read) c->last_seen[r.op.key] = *r.op.read;
        break;
      }
      case Status::NotLeader:
      case Status::NoLeader:
      case Status::QueueFull:
      case Status::TransferInProgress:
      case Status::Timeout:
      case Status::ShuttingDown:
        // A read that did not answer changed nothing.
        refuse(r, result.status, result.leader_hint);
        break;
      default:
        fail("read " + std::to_string(r.op_id) + ": unexpected status " +
             node::to_string(result.status));
        break;
    }
    next_op(c, !r.in_history);
  }

  // --- the end of a seed --------------------------------------------------------------
  bool pending_ops() const {
    return std::any_of(ops_.begin(), ops_.end(), [](const OpRecord& r) { return r.pending; });
  }

  std::string describe_pending() const {
    std::string out = "client requests are still pending:";
    for (const auto& r : ops_) {
      if (!r.pending) continue;
      out += " [op " + std::to_string(r.op_id) + " " +
             (r.op.kind == OpKind::Get ? "read" : "write") + " p" + std::to_string(r.partition) +
             " on node " + std::to_string(r.target) + " since " +
             std::to_string(r.op.invoked_at / 1000000) + " ms]";
    }
    return out;
  }

  // Every partition has one leader that every node follows, and every node applied all
  // that leader holds.
  bool settled() const {
    for (PartitionId p = 0; p <= s_.partitions; ++p) {
      std::map<NodeId, node::PartitionStatus> by_node;
      for (const auto& [id, n] : nodes_) {
        if (!n.host) return false;
        for (const auto& s : n.host->status()) {
          if (s.partition == p) by_node[id] = s;
        }
      }
      const NodeId leader = by_node.begin()->second.raft.soft_state.leader;
      if (leader == raft::kNoNode || !by_node.count(leader)) return false;
      const auto& lead = by_node.at(leader).raft;
      if (lead.soft_state.role != raft::Role::Leader) return false;
      if (lead.hard_state.commit != lead.last_index) return false;
      for (const auto& [id, s] : by_node) {
        if (s.raft.soft_state.leader != leader || s.raft.hard_state.commit != lead.last_index ||
            s.raft.applied != lead.last_index || s.raft.last_index != lead.last_index) {
          return false;
        }
      }
    }
    return true;
  }

  bool settle() {
    const milliseconds deadline = elapsed() + kSettleLimit;
    while (pending_ops() || !settled()) {
      if (!advance()) return false;
      if (elapsed() > deadline) {
        fail("no settling on a healed network: " +
             (pending_ops() ? describe_pending() : std::string("the nodes disagree")));
        return false;
      }
    }
    return true;
  }

  // One read of every key through its partition's leader, recorded like any other: the
  // checker then sees each key's final value.
  bool final_reads() {
    const milliseconds deadline = elapsed() + kSettleLimit;
    std::set<std::string> unread(keys_.begin(), keys_.end());
    std::map<std::string, std::size_t> in_flight;
    while (!unread.empty()) {
      for (const auto& key : unread) {
        if (in_flight.count(key)) continue;
        const PartitionId p = partition_of(key, s_.partitions);
        const NodeId leader = nodes_.begin()->second.host->leader_of(p);
        if (leader == raft::kNoNode) continue;
        const std::size_t slot = ops_.size();
        OpRecord& r = ops_.emplace_back();
        r.partition = p;
        r.op_id = slot + 1;
        r.op.key = key;
        r.op.kind = OpKind::Get;
        r.op.invoked_at = now_ns();
        r.target = leader;
        in_flight[key] = slot;
        nodes_.at(leader).host->read_index(
            p, [this, slot, leader, incarnation = nodes_.at(leader).incarnation](
                   const node::ReadResult& result) { on_read(slot, leader, incarnation, result); });
      }
      if (!advance()) return false;
      for (auto it = in_flight.begin(); it != in_flight.end();) {
        const OpRecord& r = ops_[it->second];
        if (r.pending) {
          ++it;
          continue;
        }
        if (r.in_history) unread.erase(it->first);
        it = in_flight.erase(it);
      }
      if (elapsed() > deadline) {
        fail("the final reads do not complete on a healed network");
        return false;
      }
    }
    return true;
  }

  std::string check_final() {
    // Every node applied the whole committed log, and nothing else.
    for (const auto& [id, n] : nodes_) {
      for (const auto& [p, log] : committed_) {
        std::vector<Applied> expected;
        for (const auto& [index, entry] : log) expected.push_back(entry);
        auto it = n.applied.find(p);
        const std::size_t have = it == n.applied.end() ? 0 : it->second.size();
        if (have != expected.size() || (have && it->second != expected)) {
          return "node " + std::to_string(id) + " p" + std::to_string(p) + " applied " +
                 std::to_string(have) + " entries of the " + std::to_string(expected.size()) +
                 " committed";
        }
      }
      if (n.kv.data() != nodes_.begin()->second.kv.data()) {
        return "node " + std::to_string(id) + " holds another state than node " +
               std::to_string(nodes_.begin()->first);
      }
    }
    // No acknowledged write is lost: each is in every node's applied log.
    for (const auto& r : ops_) {
      if (r.op.kind == OpKind::Get || !r.op.answered_at) continue;
      for (const auto& [id, n] : nodes_) {
        const auto& mine = n.applied.at(r.partition);
        if (std::none_of(mine.begin(), mine.end(),
                         [&](const Applied& a) { return a.op_id == r.op_id; })) {
          return "acknowledged op " + std::to_string(r.op_id) + " (key " + r.op.key +
                 ") is missing from node " + std::to_string(id);
        }
      }
    }
    std::vector<Operation> history;
    for (const auto& r : ops_) {
      if (r.in_history) history.push_back(r.op);
    }
    const CheckResult result = check_history(history);
    if (result.verdict == Verdict::NotLinearizable) {
      return "key " + result.key + " is not linearizable: " + result.explanation;
    }
    if (result.verdict == Verdict::GaveUp) ++stats_.gave_up;
    return {};
  }

  SimStore store_;
  std::uint64_t seed_;
  milliseconds duration_;
  env::Random rng_;
  Settings s_;
  std::vector<NodeId> members_;
  std::vector<std::string> keys_;
  env::SimulatedWorld world_;
  transport::InMemoryNetwork network_;
  std::map<NodeId, SimNode> nodes_;
  std::string dir_;  // the durable stores' directories, one per node; removed at the end
  std::set<std::pair<NodeId, NodeId>> faulty_links_;

  std::vector<Client> clients_;
  std::vector<OpRecord> ops_;
  bool clients_running_ = true;
  bool closing_ = false;

  // What the checks remember across steps.
  std::map<PartitionId, std::map<Index, Applied>> committed_;
  std::set<std::uint64_t> committed_ops_;
  std::set<std::uint64_t> dropped_ops_;
  std::map<std::pair<PartitionId, Term>, NodeId> leaders_;
  std::string violation_;

  Stats stats_;
  std::array<std::string, kTraceLength> trace_;
  std::size_t trace_next_ = 0;
  bool print_trace_ = env_number("SYNOD_SIM_TRACE").value_or(0) != 0;
};

void run_sweep(int nodes, const SimStore& store) {
  const auto only = env_number("SYNOD_SIM_NODES");
  if (only && *only != static_cast<std::uint64_t>(nodes)) {
    GTEST_SKIP() << "SYNOD_SIM_NODES=" << *only;
  }
  if (const char* only_store = std::getenv("SYNOD_SIM_STORE");
      only_store && *only_store && std::string_view(only_store) != store.name) {
    if (std::none_of(kStores.begin(), kStores.end(),
                     [&](const SimStore& s) { return std::string_view(only_store) == s.name; })) {
      FAIL() << "SYNOD_SIM_STORE=" << only_store << ": expected memory, rocksdb or sqlite";
    }
    GTEST_SKIP() << "SYNOD_SIM_STORE=" << only_store;
  }
  const milliseconds duration(env_number("SYNOD_SIM_DURATION_MS").value_or(kDefaultDurationMs));
  const bool keep_going = env_number("SYNOD_SIM_KEEP_GOING").value_or(0) != 0;
  std::uint64_t first = 1;
  std::uint64_t count = env_number("SYNOD_SIM_SEEDS").value_or(store.default_seeds);
  if (auto seed = env_number("SYNOD_SIM_SEED")) {
    first = *seed;
    count = 1;
  }
  const auto start = std::chrono::steady_clock::now();
  Stats total;
  std::vector<std::uint64_t> failed;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    std::string failure;
    {
      Simulation sim(nodes, store, seed, duration);
      failure = sim.run();
      const Stats& s = sim.stats();
      total.acked_writes += s.acked_writes;
      total.reads += s.reads;
      total.unknown += s.unknown;
      total.refused += s.refused;
      total.crashes += s.crashes;
      total.transfers += s.transfers;
      total.partitions += s.partitions;
      total.leaders += s.leaders;
      total.gave_up += s.gave_up;
    }
    if (failure.empty()) continue;
    if (failed.empty()) {
      ADD_FAILURE() << nodes << " nodes, " << store.name << " store, seed " << seed << ": "
                    << failure;
    }
    failed.push_back(seed);
    if (!keep_going) break;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[ summary  ] %d nodes, %s store: %llu seeds x %lld ms in %.1f s; %llu writes "
      "acknowledged, %llu reads, %llu unknown outcomes, %llu refused, %llu leaders elected, %llu "
      "crashes, %llu partitions, %llu transfers; checker gave up on %llu\n",
      nodes, store.name, static_cast<unsigned long long>(count),
      static_cast<long long>(duration.count()), seconds,
      static_cast<unsigned long long>(total.acked_writes),
      static_cast<unsigned long long>(total.reads), static_cast<unsigned long long>(total.unknown),
      static_cast<unsigned long long>(total.refused),
      static_cast<unsigned long long>(total.leaders),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.partitions),
      static_cast<unsigned long long>(total.transfers),
      static_cast<unsigned long long>(total.gave_up));
  if (!failed.empty()) {
    std::string seeds;
    for (std::size_t i = 0; i < std::min<std::size_t>(failed.size(), 20); ++i) {
      seeds += " " + std::to_string(failed[i]);
    }
    if (failed.size() > 20) seeds += " ...";
    std::printf("[ summary  ] %zu seeds failed:%s\n", failed.size(), seeds.c_str());
  }
}

TEST(Simulator, ThreeNodes) { run_sweep(3, kMemory); }
TEST(Simulator, FiveNodes) { run_sweep(5, kMemory); }
TEST(Simulator, ThreeNodesRocksDB) { run_sweep(3, kRocksDB); }
TEST(Simulator, FiveNodesRocksDB) { run_sweep(5, kRocksDB); }
TEST(Simulator, ThreeNodesSQLite) { run_sweep(3, kSQLite); }
TEST(Simulator, FiveNodesSQLite) { run_sweep(5, kSQLite); }

}  // namespace
}  // namespace synod::sim
