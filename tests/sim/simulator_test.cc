// The simulator: 3 and 5 real NodeHosts (Raft core, runtime, log stores, snapshot stores,
// in-memory network) in one SimulatedWorld on virtual time, serving a replicated key-value
// store spread over several user partitions to a few clients. One seed chooses the
// settings, the network's weather (loss, delay, jitter, duplication), partitions and
// healing, crashes that lose unsynced writes, restarts, wiped disks, leadership transfers,
// the snapshot policy and the workload. Every node's log store is a MemoryLogStore, or (in
// the RocksDB and SQLite cases) a real durable store on a PowerCutStore in a fresh
// temporary directory per node and seed: a crash cuts its power and the restarted node runs
// on the store as recovered from disk. Its snapshot store is a memory store that outlives
// its crashes, or a disk store in a directory beside the log's, outside the PowerCutStore's
// image: the disk store syncs a file and its directory before commit() returns, so a
// committed snapshot survives a power cut, and the files a crash leaves half-written are
// deleted when the store reopens.
//
// Snapshots. Most seeds run the in-memory host model with small thresholds (a snapshot
// every 5 to 50 entries, 0 to 20 entries kept behind it), so the log is compacted all the
// time, lagging followers and restarted or wiped nodes install snapshots from the leader,
// and every restart reinstalls the node's own latest snapshot; some also ask for
// snapshots from the workload (NodeHost::request_snapshot), and some delay the host's
// answers to saves and installs. The rest run without snapshots, as before. The host's
// state is one KvStateMachine per partition; a save writes it as it is when the request
// arrives (right after the entry at the request's index), an install replaces it. The
// durable host model (applied floors) is left to tests/node.
//
// A wiped disk: while a node is down its log store and snapshot store are replaced by
// empty ones. It restarts no sooner than several election timeouts later, and only once
// the rest of the cluster makes its loss harmless: a wiped voter has forgotten its vote
// and the entries it acknowledged. So, per partition, every other node must have held
// the leader's whole committed log at some moment since the wipe (then no committed entry
// depended on the wiped node's copy), and at the restart every other node follows one
// leader in a term no older than the wiped node's last (so the vote it forgot was cast in
// a term that is over and no candidate can ask for it again). No node crashes from the
// wipe until the wiped node has caught up with the commit index it restarted under.
//
// Checked every 10 ms of virtual time: at most one leader per term per partition; a
// leader's log reaches every entry committed before its term; commit never decreases
// within a node's incarnation; every node applies the same entry at an index, in order,
// skipping none, except that it may install a snapshot at index S (a restart installs the
// node's own first), which must hold exactly the state the committed log gives at S, and
// then goes on from S + 1; a save is asked for at the index the host has reached; an
// entry answered Ok is the proposer's own and applied on the node that answered; no entry
// is committed twice or after its proposal was answered Dropped; no partition halts; no
// step livelocks. At the end, on a healed network with every node up: every node applied
// the same log above its latest snapshot and holds the state the whole committed log
// gives, every acknowledged write is in it, and each key's client history is
// linearizable.
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
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kv_model.h"
#include "linearizability.h"
#include "power_cut_store.h"
#include "synod/env/random.h"
#include "synod/env/simulated_world.h"
#include "synod/node/node_host.h"
#include "synod/storage/memory_log_store.h"
#include "synod/storage/snapshot_store.h"
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
  // Sized for CI on 2 cores. Memory: 500 seeds take about 12 s (3 nodes) and 37 s (5
  // nodes) in RelWithDebInfo; under ASan+UBSan 500 seeds of 3 nodes took 244 s and 150 of
  // 5 nodes 66 s, so a sanitized build runs 250 (SYNOD_SIM_SANITIZED) to stay well inside
  // the 900 s timeout with other tests beside it. A durable store fsyncs for real and copies its
  // directory at every sync (SQLite's write-ahead log grows to 32 MiB between checkpoints),
  // so one seed takes from 0.1 s to a minute: 3 seeds keep each of its cases within about
  // 30 s, under ASan+UBSan too (the time goes to the kernel). The long mode raises
  // SYNOD_SIM_SEEDS (and the duration); TMPDIR=/dev/shm spares the disk.
  std::uint64_t default_seeds;
};
#ifdef SYNOD_SIM_SANITIZED
constexpr SimStore kMemory{"memory", nullptr, 250};
#else
constexpr SimStore kMemory{"memory", nullptr, 500};
#endif
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
  // The host's snapshots: off (no snapshot store, no handler), or the in-memory model by
  // this policy.
  bool snapshots = false;
  node::SnapshotPolicy policy;
  // Chance, per 10 ms step, that the workload asks a node for a snapshot.
  double request_rate = 0;
  // Upper bound of the virtual time a host takes to answer a save or an install (0: it
  // answers at once).
  milliseconds host_delay{0};
  // Chance, per 10 ms step, that the workload proposes a change of the partition map
  // (create or remove an unrouted partition) on partition 0. Drawn from a random generator
  // of its own, so that the seed's other settings and choices stay what they were.
  double map_rate = 0;
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
  std::uint64_t saves = 0;
  std::uint64_t installs = 0;    // from the leader
  std::uint64_t reinstalls = 0;  // a node's own snapshot, after a restart
  std::uint64_t requests = 0;    // request_snapshot answered Ok
  std::uint64_t wipes = 0;
  std::uint64_t wiped_installs = 0;  // wiped nodes that rejoined through a snapshot
  std::uint64_t map_created = 0;     // partitions created through the map (answered Ok)
  std::uint64_t map_removed = 0;     // and removed
  std::uint64_t map_refused = 0;     // map changes answered otherwise
};

// What one node applied at an index, and what every node must agree on.
struct Applied {
  Index index = 0;
  Term term = 0;
  std::uint64_t op_id = 0;
  std::string payload;
  bool swapped = false;  // what applying it did (a compare-and-swap's outcome)
  friend bool operator==(const Applied&, const Applied&) = default;
};

// One node's host state for one partition, in its current incarnation.
struct HostPartition {
  KvStateMachine kv;
  // The index the state stands at: the last entry applied, snapshot installed, or save
  // asked for (each must come after the previous).
  Index position = 0;
  // The latest snapshot installed (0: none), and the entries applied since.
  Index installed = 0;
  std::vector<Applied> entries;
};

struct SimNode {
  // The node's disk: one of the two log stores is set, until a durable store fails to
  // (re)open; the snapshot store when the seed takes snapshots.
  std::unique_ptr<storage::MemoryLogStore> memory_store;
  std::unique_ptr<storage::testing::PowerCutStore> durable_store;
  std::unique_ptr<storage::SnapshotStore> snapshots;
  std::string log_dir;       // the durable store's directory
  std::string snapshot_dir;  // the disk snapshot store's (durable stores only)
  std::unique_ptr<transport::InMemoryTransport> transport;
  std::unique_ptr<NodeHost> host;
  // Everything below belongs to the current incarnation and is rebuilt from the node's
  // snapshots and log.
  std::uint64_t incarnation = 0;
  std::map<PartitionId, HostPartition> state;
  std::map<PartitionId, Index> commit_seen;
  milliseconds restart_at{0};
  // The term of each partition when the node last went down (what a wipe makes it forget).
  std::map<PartitionId, Term> term_at_crash;
  // Wiped and not yet caught up: restarted only when harmless (see the header), then
  // caught up once it applied every partition through `catch_up`.
  bool wiped = false;
  bool rejoined = false;  // installed a snapshot from the leader since the wipe
  // Per partition: the leader's term and last index at a moment since the wipe, and
  // whether every other node has since held the log through that index.
  std::map<PartitionId, std::tuple<Term, Index, bool>> wipe_target;
  std::map<PartitionId, Index> catch_up;
  milliseconds next_hand_over{0};  // when may_rejoin() may ask leaders to hand over again
  milliseconds host_free_at{0};    // when the host finishes the work it was given

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
  Index index = 0;         // where an acknowledged write was committed
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
    // Snapshots in four seeds of five, compacting hard: most followers that fall behind
    // and every restarted node meet a compacted log.
    s_.snapshots = rng_.below(5) != 0;
    if (s_.snapshots) {
      s_.policy.every_entries = 5 + rng_.below(46);
      s_.policy.keep_entries = rng_.chance(0.3) ? 0 : rng_.below(21);
      s_.request_rate = rng_.chance(0.3) ? 0.05 : 0;
      s_.host_delay = rng_.chance(0.3) ? milliseconds(1 + rng_.below(30)) : 0ms;
    }
    s_.map_rate = map_rng_.chance(0.5) ? std::array{0.01, 0.03, 0.1}[map_rng_.below(3)] : 0;
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
    }
    // Unfinished host work holds snapshot files open in the stores.
    host_work_.clear();
    for (auto& [id, n] : nodes_) {
      n.durable_store.reset();
      n.snapshots.reset();
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
      if (s_.snapshots) maybe_request_snapshot();
      maybe_change_map();
      restart_due();
      if (!advance()) return report(violation_);
    }
    note("stop the workload, heal, restart every node (a wiped one once it may rejoin)");
    clients_running_ = false;
    for (auto& [id, n] : nodes_) {
      if (!n.host && !n.wiped) start(id);
    }
    heal_all();
    if (!settle()) return report(violation_);
    if (!final_reads()) return report(violation_);
    if (auto failure = check_final(); !failure.empty()) return report(failure);
    if (auto failure = check_final_map(); !failure.empty()) return report(failure);
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
           " fault_rate=" + std::to_string(s_.fault_rate) +
           " map_rate=" + std::to_string(s_.map_rate);
    if (s_.snapshots) {
      out += " snapshots: every_entries=" + std::to_string(s_.policy.every_entries) +
             " keep_entries=" + std::to_string(s_.policy.keep_entries) +
             " request_rate=" + std::to_string(s_.request_rate) +
             " host_delay=" + std::to_string(s_.host_delay.count()) + "ms";
    } else {
      out += " snapshots: off";
    }
    out += "\n";
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
    if (store_.durable_kind) {
      std::string dir = (std::filesystem::temp_directory_path() / "synod-sim-XXXXXX").string();
      if (!mkdtemp(dir.data())) return fail("cannot create a directory like " + dir);
      dir_ = dir;
    }
    for (NodeId id : members_) {
      SimNode& n = nodes_[id];
      if (store_.durable_kind) {
        n.log_dir = dir_ + "/node" + std::to_string(id);
        n.snapshot_dir = n.log_dir + "-snapshots";
      }
      open_disk(id, n);
    }
  }

  // Opens the node's stores on what its disk holds (nothing, the first time).
  void open_disk(NodeId id, SimNode& n) {
    if (!store_.durable_kind) {
      n.memory_store = std::make_unique<storage::MemoryLogStore>();
    } else {
      n.durable_store = storage::testing::PowerCutStore::open(store_.durable_kind, n.log_dir);
      if (!n.durable_store) fail("node " + std::to_string(id) + ": no store in " + n.log_dir);
    }
    if (s_.snapshots) open_snapshots(id, n);
  }

  void open_snapshots(NodeId id, SimNode& n) {
    if (!store_.durable_kind) {
      n.snapshots = storage::make_memory_snapshot_store();
      return;
    }
    storage::StorageStatus st;
    n.snapshots = storage::open_disk_snapshot_store(n.snapshot_dir, &st);
    if (!n.snapshots) {
      fail("node " + std::to_string(id) + ": no snapshot store in " + n.snapshot_dir + ": " +
           st.to_string());
    }
  }

  // The disk is replaced by an empty one (the node is down).
  void wipe(NodeId id) {
    SimNode& n = nodes_.at(id);
    n.memory_store.reset();
    n.durable_store.reset();
    n.snapshots.reset();
    if (store_.durable_kind) {
      std::error_code ec;
      std::filesystem::remove_all(n.log_dir, ec);
      std::filesystem::remove_all(n.snapshot_dir, ec);
      if (ec) return fail("cannot wipe " + n.log_dir + ": " + ec.message());
    }
    open_disk(id, n);
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
    c.snapshots = s_.policy;
    c.snapshot_store = n.snapshots.get();
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
    if (s_.snapshots) {
      n.host->set_snapshot_handler(
          {[this, id, incarnation](node::SaveRequest r) { on_save(id, incarnation, std::move(r)); },
           [this, id, incarnation](node::InstallRequest r) {
             on_install(id, incarnation, std::move(r));
           }});
    }
    n.host->set_partition_failure_handler([this, id](const node::PartitionFailure& f) {
      if (!closing_) {
        fail("node " + std::to_string(id) + " p" + std::to_string(f.partition) +
             " halted: " + f.why);
      }
    });
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
    for (const auto& s : n.host->status()) n.term_at_crash[s.partition] = s.raft.hard_state.term;
    n.host.reset();
    n.transport.reset();
    // Saves and installs the host had not finished die with it (their files with them).
    std::erase_if(host_work_, [id](const auto& work) { return work.second.node == id; });
    if (n.memory_store) {
      n.memory_store->crash();
    } else if (!n.durable_store->cut_power()) {
      fail("node " + std::to_string(id) + ": the store does not reopen after a power cut");
      n.durable_store.reset();  // start() then finds no store, and gives up
    }
    if (n.snapshots && store_.durable_kind) {
      // The restarted process opens its snapshot directory again.
      n.snapshots.reset();
      open_snapshots(id, n);
    }
    n.state.clear();
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
  std::string where(NodeId id, PartitionId p, Index index) const {
    return "node " + std::to_string(id) + " p" + std::to_string(p) + " index " +
           std::to_string(index);
  }

  // The first entry some node applied in (after, before), or 0.
  Index committed_between(PartitionId p, Index after, Index before) const {
    auto found = committed_.find(p);
    if (found == committed_.end()) return 0;
    auto next = found->second.upper_bound(after);
    return next != found->second.end() && next->first < before ? next->first : 0;
  }

  // The state the committed log gives at `index`: the truth a snapshot there must hold.
  KvStateMachine reference_at(PartitionId p, Index index) const {
    KvStateMachine kv;
    auto found = committed_.find(p);
    if (found == committed_.end()) return kv;
    for (const auto& [at, entry] : found->second) {
      if (at > index) break;
      kv.apply(*decode(entry.payload));
    }
    return kv;
  }

  void on_apply(NodeId id, std::uint64_t incarnation, const CommittedEntry& e) {
    SimNode& n = nodes_.at(id);
    if (n.incarnation != incarnation || closing_) return;
    const auto command = decode(e.payload.view());
    if (!command) return fail(where(id, e.partition, e.index) + ": applied an undecodable payload");
    HostPartition& mine = n.state[e.partition];
    if (e.index <= mine.position) {
      return fail(where(id, e.partition, e.index) + ": applied after index " +
                  std::to_string(mine.position));
    }
    // Every incarnation applies from the start of the log or from a snapshot, so an entry
    // some node applied between this node's position and this entry was skipped here.
    if (const Index skipped = committed_between(e.partition, mine.position, e.index)) {
      return fail(where(id, e.partition, e.index) + ": skipped the committed entry at index " +
                  std::to_string(skipped));
    }
    Applied entry{e.index, e.term, command->op_id, std::string(e.payload.view())};
    entry.swapped = mine.kv.apply(*command);
    auto& log = committed_[e.partition];
    auto [slot, fresh] = log.try_emplace(e.index, entry);
    if (!fresh && slot->second != entry) {
      return fail(where(id, e.partition, e.index) + ": applied op " + std::to_string(entry.op_id) +
                  " term " + std::to_string(entry.term) + " (swapped " +
                  std::to_string(entry.swapped) + ") where another node applied op " +
                  std::to_string(slot->second.op_id) + " term " +
                  std::to_string(slot->second.term) + " (swapped " +
                  std::to_string(slot->second.swapped) + ")");
    }
    if (fresh) {
      if (!committed_ops_.insert(entry.op_id).second) {
        return fail(where(id, e.partition, e.index) + ": op " + std::to_string(entry.op_id) +
                    " committed a second time");
      }
      if (dropped_ops_.count(entry.op_id)) {
        return fail(where(id, e.partition, e.index) + ": op " + std::to_string(entry.op_id) +
                    " was answered Dropped yet is committed");
      }
      for (const auto& [other, o] : nodes_) {
        auto it = o.state.find(e.partition);
        if (other != id && it != o.state.end() && it->second.position > e.index) {
          return fail(where(id, e.partition, e.index) + ": node " + std::to_string(other) +
                      " went past it without it");
        }
      }
    }
    mine.position = e.index;
    mine.entries.push_back(std::move(entry));
  }

  // --- snapshots: the host saves its state and installs the state of a snapshot --------
  // Runs `work` now, or after a host delay the seed draws; dropped if the node crashes.
  // A node's host works through its saves and installs in the order they came (one
  // worker): the engine may hand it an install from the leader while its previous install
  // is unfinished, and finishing them in another order would leave the older state.
  void host_does(NodeId id, std::function<void()> work) {
    if (s_.host_delay == 0ms) return work();
    const std::uint64_t key = next_work_++;
    host_work_.emplace(key, HostWork{id, std::move(work)});
    milliseconds& free_at = nodes_.at(id).host_free_at;
    free_at = std::max(free_at, elapsed() + milliseconds(rng_.below(s_.host_delay.count() + 1)));
    // Timers due at one instant may fire in any order: each finishes the node's older
    // work first.
    world_.after(free_at - elapsed(), [this, id, key] {
      for (auto it = host_work_.begin(); it != host_work_.end() && it->first <= key && !closing_;) {
        if (it->second.node != id) {
          ++it;
          continue;
        }
        auto run = std::move(it->second.run);
        it = host_work_.erase(it);
        run();
      }
    });
  }

  void on_save(NodeId id, std::uint64_t incarnation, node::SaveRequest r) {
    SimNode& n = nodes_.at(id);
    if (n.incarnation != incarnation || closing_) return;
    HostPartition& mine = n.state[r.partition];
    // The request comes right after the entry at its index: the host is there.
    if (r.index < mine.position) {
      return fail(where(id, r.partition, r.index) + ": asked to save behind its state at " +
                  std::to_string(mine.position));
    }
    if (const Index skipped = committed_between(r.partition, mine.position, r.index + 1)) {
      return fail(where(id, r.partition, r.index) +
                  ": asked to save before it applied the committed entry at " +
                  std::to_string(skipped));
    }
    mine.position = r.index;
    ++stats_.saves;
    host_does(id, [this, id, r = std::move(r), data = mine.kv.save()] {
      if (!r.writer->write(data.data(), data.size())) {
        fail(where(id, r.partition, r.index) + ": the snapshot writer refused: " + r.writer->why());
        return r.done(Status::StorageFailure, r.writer->why());
      }
      r.done(Status::Ok, "");
    });
  }

  void on_install(NodeId id, std::uint64_t incarnation, node::InstallRequest r) {
    SimNode& n = nodes_.at(id);
    if (n.incarnation != incarnation || closing_) return;
    host_does(id, [this, id, r = std::move(r)] {
      std::string data;
      if (!node::read_all(*r.reader, data)) {
        fail(where(id, r.partition, r.index) + ": cannot read the snapshot: " + r.reader->why());
        return r.done(Status::StorageFailure, r.reader->why());
      }
      install(id, r, data);
      r.done(Status::Ok, "");
    });
  }

  // The snapshot replaces the host's state: it must be the committed log's state at its
  // index, past where the host stands (a restart's own snapshot comes before anything).
  void install(NodeId id, const node::InstallRequest& r, const std::string& data) {
    SimNode& n = nodes_.at(id);
    HostPartition& mine = n.state[r.partition];
    const std::string at = where(id, r.partition, r.index);
    note("node %llu p%llu: installs %s snapshot at %llu", static_cast<unsigned long long>(id),
         static_cast<unsigned long long>(r.partition), r.from_leader ? "the leader's" : "its own",
         static_cast<unsigned long long>(r.index));
    if (!r.from_leader && mine.position != 0) {
      return fail(at + ": reinstalls its own snapshot after reaching " +
                  std::to_string(mine.position));
    }
    if (r.index <= mine.position) {
      return fail(at + ": installs a snapshot not past its state at " +
                  std::to_string(mine.position));
    }
    KvStateMachine kv;
    if (!kv.install(data)) return fail(at + ": installs an undecodable snapshot");
    if (kv != reference_at(r.partition, r.index)) {
      return fail(at +
                  ": installs a snapshot holding another state than the committed log "
                  "gives there");
    }
    const auto& log = committed_[r.partition];
    if (auto entry = log.find(r.index); entry != log.end() && entry->second.term != r.term) {
      return fail(at + ": installs a snapshot of term " + std::to_string(r.term) +
                  " where the committed entry has term " + std::to_string(entry->second.term));
    }
    mine.kv = std::move(kv);
    mine.position = r.index;
    mine.installed = r.index;
    mine.entries.clear();
    if (!r.from_leader) {
      ++stats_.reinstalls;
      return;
    }
    ++stats_.installs;
    if (n.wiped && !n.rejoined) {
      n.rejoined = true;
      ++stats_.wiped_installs;
    }
  }

  // The workload asks a node for a snapshot now and then.
  void maybe_request_snapshot() {
    if (!rng_.chance(s_.request_rate)) return;
    const auto up = up_nodes();
    if (up.empty()) return;
    const NodeId id = pick(up);
    const PartitionId p = rng_.below(s_.partitions + 1);
    nodes_.at(id).host->request_snapshot(p, [this, id, p](Status st, Index index) {
      if (closing_) return;
      if (st == Status::Ok) {
        ++stats_.requests;
      } else if (st != Status::ShuttingDown && st != Status::InvalidArgument) {
        fail("node " + std::to_string(id) + " p" + std::to_string(p) +
             ": request_snapshot answered " + node::to_string(st) + " (index " +
             std::to_string(index) + ")");
      }
    });
  }

  // The workload changes the partition map now and then: creates an unrouted partition, or
  // removes one it created, through partition 0 on a node that may or may not lead it.
  void maybe_change_map() {
    if (s_.map_rate == 0 || !clients_running_ || !map_rng_.chance(s_.map_rate)) return;
    const auto up = up_nodes();
    if (up.empty()) return;
    const NodeId id = up[map_rng_.below(up.size())];
    NodeHost& host = *nodes_.at(id).host;
    const std::uint64_t version = map_rng_.chance(0.3) ? host.partition_map().version : 0;
    const bool create = created_.empty() || map_rng_.chance(0.6);
    auto done = [this, id, create](const node::MapChangeResult& r) {
      if (closing_) return;
      note("node %llu: map %s answered %s (%s) partition %llu version %llu",
           static_cast<unsigned long long>(id), create ? "create" : "remove",
           node::to_string(r.status), system::to_string(r.detail),
           static_cast<unsigned long long>(r.partition),
           static_cast<unsigned long long>(r.map_version));
      if (r.status != Status::Ok) {
        ++stats_.map_refused;
        return;
      }
      if (create) {
        ++stats_.map_created;
        if (!created_.insert(r.partition).second || r.partition <= s_.partitions) {
          fail("map create answered Ok with partition " + std::to_string(r.partition) +
               ", an id handed out before");
        }
      } else {
        ++stats_.map_removed;
      }
    };
    if (create) {
      host.create_partition(system::RoutingMode::Unrouted, {}, version, done);
    } else {
      const auto it =
          std::next(created_.begin(), static_cast<long>(map_rng_.below(created_.size())));
      host.remove_partition(*it, version, done);
    }
  }

  // Partition 0 applies the same commands in the same order on every node: two nodes at
  // one map version hold the same map, and every map keeps core/system's rules.
  void check_maps() {
    for (auto& [id, n] : nodes_) {
      if (!n.host) continue;
      const system::SystemState state = n.host->system_state();
      if (auto broken = system::check_invariants(state); !broken.empty()) {
        return fail("node " + std::to_string(id) + ": its system state breaks a rule: " + broken);
      }
      auto [it, fresh] = maps_.try_emplace(state.map.version, state.map);
      if (!fresh && it->second != state.map) {
        return fail("node " + std::to_string(id) + ": its map at version " +
                    std::to_string(state.map.version) + " differs from another node's");
      }
    }
  }

  // Once settled: every node holds the same map and runs exactly the partitions it holds
  // live (the removed ones stopped and their storage deleted).
  std::string check_final_map() {
    const system::PartitionMap map = nodes_.begin()->second.host->partition_map();
    for (auto& [id, n] : nodes_) {
      const std::string who = "node " + std::to_string(id);
      if (n.host->partition_map() != map) return who + ": its map differs once settled";
      const auto running = n.host->partitions();
      const auto stored = n.store()->partitions();
      auto has = [](const std::vector<PartitionId>& ids, PartitionId p) {
        return std::find(ids.begin(), ids.end(), p) != ids.end();
      };
      for (const auto& [pid, p] : map.partitions) {
        const bool live = p.state != system::PartitionState::Removed;
        if (live && !has(running, pid)) {
          return who + ": does not run partition " + std::to_string(pid) + ", live in the map";
        }
        if (!live && (has(running, pid) || has(stored, pid))) {
          return who + ": still runs or stores partition " + std::to_string(pid) +
                 ", removed from the map";
        }
      }
    }
    return {};
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
    if (violation_.empty()) check_maps();
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
    switch (rng_.below(10)) {
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
        // Keep a majority up most of the time, so that the workload makes progress. No
        // crash while a wiped node rejoins (see the header).
        if (wipe_in_progress()) break;
        if (up.empty() || (2 * (down + 1) >= members_.size() && !rng_.chance(0.1))) break;
        const NodeId id = pick(up);
        crash(id);
        nodes_.at(id).restart_at = elapsed() + milliseconds(50 + rng_.below(1500));
        break;
      }
      case 6:
        // A power failure of the whole cluster, now and then: only synced writes survive,
        // and they must hold every acknowledged write.
        if (!rng_.chance(0.2) || wipe_in_progress()) break;
        note("power failure of every node");
        for (NodeId id : up) {
          crash(id);
          nodes_.at(id).restart_at = elapsed() + milliseconds(rng_.below(300));
        }
        break;
      case 7: {
        // A disk lost: the node crashes, and comes back empty (see the header). Not in seeds
        // that change the map: the rejoin protocol guards the founding partitions only, and
        // a wiped node founds the map's created partitions again with an empty log.
        if (s_.map_rate > 0) break;
        if (wipe_in_progress() || up.empty() || 2 * (down + 1) >= members_.size()) break;
        const NodeId id = pick(up);
        crash(id);
        wipe(id);
        SimNode& n = nodes_.at(id);
        n.wiped = true;
        n.rejoined = false;
        n.wipe_target.clear();
        n.catch_up.clear();
        ++stats_.wipes;
        const auto timeouts = 3 + rng_.below(4);
        n.restart_at = elapsed() + kStep * s_.election_ticks * static_cast<int>(timeouts);
        note("node %llu: disk wiped; restarts after %llu election timeouts at the earliest",
             static_cast<unsigned long long>(id), static_cast<unsigned long long>(timeouts));
        break;
      }
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
      if (n.host) {
        if (n.wiped) watch_caught_up(id, n);
        continue;
      }
      if (n.wiped) {
        watch_wiped(id, n);
        if (n.restart_at <= elapsed() && may_rejoin(id, n)) {
          start(id);
          for (const auto& [p, target] : n.catch_up) {
            note("node %llu p%llu: rejoins; caught up at commit %llu",
                 static_cast<unsigned long long>(id), static_cast<unsigned long long>(p),
                 static_cast<unsigned long long>(target));
          }
        }
      } else if (n.restart_at <= elapsed()) {
        start(id);
      }
    }
  }

  bool wipe_in_progress() const {
    return std::any_of(nodes_.begin(), nodes_.end(), [](const auto& n) { return n.second.wiped; });
  }

  // Partition `p` as every node but `id` sees it when they are all up (else nullopt),
  // the leader's status first when they all follow one leader in one term.
  std::optional<std::vector<raft::RaftState>> others(NodeId id, PartitionId p) const {
    std::vector<raft::RaftState> seen;
    for (const auto& [other, o] : nodes_) {
      if (other == id) continue;
      if (!o.host) return std::nullopt;
      for (const auto& s : o.host->status()) {
        if (s.partition == p) seen.push_back(s.raft);
      }
    }
    if (seen.size() + 1 != members_.size()) return std::nullopt;
    auto lead = std::find_if(seen.begin(), seen.end(), [](const raft::RaftState& s) {
      return s.soft_state.role == raft::Role::Leader;
    });
    if (lead != seen.end()) std::iter_swap(seen.begin(), lead);
    return seen;
  }

  static bool follow_the_first(const std::vector<raft::RaftState>& seen) {
    const auto& lead = seen.front();
    return lead.soft_state.role == raft::Role::Leader &&
           std::all_of(seen.begin(), seen.end(), [&](const raft::RaftState& s) {
             return s.soft_state.leader == lead.id && s.hard_state.term == lead.hard_state.term;
           });
  }

  // While a wiped node is down: a partition becomes safe for it once every other node
  // holds every entry committed so far, for good (no node crashes until the wiped one has
  // caught up); entries committed later never needed the wiped node's copy. Either the
  // others' logs are whole and the same (a quiet partition, perhaps without a leader), or
  // each has since committed the log its leader held at a moment since the wipe.
  void watch_wiped(NodeId id, SimNode& n) {
    for (PartitionId p = 0; p <= s_.partitions; ++p) {
      auto& [term, index, safe] = n.wipe_target[p];
      if (safe) continue;
      const auto seen = others(id, p);
      if (!seen) continue;
      const Index last = seen->front().last_index;
      if (std::all_of(seen->begin(), seen->end(), [last](const raft::RaftState& s) {
            return s.last_index == last && s.hard_state.commit == last;
          })) {
        safe = true;
        continue;
      }
      if (!follow_the_first(*seen)) continue;
      const auto& lead = seen->front();
      if (term != lead.hard_state.term) {
        term = lead.hard_state.term;
        index = lead.last_index;
        continue;
      }
      safe = std::all_of(seen->begin(), seen->end(), [index = index](const raft::RaftState& s) {
        return s.hard_state.commit >= index;
      });
    }
  }

  // Every partition is safe, every other node is in a term no older than the one the
  // wiped node forgot it voted in, and none is still a candidate in that term (a vote
  // asked for in later terms is one it never cast). A leader of a term the wiped node
  // took part in still believes the node holds what it acknowledged, and only a new entry
  // would show it otherwise (raft's HeartbeatResp does not say how far a follower's log
  // goes): a quiet partition would never bring the node back, so such a leader is asked
  // to hand over first, and the next one starts from nothing known of the node. Records
  // the commit index the node must catch up with.
  bool may_rejoin(NodeId id, SimNode& n) {
    std::map<PartitionId, Index> catch_up;
    bool hand_over = false;
    for (PartitionId p = 0; p <= s_.partitions; ++p) {
      const auto seen = others(id, p);
      if (!std::get<2>(n.wipe_target[p]) || !seen) return false;
      const Term forgotten = n.term_at_crash[p];
      const auto& lead = seen->front();
      if (lead.soft_state.role == raft::Role::Leader && lead.hard_state.term <= forgotten) {
        hand_over = true;
        if (elapsed() < n.next_hand_over) continue;
        const NodeId target = seen->back().id;
        const Status st = nodes_.at(lead.id).host->transfer_leadership(p, target);
        note("p%llu: transfer %llu -> %llu before wiped node %llu rejoins: %s",
             static_cast<unsigned long long>(p), static_cast<unsigned long long>(lead.id),
             static_cast<unsigned long long>(target), static_cast<unsigned long long>(id),
             node::to_string(st));
        continue;
      }
      for (const auto& s : *seen) {
        if (s.hard_state.term < forgotten ||
            (s.hard_state.term == forgotten && s.soft_state.role == raft::Role::Candidate)) {
          return false;
        }
        catch_up[p] = std::max(catch_up[p], s.hard_state.commit);
      }
    }
    if (hand_over) {
      if (elapsed() >= n.next_hand_over) n.next_hand_over = elapsed() + kStep * s_.election_ticks;
      return false;
    }
    n.catch_up = std::move(catch_up);
    return true;
  }

  void watch_caught_up(NodeId id, SimNode& n) {
    for (const auto& s : n.host->status()) {
      if (s.raft.applied < n.catch_up[s.partition]) return;
    }
    n.wiped = false;
    note("node %llu: caught up after its wipe%s", static_cast<unsigned long long>(id),
         n.rejoined ? ", through a snapshot" : "");
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
        const auto& state = nodes_.at(target).state;
        if (auto mine = state.find(r.partition);
            mine == state.end() || mine->second.position < result.index) {
          fail(what + ": answered Ok before the node applied it");
          break;
        }
        r.op.swapped = at->second.swapped;
        r.index = result.index;
        r.op.answered_at = now_ns();
        r.pending = false;
        ++stats_.acked_writes;
        if (r.op.kind == OpKind::Put || (r.op.kind == OpKind::CompareAndSwap && r.op.swapped)) {
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
        auto mine = n.state.find(r.partition);
        r.op.read = mine == n.state.end() ? std::nullopt : mine->second.kv.get(r.op.key);
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
      restart_due();
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
    // Every node applied the whole committed log above its latest snapshot, and nothing
    // else, and holds the state the whole log gives.
    for (const auto& [id, n] : nodes_) {
      for (const auto& [p, log] : committed_) {
        const HostPartition none;
        auto found = n.state.find(p);
        const HostPartition& mine = found == n.state.end() ? none : found->second;
        std::vector<Applied> expected;
        for (auto it = log.upper_bound(mine.installed); it != log.end(); ++it) {
          expected.push_back(it->second);
        }
        const std::string node = "node " + std::to_string(id) + " p" + std::to_string(p);
        if (mine.entries != expected) {
          return node + " applied " + std::to_string(mine.entries.size()) + " entries above " +
                 std::to_string(mine.installed) + " where " + std::to_string(expected.size()) +
                 " are committed";
        }
        if (mine.kv != reference_at(p, log.empty() ? 0 : log.rbegin()->first)) {
          return node + " holds another state than the committed log gives";
        }
      }
    }
    // No acknowledged write is lost: each is in every node's state, from its snapshot or
    // from the entries it applied above it.
    for (const auto& r : ops_) {
      if (r.op.kind == OpKind::Get || !r.op.answered_at) continue;
      for (const auto& [id, n] : nodes_) {
        const HostPartition& mine = n.state.at(r.partition);
        if (r.index > mine.installed &&
            std::none_of(mine.entries.begin(), mine.entries.end(),
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
  // The map changes' own choices (Settings::map_rate).
  env::Random map_rng_{seed_ * 7919 + 0x6d6170};
  Settings s_;
  std::vector<NodeId> members_;
  std::vector<std::string> keys_;
  env::SimulatedWorld world_;
  transport::InMemoryNetwork network_;
  std::map<NodeId, SimNode> nodes_;
  std::string dir_;  // the durable stores' directories, one per node; removed at the end
  std::set<std::pair<NodeId, NodeId>> faulty_links_;

  // Saves and installs a host answers later (Settings::host_delay), by key.
  struct HostWork {
    NodeId node;
    std::function<void()> run;
  };
  std::map<std::uint64_t, HostWork> host_work_;
  std::uint64_t next_work_ = 0;

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
  // Partitions created through the map (answered Ok), and every map seen, by version.
  std::set<PartitionId> created_;
  std::map<std::uint64_t, system::PartitionMap> maps_;

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
      total.saves += s.saves;
      total.installs += s.installs;
      total.reinstalls += s.reinstalls;
      total.requests += s.requests;
      total.wipes += s.wipes;
      total.wiped_installs += s.wiped_installs;
      total.map_created += s.map_created;
      total.map_removed += s.map_removed;
      total.map_refused += s.map_refused;
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
      "crashes, %llu partitions, %llu transfers; snapshots: %llu saved (%llu on request), %llu "
      "installed from a leader, %llu reinstalled after a restart; %llu disks wiped (%llu "
      "rejoined through a snapshot); map: %llu partitions created, %llu removed, %llu changes "
      "refused; checker gave up on %llu\n",
      nodes, store.name, static_cast<unsigned long long>(count),
      static_cast<long long>(duration.count()), seconds,
      static_cast<unsigned long long>(total.acked_writes),
      static_cast<unsigned long long>(total.reads), static_cast<unsigned long long>(total.unknown),
      static_cast<unsigned long long>(total.refused),
      static_cast<unsigned long long>(total.leaders),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.partitions),
      static_cast<unsigned long long>(total.transfers),
      static_cast<unsigned long long>(total.saves), static_cast<unsigned long long>(total.requests),
      static_cast<unsigned long long>(total.installs),
      static_cast<unsigned long long>(total.reinstalls),
      static_cast<unsigned long long>(total.wipes),
      static_cast<unsigned long long>(total.wiped_installs),
      static_cast<unsigned long long>(total.map_created),
      static_cast<unsigned long long>(total.map_removed),
      static_cast<unsigned long long>(total.map_refused),
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
