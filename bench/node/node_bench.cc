// synod-bench: the NodeHost runtime end to end. Three NodeHosts run in one process on real
// threads, connected by the in-memory transport and backed by memory, RocksDB or SQLite
// stores. A closed loop keeps a fixed number of proposals in flight at the partitions'
// leaders and measures commits per second, commit latency, batching, syncs and the
// process's CPU time and memory. With --idle it proposes nothing and measures what an
// idle cluster costs; with --restart N it commits N entries, stops every node and measures
// how long the restart from the data directories takes.
//
//   build/bench/node/synod-bench --partitions 64 --payload 256 --outstanding 1024
//   build/bench/node/synod-bench --store rocksdb --partitions 1 --outstanding 1
//   build/bench/node/synod-bench --store rocksdb --partitions 64 --restart 1000000
//   build/bench/node/synod-bench --partitions 10000 --idle --pools per-node --warmup 10
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "synod/env/clock.h"
#include "synod/env/random.h"
#include "synod/env/thread_pool.h"
#include "synod/node/node_host.h"
#include "synod/storage/open_log_store.h"
#include "synod/transport/in_memory.h"

namespace {

using std::chrono::milliseconds;
using synod::env::Duration;
using synod::env::TimePoint;
using synod::node::Index;
using synod::node::NodeHost;
using synod::node::NodeHostConfig;
using synod::node::NodeId;
using synod::node::PartitionId;
using synod::node::ReplicationResult;
using synod::node::Status;

constexpr std::array<NodeId, 3> kNodes = {1, 2, 3};
constexpr std::uint32_t kEntryType = 1;
constexpr auto kRetryDelay = milliseconds(1);

const char* const kUsage = R"(usage: synod-bench [options]

Three NodeHosts in one process over the in-memory transport, on real threads.

  --partitions N   user partitions per node (default 64)
  --payload BYTES  payload of each proposal (default 256)
  --outstanding N  proposals in flight across all partitions, kept full by a closed loop
                   that proposes again on each completion (default 1024)
  --duration S     seconds measured (default 10)
  --warmup S       seconds run before measuring (default 2)
  --store KIND     log store: memory, rocksdb or sqlite (default memory)
  --dir PATH       where the durable stores keep each node's directory (default: a new
                   temporary directory, removed at exit)
  --no-sync        do not sync storage writes (durable stores only; unsafe, for comparison)
  --no-sync-thread sync on the worker that wrote (by default a durable store's node
                   syncs on a thread of its own: NodeHostConfig::sync_executor)
  --restart N      commit N entries (no log trimming), stop every node, then measure the
                   restart: opening each store, creating each NodeHost, electing leaders
  --pools KIND     "shared": one worker pool for every node and the network;
                   "per-node": a pool and a timer thread per node, and one more
                   for the network (default shared)
  --threads N      threads per worker pool (default: one per core)
  --idle           propose nothing: measure the CPU and memory of an idle cluster
  --help           this text
)";

struct Options {
  std::uint32_t partitions = 64;
  std::size_t payload = 256;
  std::size_t outstanding = 1024;
  double duration_s = 10;
  double warmup_s = 2;
  bool per_node_pools = false;
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  bool idle = false;
  std::string store = "memory";
  std::string dir;
  bool sync = true;
  bool sync_thread = true;
  std::uint64_t restart_entries = 0;
};

// Returns false (after printing why) for anything it does not understand.
bool parse(int argc, char** argv, Options& o, bool& help) {
  auto number = [](const char* text, double& out) {
    char* end = nullptr;
    out = std::strtod(text, &end);
    return end != text && *end == '\0' && out >= 0;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      help = true;
      return true;
    }
    if (flag == "--idle") {
      o.idle = true;
      continue;
    }
    if (flag == "--no-sync") {
      o.sync = false;
      continue;
    }
    if (flag == "--no-sync-thread") {
      o.sync_thread = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "synod-bench: %s needs a value (see --help)\n", flag.c_str());
      return false;
    }
    const char* value = argv[++i];
    double v = 0;
    const bool numeric = number(value, v);
    const bool whole = numeric && v == static_cast<double>(static_cast<std::uint64_t>(v));
    bool ok = true;
    if (flag == "--partitions") {
      ok = whole && v >= 1 && v <= std::numeric_limits<std::uint32_t>::max();
      o.partitions = static_cast<std::uint32_t>(v);
    } else if (flag == "--payload") {
      ok = whole;
      o.payload = static_cast<std::size_t>(v);
    } else if (flag == "--outstanding") {
      ok = whole && v >= 1;
      o.outstanding = static_cast<std::size_t>(v);
    } else if (flag == "--duration") {
      ok = numeric && v > 0;
      o.duration_s = v;
    } else if (flag == "--warmup") {
      ok = numeric;
      o.warmup_s = v;
    } else if (flag == "--threads") {
      ok = whole && v >= 1;
      o.threads = static_cast<std::size_t>(v);
    } else if (flag == "--store") {
      o.store = value;
      ok = o.store == "memory" || o.store == "rocksdb" || o.store == "sqlite";
    } else if (flag == "--dir") {
      o.dir = value;
    } else if (flag == "--restart") {
      ok = whole && v >= 1;
      o.restart_entries = static_cast<std::uint64_t>(v);
    } else if (flag == "--pools") {
      ok = std::strcmp(value, "shared") == 0 || std::strcmp(value, "per-node") == 0;
      o.per_node_pools = std::strcmp(value, "per-node") == 0;
    } else {
      std::fprintf(stderr, "synod-bench: unknown option %s (see --help)\n", flag.c_str());
      return false;
    }
    if (!ok) {
      std::fprintf(stderr, "synod-bench: bad value for %s: %s\n", flag.c_str(), value);
      return false;
    }
  }
  return true;
}

Duration seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Commit latencies in nanoseconds, filled concurrently by completion callbacks. Buckets
// are log-linear (64 per power of two), so a reported quantile is within 1.6% of the truth.
class LatencyHistogram {
 public:
  void record(std::uint64_t ns) { buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed); }

  // The upper bound of the bucket holding the q-quantile; 0 when nothing was recorded.
  std::uint64_t quantile(double q) const {
    std::uint64_t total = 0;
    for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return upper_of(i);
    }
    return upper_of(buckets_.size() - 1);
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr std::uint64_t kSub = 1u << kSubBits;

  static std::size_t bucket_of(std::uint64_t v) {
    if (v < kSub) return v;
    const int e = std::bit_width(v) - 1;
    const std::uint64_t sub = (v >> (e - kSubBits)) & (kSub - 1);
    return static_cast<std::size_t>(e - kSubBits + 1) * kSub + sub;
  }
  static std::uint64_t upper_of(std::size_t bucket) {
    if (bucket < kSub) return bucket;
    const int e = static_cast<int>(bucket / kSub) + kSubBits - 1;
    return ((kSub + bucket % kSub + 1) << (e - kSubBits)) - 1;
  }

  std::array<std::atomic<std::uint64_t>, (64 - kSubBits + 1) * kSub> buckets_{};
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024;  // Linux reports KiB
}

double rss_mib() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE))) /
         (1024.0 * 1024.0);
}

// Threads the cluster runs: each pool comes with its timer thread.
std::size_t thread_count(const Options& o) {
  const std::size_t pool = o.threads + 1;
  return o.per_node_pools ? pool * (1 + kNodes.size()) : pool;
}

// Store and transport counters summed over the nodes.
struct Counters {
  std::uint64_t store_batches = 0;
  std::uint64_t entries = 0;
  std::uint64_t syncs = 0;
  std::uint64_t net_batches = 0;
  std::uint64_t messages = 0;
  std::uint64_t net_dropped = 0;     // batches lost on the way, for any reason
  std::uint64_t net_queue_full = 0;  // of which: the link's queue was full
  std::uint64_t elections = 0;       // partitions that got a new leader

  Counters operator-(const Counters& o) const {
    return {store_batches - o.store_batches,   entries - o.entries,    syncs - o.syncs,
            net_batches - o.net_batches,       messages - o.messages,  net_dropped - o.net_dropped,
            net_queue_full - o.net_queue_full, elections - o.elections};
  }
};

class Cluster {
 public:
  explicit Cluster(const Options& options)
      : options_(options),
        pool_(options.threads),
        timers_(clock_, pool_),
        network_(timers_, pool_, random_) {}

  ~Cluster() { stop(); }

  // Opens (or reopens) every node's store and creates its NodeHost, timing both.
  bool create(std::string& error) {
    for (NodeId id : kNodes) {
      auto& n = nodes_[id];
      n = std::make_unique<Node>();
      const auto opening = std::chrono::steady_clock::now();
      synod::storage::DurableStoreOptions store_options;
      if (auto st = synod::storage::open_log_store(options_.store,
                                                   options_.dir + "/node-" + std::to_string(id),
                                                   store_options, n->store);
          !st.ok()) {
        error = "node " + std::to_string(id) + ": " + st.to_string();
        return false;
      }
      n->open_s = elapsed_since(opening);
      for (PartitionId p : n->store->partitions()) {
        auto view = n->store->open_partition(p);
        n->recovered_entries += view->last_index() + 1 - view->first_index();
      }
      n->transport = std::make_unique<synod::transport::InMemoryTransport>(network_, 1, id);
      if (options_.per_node_pools) {
        n->pool = std::make_unique<synod::env::ThreadPool>(options_.threads);
        n->timers = std::make_unique<synod::env::TimerThread>(clock_, *n->pool);
      }
      NodeHostConfig c;
      c.node_id = id;
      c.initial_members = {kNodes.begin(), kNodes.end()};
      c.user_partitions = options_.partitions;
      c.seed = id;
      c.sync = options_.sync;
      c.store = n->store.get();
      c.transport = n->transport.get();
      c.clock = &clock_;
      c.scheduler = n->timers ? static_cast<synod::env::Scheduler*>(n->timers.get()) : &timers_;
      if (options_.store != "memory" && options_.sync_thread) {
        n->sync_thread = std::make_unique<synod::env::ThreadPool>(1);
        c.sync_executor = n->sync_thread.get();
      }
      c.executor = n->pool ? static_cast<synod::env::Executor*>(n->pool.get()) : &pool_;
      const auto creating = std::chrono::steady_clock::now();
      n->host = NodeHost::create(c, &error);
      if (!n->host) return false;
      n->create_s = elapsed_since(creating);
      n->host->set_leader_handler([this, id](const synod::node::LeaderChange& change) {
        if (change.leader == id) elections_.fetch_add(1, std::memory_order_relaxed);
      });
    }
    return true;
  }

  void start() {
    for (auto& [id, n] : nodes_) n->host->start();
  }

  // Every host completes its pending proposals (ShuttingDown) before any thread goes.
  void stop() {
    for (auto& [id, n] : nodes_) {
      if (n->host) n->host->stop();
    }
  }

  NodeHost& host(NodeId id) { return *nodes_.at(id)->host; }
  // Seconds node `id` took to open its store and to create its NodeHost, and the log
  // entries its store held when opened.
  double open_seconds(NodeId id) const { return nodes_.at(id)->open_s; }
  double create_seconds(NodeId id) const { return nodes_.at(id)->create_s; }
  std::uint64_t recovered_entries(NodeId id) const { return nodes_.at(id)->recovered_entries; }
  synod::env::Scheduler& timers() { return timers_; }
  const synod::env::Clock& clock() const { return clock_; }

  // The leader of each partition (indexed by partition id, system partition included) once
  // every partition has one; empty if that takes longer than `timeout`. Reports progress
  // every ten seconds, since a large cluster may take long.
  std::vector<NodeId> wait_for_leaders(Duration timeout) {
    std::vector<NodeId> leaders(options_.partitions + 1, synod::raft::kNoNode);
    const TimePoint start = clock_.now();
    TimePoint next_report = start + std::chrono::seconds(10);
    std::size_t led = 0;
    while (led < leaders.size()) {
      const TimePoint now = clock_.now();
      if (now - start > timeout) return {};
      if (now >= next_report) {
        const Counters c = counters();
        std::printf(
            "startup:    %zu of %zu partitions led after %.0f s (%llu batches dropped, "
            "%llu on a full link queue)\n",
            led, leaders.size(), to_seconds(now - start),
            static_cast<unsigned long long>(c.net_dropped),
            static_cast<unsigned long long>(c.net_queue_full));
        std::fflush(stdout);
        next_report += std::chrono::seconds(10);
      }
      // Not too often: polling 3 x 10,000 partitions costs milliseconds.
      std::this_thread::sleep_for(milliseconds(100));
      for (PartitionId p = 0; p < leaders.size(); ++p) {
        if (leaders[p] != synod::raft::kNoNode) continue;
        for (NodeId id : kNodes) {
          if (host(id).is_leader(p)) {
            leaders[p] = id;
            ++led;
            break;
          }
        }
      }
    }
    return leaders;
  }

  // Leaves out the bench's own log trimming, which is not the runtime's work.
  Counters counters() const {
    Counters c;
    for (const auto& [id, n] : nodes_) {
      c.store_batches += n->store->batches();
      c.entries += n->store->entries_written();
      // A durable store counts the syncs that reached the disk (concurrent writers share).
      const auto* durable = dynamic_cast<const synod::storage::DurableLogStore*>(n->store.get());
      c.syncs += durable ? durable->engine_syncs() : n->store->syncs();
      const auto t = n->transport->stats();
      c.net_batches += t.batches_sent;
      c.messages += t.messages_sent;
      c.net_dropped += t.dropped_peer_unknown + t.dropped_peer_down + t.dropped_queue_full +
                       t.dropped_link_cut + t.dropped_fault + t.dropped_stopped;
      c.net_queue_full += t.dropped_queue_full;
    }
    c.elections = elections_.load();
    c.store_batches -= trim_batches_;
    c.syncs -= trim_syncs_;
    return c;
  }

  // The runtime takes no snapshots yet, so a memory store would keep every entry and the
  // process would grow by gigabytes in a run. Like the core benchmark, the bench compacts
  // the logs itself: below what every replica has, minus a margin the leader may still
  // need to send.
  void trim_logs() {
    constexpr Index kMargin = 4096;
    std::map<NodeId, std::vector<synod::node::PartitionStatus>> statuses;
    std::unordered_map<PartitionId, Index> replicated;
    for (NodeId id : kNodes) {
      auto& list = statuses[id] = host(id).status();
      for (const auto& ps : list) {
        if (ps.raft.soft_state.role != synod::raft::Role::Leader) continue;
        Index low = ps.raft.last_index;
        for (const auto& peer : ps.raft.peers) low = std::min(low, peer.match);
        replicated[ps.partition] = low;
      }
    }
    for (NodeId id : kNodes) {
      Node& n = *nodes_.at(id);
      synod::storage::WriteBatch batch;
      for (const auto& ps : statuses[id]) {
        auto it = replicated.find(ps.partition);
        if (it == replicated.end()) continue;
        const Index upto = std::min(it->second, ps.raft.hard_state.commit);
        if (upto <= kMargin) continue;
        const Index through = upto - kMargin;
        Index& trimmed = n.trimmed[ps.partition];
        if (through <= trimmed) continue;
        if (!n.store->create_snapshot(ps.partition, through, ps.raft.conf, {}).ok()) continue;
        ++trim_syncs_;
        batch.add(ps.partition).compact_through = through;
        trimmed = through;
      }
      if (batch.empty()) continue;
      // Synced, so that the durable layer drops the entries here, on this thread, and not
      // inside the runtime's next write.
      if (n.store->write(batch, true).ok()) {
        ++trim_batches_;
        ++trim_syncs_;
      }
    }
  }

 private:
  static double elapsed_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  struct Node {
    std::unique_ptr<synod::storage::LogStore> store;
    std::unique_ptr<synod::transport::InMemoryTransport> transport;
    std::unique_ptr<synod::env::ThreadPool> pool;  // per-node pools only
    std::unique_ptr<synod::env::TimerThread> timers;
    std::unique_ptr<synod::env::ThreadPool> sync_thread;  // durable stores only
    std::unique_ptr<NodeHost> host;  // last: stops before anything it uses goes
    std::unordered_map<PartitionId, Index> trimmed;
    double open_s = 0;
    double create_s = 0;
    std::uint64_t recovered_entries = 0;
  };

  const Options& options_;
  synod::env::SteadyClock clock_;
  synod::env::ThreadPool pool_;
  synod::env::TimerThread timers_;
  synod::env::Random random_{1};
  synod::transport::InMemoryNetwork network_;
  std::uint64_t trim_batches_ = 0;
  std::uint64_t trim_syncs_ = 0;
  std::atomic<std::uint64_t> elections_{0};
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
};

// The closed loop: `outstanding` proposals spread round-robin over the user partitions,
// each proposed again at its partition's leader as soon as the previous one completes.
class Load {
 public:
  Load(Cluster& cluster, const Options& options, const std::vector<NodeId>& leaders)
      : cluster_(cluster),
        options_(options),
        payload_(options.payload, 'x'),
        leaders_(leaders.size()),
        in_flight_(options.outstanding) {
    for (std::size_t p = 0; p < leaders.size(); ++p) leaders_[p].store(leaders[p]);
  }

  void start() {
    for (std::size_t i = 0; i < options_.outstanding; ++i) propose(1 + i % options_.partitions);
  }

  void set_measuring(bool on) { measuring_.store(on); }

  // Stops proposing again and waits for every proposal in flight; false on timeout.
  bool drain(Duration timeout) {
    stopping_.store(true);
    std::unique_lock lock(mu_);
    return drained_.wait_for(lock, timeout, [this] { return in_flight_.load() == 0; });
  }

  std::uint64_t committed() const { return committed_.load(); }
  const LatencyHistogram& latency() const { return latency_; }
  std::uint64_t refused(Status s) const { return refused_[static_cast<std::size_t>(s)].load(); }

 private:
  void propose(PartitionId p) {
    const NodeId target = leaders_[p].load(std::memory_order_relaxed);
    const TimePoint started = cluster_.clock().now();
    // A fresh payload per proposal, as a client's data would be.
    cluster_.host(target).replicate(
        p, kEntryType, synod::raft::Bytes(std::string(payload_)),
        [this, p, target, started](const ReplicationResult& r) { done(p, target, started, r); });
  }

  void done(PartitionId p, NodeId target, TimePoint started, const ReplicationResult& r) {
    if (r.status == Status::Ok) {
      if (measuring_.load(std::memory_order_relaxed)) {
        committed_.fetch_add(1, std::memory_order_relaxed);
        latency_.record(static_cast<std::uint64_t>((cluster_.clock().now() - started).count()));
      }
      return stopping_.load() ? finish_one() : propose(p);
    }
    if (measuring_.load(std::memory_order_relaxed)) {
      refused_[static_cast<std::size_t>(r.status)].fetch_add(1, std::memory_order_relaxed);
    }
    switch (r.status) {
      case Status::NotLeader:
      case Status::NoLeader: {
        // Follow the hint; without one, try the next node.
        const NodeId next = r.leader_hint != synod::raft::kNoNode
                                ? r.leader_hint
                                : static_cast<NodeId>(target % kNodes.size() + 1);
        NodeId expected = target;
        leaders_[p].compare_exchange_strong(expected, next);
        return retry_later(p);
      }
      case Status::Dropped:
      case Status::Timeout:
      case Status::QueueFull:
      case Status::TransferInProgress:
        return retry_later(p);
      default:
        return finish_one();
    }
  }

  void retry_later(PartitionId p) {
    cluster_.timers().after(kRetryDelay, [this, p] {
      if (stopping_.load()) return finish_one();
      propose(p);
    });
  }

  void finish_one() {
    if (in_flight_.fetch_sub(1) != 1) return;
    std::lock_guard lock(mu_);
    drained_.notify_all();
  }

  Cluster& cluster_;
  const Options& options_;
  const std::string payload_;
  std::vector<std::atomic<NodeId>> leaders_;
  std::atomic<bool> measuring_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> in_flight_;
  std::atomic<std::uint64_t> committed_{0};
  std::array<std::atomic<std::uint64_t>, 16> refused_{};
  LatencyHistogram latency_;
  std::mutex mu_;
  std::condition_variable drained_;
};

// Sleeps for `d`, trimming the logs every so often when `trim` is set.
void run_for(Cluster& cluster, Duration d, bool trim) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_until(
        std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(250)));
    if (trim) cluster.trim_logs();
  }
}

struct Window {
  Counters counters;
  double cpu = 0;
  TimePoint at{};
};

Window sample(const Cluster& cluster) {
  return {cluster.counters(), cpu_seconds(), cluster.clock().now()};
}

void print_resources(const Window& begin, const Window& end) {
  const Counters c = end.counters - begin.counters;
  const double elapsed = to_seconds(end.at - begin.at);
  const double cpu = end.cpu - begin.cpu;
  auto ratio = [](std::uint64_t a, std::uint64_t b) {
    return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
  };
  std::printf("storage:    %.1f entries per batch (%llu batches, %.0f/s; %.0f syncs/s)\n",
              ratio(c.entries, c.store_batches), static_cast<unsigned long long>(c.store_batches),
              c.store_batches / elapsed, c.syncs / elapsed);
  std::printf(
      "network:    %.1f messages per batch (%llu batches, %.0f/s; %.0f messages/s; "
      "%llu batches dropped, %llu on a full link queue)\n",
      ratio(c.messages, c.net_batches), static_cast<unsigned long long>(c.net_batches),
      c.net_batches / elapsed, c.messages / elapsed, static_cast<unsigned long long>(c.net_dropped),
      static_cast<unsigned long long>(c.net_queue_full));
  std::printf("elections:  %llu leaders elected while measuring\n",
              static_cast<unsigned long long>(c.elections));
  std::printf("cpu:        %.2f s in %.2f s = %.1f%% of one core\n", cpu, elapsed,
              100 * cpu / elapsed);
  std::printf("memory:     peak RSS %.0f MiB, RSS now %.0f MiB\n", peak_rss_mib(), rss_mib());
}

// Creates and starts the cluster and waits for every partition's leader; prints how long
// each step took. Returns the leaders, or nothing after printing why.
std::vector<NodeId> start_cluster(Cluster& cluster, const char* what) {
  const TimePoint t0 = cluster.clock().now();
  std::string error;
  if (!cluster.create(error)) {
    std::fprintf(stderr, "synod-bench: %s\n", error.c_str());
    return {};
  }
  const TimePoint t1 = cluster.clock().now();
  cluster.start();
  auto leaders = cluster.wait_for_leaders(std::chrono::minutes(5));
  if (leaders.empty()) {
    std::fprintf(stderr, "synod-bench: not every partition had a leader after 5 minutes\n");
    return {};
  }
  const TimePoint t2 = cluster.clock().now();
  std::map<NodeId, std::size_t> led;
  for (std::size_t p = 1; p < leaders.size(); ++p) ++led[leaders[p]];
  std::printf(
      "%-11s created in %.2f s, every partition led %.2f s later (%.2f s); "
      "user partitions led by node 1/2/3: %zu/%zu/%zu\n",
      what, to_seconds(t1 - t0), to_seconds(t2 - t1), to_seconds(t2 - t0), led[1], led[2], led[3]);
  for (NodeId id : kNodes) {
    std::printf(
        "            node %llu: store opened in %.3f s (%llu log entries recovered), "
        "NodeHost created in %.3f s\n",
        static_cast<unsigned long long>(id), cluster.open_seconds(id),
        static_cast<unsigned long long>(cluster.recovered_entries(id)), cluster.create_seconds(id));
  }
  std::fflush(stdout);
  return leaders;
}

// --restart: fills the logs through the runtime, stops every node, restarts them all.
int run_restart(const Options& o) {
  std::vector<NodeId> leaders;
  {
    Cluster cluster(o);
    leaders = start_cluster(cluster, "startup:");
    if (leaders.empty()) return 1;
    Load load(cluster, o, leaders);
    load.set_measuring(true);
    const TimePoint begin = cluster.clock().now();
    load.start();
    while (load.committed() < o.restart_entries) {
      std::this_thread::sleep_for(milliseconds(100));
    }
    const TimePoint end = cluster.clock().now();
    load.drain(std::chrono::seconds(30));
    std::printf("fill:       %llu entries committed in %.1f s (%.0f commits/s)\n",
                static_cast<unsigned long long>(load.committed()), to_seconds(end - begin),
                static_cast<double>(load.committed()) / to_seconds(end - begin));
    std::fflush(stdout);
  }
  Cluster cluster(o);
  return start_cluster(cluster, "restart:").empty() ? 1 : 0;
}

int run(const Options& o) {
  std::printf("synod-bench: 3 NodeHosts in one process, in-memory transport, %s store\n",
              o.store.c_str());
  std::printf(
      "setup:      %u partitions per node, payload %zu B, outstanding %zu, %s of %zu "
      "threads (%zu threads in all), %u cores, %s\n",
      o.partitions, o.payload, o.outstanding,
      o.per_node_pools ? "a pool per node and one for the network" : "one shared pool", o.threads,
      thread_count(o), std::thread::hardware_concurrency(),
      !o.sync               ? "sync OFF (writes are not made durable)"
      : o.store == "memory" ? "sync on (the default; the memory store has no sync cost)"
                            : "sync on (the default)");
  if (o.store != "memory") std::printf("data:       %s\n", o.dir.c_str());
  if (o.restart_entries > 0) {
    std::printf("mode:       restart after %llu entries\n",
                static_cast<unsigned long long>(o.restart_entries));
    return run_restart(o);
  }
  std::printf("mode:       %s, warmup %.1f s, duration %.1f s\n", o.idle ? "idle" : "load",
              o.warmup_s, o.duration_s);
  std::fflush(stdout);

  auto cluster = std::make_unique<Cluster>(o);
  const auto leaders = start_cluster(*cluster, "startup:");
  if (leaders.empty()) return 1;

  if (o.idle) {
    run_for(*cluster, seconds(o.warmup_s), false);
    const Window begin = sample(*cluster);
    run_for(*cluster, seconds(o.duration_s), false);
    const Window end = sample(*cluster);
    print_resources(begin, end);
    return 0;
  }

  Load load(*cluster, o, leaders);
  load.start();
  run_for(*cluster, seconds(o.warmup_s), true);
  const Window begin = sample(*cluster);
  load.set_measuring(true);
  run_for(*cluster, seconds(o.duration_s), true);
  load.set_measuring(false);
  const Window end = sample(*cluster);
  const bool drained = load.drain(std::chrono::seconds(30));
  cluster.reset();  // joins every thread while `load` still takes completions

  const double elapsed = to_seconds(end.at - begin.at);
  const auto us = [&](double q) { return static_cast<double>(load.latency().quantile(q)) / 1e3; };
  std::printf("throughput: %.0f commits/s (%llu in %.2f s)\n",
              static_cast<double>(load.committed()) / elapsed,
              static_cast<unsigned long long>(load.committed()), elapsed);
  std::printf("latency:    p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n", us(0.5),
              us(0.99), us(0.999), us(1.0));
  print_resources(begin, end);
  std::printf(
      "refused:    (while measuring) not leader %llu, no leader %llu, dropped %llu, timeout %llu, "
      "queue full %llu%s\n",
      static_cast<unsigned long long>(load.refused(Status::NotLeader)),
      static_cast<unsigned long long>(load.refused(Status::NoLeader)),
      static_cast<unsigned long long>(load.refused(Status::Dropped)),
      static_cast<unsigned long long>(load.refused(Status::Timeout)),
      static_cast<unsigned long long>(load.refused(Status::QueueFull)),
      drained ? "" : " (some proposals never completed)");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool help = false;
  if (!parse(argc, argv, options, help)) return 2;
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // The durable stores need a directory: a fresh temporary one unless --dir names one.
  std::string temporary;
  if (options.store != "memory" && options.dir.empty()) {
    temporary = (std::filesystem::temp_directory_path() / "synod-bench-XXXXXX").string();
    if (mkdtemp(temporary.data()) == nullptr) {
      std::perror("synod-bench: mkdtemp");
      return 1;
    }
    options.dir = temporary;
  }
  const int status = run(options);
  if (!temporary.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temporary, ec);
  }
  return status;
}
