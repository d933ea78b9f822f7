// synod-bench: the NodeHost runtime end to end. Three NodeHosts run in one process on real
// threads, connected by the in-memory transport and backed by memory, RocksDB or SQLite
// stores. A closed loop keeps a fixed number of proposals in flight at the partitions'
// leaders and measures commits per second, commit latency, batching, syncs and the
// process's CPU time and memory. With --idle it proposes nothing and measures what an
// idle cluster costs; with --restart N it commits N entries, stops every node and measures
// how long the restart from the data directories takes. The host is a small state machine
// (common/state_machine.h) that the engine snapshots by policy, compacting the logs behind;
// with --sample S it prints every S seconds what the logs and data directories hold.
//
//   build/bench/node/synod-bench --partitions 64 --payload 256 --outstanding 1024
//   build/bench/node/synod-bench --store rocksdb --partitions 1 --outstanding 1
//   build/bench/node/synod-bench --store rocksdb --partitions 64 --restart 1000000
//   build/bench/node/synod-bench --partitions 10000 --idle --pools per-node --warmup 10
//   build/bench/node/synod-bench --store rocksdb --partitions 8 --duration 600 --sample 10
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/closed_loop.h"
#include "common/counters.h"
#include "common/log_usage.h"
#include "common/options.h"
#include "common/process_usage.h"
#include "common/report.h"
#include "common/state_machine.h"
#include "synod/node/node_host.h"
#include "synod/node/node_runtime.h"
#include "synod/storage/open_log_store.h"

namespace {

using std::chrono::milliseconds;
using synod::bench::ClosedLoop;
using synod::bench::Counters;
using synod::bench::Parsed;
using synod::env::Duration;
using synod::env::TimePoint;
using synod::node::NodeHost;
using synod::node::NodeId;
using synod::node::PartitionId;

constexpr std::array<NodeId, 3> kNodes = {1, 2, 3};

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
  --report DIR     write the figures as DIR/report.json and plot them with gnuplot:
                   DIR/latency.svg (commit latency distribution) and DIR/throughput.svg
                   (commits per second over the measured window)
  --no-sync-thread sync on the worker that wrote (by default a durable store's node
                   syncs on a thread of its own: NodeHostConfig::sync_executor)
  --snapshot-every N  snapshot each partition every N entries applied; 0: never by
                   policy, the logs grow without bound (default 50000)
  --snapshot-keep N  entries kept behind a snapshot when a log is compacted, for
                   followers a little behind (default 1024)
  --sample S       every S seconds while measuring, print the entries the logs hold and
                   (durable stores) the bytes the data directories take
  --restart N      commit N entries, stop every node, then measure the restart: opening
                   each store (and its latest snapshot), creating each NodeHost,
                   electing leaders
  --pools KIND     "shared": one worker pool for every node and the network;
                   "per-node": a pool and a timer thread per node, and one more
                   for the network (default shared)
  --threads N      threads per worker pool (default: one per core)
  --idle           propose nothing: measure the CPU and memory of an idle cluster
  --no-metrics     do not record the engine's metrics on the hot path
                   (NodeHostConfig::metrics), to measure what they cost
  --help           this text
)";

struct Options : synod::bench::LoadOptions {
  Options() {
    partitions = 64;
    outstanding = 1024;
  }
  bool per_node_pools = false;
  bool idle = false;
  bool sync_thread = true;
  bool metrics = true;
  std::uint64_t restart_entries = 0;
  double sample_s = 0;
};

// Returns false (after printing why) for anything it does not understand.
bool parse(int argc, char** argv, Options& o, bool& help) {
  synod::bench::ExtraFlags extra;
  extra.on_switch = [&o](const std::string& flag) {
    if (flag == "--idle") {
      o.idle = true;
    } else if (flag == "--no-sync-thread") {
      o.sync_thread = false;
    } else if (flag == "--no-metrics") {
      o.metrics = false;
    } else {
      return Parsed::Unknown;
    }
    return Parsed::Ok;
  };
  extra.on_value = [&o](const std::string& flag, const synod::bench::FlagValue& v) {
    if (flag == "--restart") {
      o.restart_entries = static_cast<std::uint64_t>(v.number);
      return v.whole && v.number >= 1 ? Parsed::Ok : Parsed::Bad;
    }
    if (flag == "--sample") {
      o.sample_s = v.number;
      return v.numeric && v.number > 0 ? Parsed::Ok : Parsed::Bad;
    }
    if (flag == "--pools") {
      const std::string kind = v.text;
      o.per_node_pools = kind == "per-node";
      return kind == "shared" || kind == "per-node" ? Parsed::Ok : Parsed::Bad;
    }
    return Parsed::Unknown;
  };
  return synod::bench::parse_options("synod-bench", argc, argv, o, extra, help);
}

Duration seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Threads the cluster runs: each pool comes with its timer thread.
std::size_t thread_count(const Options& o) {
  const std::size_t pool = o.threads + 1;
  return o.per_node_pools ? pool * (1 + kNodes.size()) : pool;
}

class Cluster {
 public:
  explicit Cluster(const Options& options)
      : options_(options),
        threads_(std::make_shared<synod::node::RuntimeThreads>(options.threads)),
        network_(std::make_shared<synod::node::InProcessNetwork>(threads_)) {}

  ~Cluster() { stop(); }

  // Opens (or reopens) every node's store and creates its NodeHost, timing both.
  bool create(std::string& error) {
    for (NodeId id : kNodes) {
      auto& n = nodes_[id];
      n = std::make_unique<Node>(options_.partitions);
      // The store is opened here, not by the runtime, to time the opening on its own.
      const auto opening = std::chrono::steady_clock::now();
      std::unique_ptr<synod::storage::LogStore> store;
      synod::storage::DurableStoreOptions store_options;
      const std::string directory = options_.dir + "/node-" + std::to_string(id);
      if (auto st = synod::storage::open_log_store(options_.store, directory, store_options, store);
          !st.ok()) {
        error = "node " + std::to_string(id) + ": " + st.to_string();
        return false;
      }
      n->open_s = elapsed_since(opening);
      for (PartitionId p : store->partitions()) {
        auto view = store->open_partition(p);
        n->recovered_entries += view->last_index() + 1 - view->first_index();
      }
      synod::node::NodeRuntimeOptions c;
      c.host.node_id = id;
      c.host.initial_members = {kNodes.begin(), kNodes.end()};
      c.host.user_partitions = options_.partitions;
      c.host.seed = id;
      c.host.sync = options_.sync;
      c.host.metrics = options_.metrics;
      c.host.snapshots = synod::bench::snapshot_policy(options_);
      c.store.existing = std::move(store);
      // Not the log store's (given), but where the snapshot files go: beside it on disk.
      c.store.engine = options_.store;
      c.store.directory = directory;
      c.transport.network = network_;
      if (options_.per_node_pools) {
        c.worker_threads = options_.threads;
      } else {
        c.threads = threads_;
      }
      c.sync_thread = options_.store != "memory" && options_.sync_thread ? synod::node::SyncThread::On
                                                                          : synod::node::SyncThread::Off;
      const auto creating = std::chrono::steady_clock::now();
      synod::node::RuntimeError failure;
      n->runtime = synod::node::NodeRuntime::create(std::move(c), &failure);
      if (!n->runtime) {
        error = "node " + std::to_string(id) + ": " + failure.message;
        return false;
      }
      n->create_s = elapsed_since(creating);
      n->state.attach(n->runtime->host());
      n->runtime->host().set_leader_handler([this, id](const synod::node::LeaderChange& change) {
        if (change.leader == id) elections_.fetch_add(1, std::memory_order_relaxed);
      });
    }
    return true;
  }

  void start() {
    for (auto& [id, n] : nodes_) n->runtime->start();
  }

  // Every host completes its pending proposals (ShuttingDown) before any thread goes, and
  // every host's saves and installs end before its NodeHost stops.
  void stop() {
    for (auto& [id, n] : nodes_) {
      n->state.stop();
      if (n->runtime) n->runtime->stop();
    }
  }

  NodeHost& host(NodeId id) { return nodes_.at(id)->runtime->host(); }
  // Seconds node `id` took to open its store and to create its NodeHost, and the log
  // entries its store held when opened.
  double open_seconds(NodeId id) const { return nodes_.at(id)->open_s; }
  double create_seconds(NodeId id) const { return nodes_.at(id)->create_s; }
  std::uint64_t recovered_entries(NodeId id) const { return nodes_.at(id)->recovered_entries; }
  synod::env::Scheduler& timers() { return threads_->scheduler(); }
  const synod::env::Clock& clock() const { return threads_->clock(); }

  // The leader of each partition (indexed by partition id, system partition included) once
  // every partition has one; empty if that takes longer than `timeout`. Reports progress
  // every ten seconds, since a large cluster may take long.
  std::vector<NodeId> wait_for_leaders(Duration timeout) {
    std::vector<NodeId> leaders(options_.partitions + 1, synod::raft::kNoNode);
    const TimePoint start = clock().now();
    TimePoint next_report = start + std::chrono::seconds(10);
    std::size_t led = 0;
    while (led < leaders.size()) {
      const TimePoint now = clock().now();
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

  // Summed over the nodes.
  Counters counters() const {
    Counters c;
    for (const auto& [id, n] : nodes_) {
      c += synod::bench::counters_of(n->runtime->store(), n->runtime->transport().stats());
    }
    c.elections = elections_.load();
    return c;
  }

  const synod::bench::BenchStateMachine& state(NodeId id) const { return nodes_.at(id)->state; }
  synod::bench::LogExtent log_extent(NodeId id) const {
    return synod::bench::log_extent(nodes_.at(id)->runtime->host());
  }

 private:
  static double elapsed_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  struct Node {
    explicit Node(std::uint32_t partitions) : state(partitions) {}
    // Before the runtime, so that it goes after it: the runtime's tasks call into it.
    synod::bench::BenchStateMachine state;
    std::unique_ptr<synod::node::NodeRuntime> runtime;
    double open_s = 0;
    double create_s = 0;
    std::uint64_t recovered_entries = 0;
  };

  const Options& options_;
  // The network's threads, which are the nodes' too unless each has its own (per-node).
  std::shared_ptr<synod::node::RuntimeThreads> threads_;
  std::shared_ptr<synod::node::InProcessNetwork> network_;
  std::atomic<std::uint64_t> elections_{0};
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
};

// The closed loop at the partitions' leaders.
ClosedLoop make_load(Cluster& cluster, const Options& o, const std::vector<NodeId>& leaders) {
  return ClosedLoop(
      cluster.clock(), cluster.timers(), o,
      [&cluster](NodeId id) -> NodeHost& { return cluster.host(id); }, leaders, kNodes.size());
}

// Bytes the nodes' data directories take (0 with the memory store).
std::uint64_t data_bytes(const Options& o) {
  return o.store == "memory" ? 0 : synod::bench::directory_bytes(o.dir);
}

// Runs the measured window of `d`; with --sample, prints every so often what the logs hold,
// the data directories take and the snapshots taken so far.
void run_measured(Cluster& cluster, const Options& o, const ClosedLoop& load, Duration d) {
  const auto begin = std::chrono::steady_clock::now();
  const auto until = begin + d;
  if (o.sample_s <= 0) {
    std::this_thread::sleep_until(until);
    return;
  }
  std::printf("curve:      %8s %14s %12s %10s %12s\n", "time (s)", "data (bytes)", "log entries",
              "snapshots", "commits/s");
  const auto every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(o.sample_s));
  std::uint64_t committed = 0;
  for (auto next = begin + every; next <= until; next += every) {
    std::this_thread::sleep_until(next);
    std::uint64_t entries = 0;
    std::uint64_t snapshots = 0;
    for (NodeId id : kNodes) {
      entries += cluster.log_extent(id).entries;
      snapshots += cluster.state(id).saved();
    }
    const std::uint64_t now_committed = load.committed();
    std::printf("curve:      %8.0f %14llu %12llu %10llu %12.0f\n",
                std::chrono::duration<double>(next - begin).count(),
                static_cast<unsigned long long>(data_bytes(o)),
                static_cast<unsigned long long>(entries),
                static_cast<unsigned long long>(snapshots),
                static_cast<double>(now_committed - committed) / o.sample_s);
    std::fflush(stdout);
    committed = now_committed;
  }
  std::this_thread::sleep_until(until);
}

// Per node: the snapshots its host saved and installed, and what its log holds now.
void print_snapshots(const Cluster& cluster, const Options& o) {
  std::printf("snapshots:  %s; data directories %.1f MiB\n", synod::bench::snapshot_mode(o).c_str(),
              static_cast<double>(data_bytes(o)) / (1 << 20));
  for (NodeId id : kNodes) {
    const auto& state = cluster.state(id);
    const auto log = cluster.log_extent(id);
    std::printf(
        "            node %llu: %llu saved, %llu installed, %llu failed; the log holds %llu "
        "entries, first index %llu to %llu over the user partitions\n",
        static_cast<unsigned long long>(id), static_cast<unsigned long long>(state.saved()),
        static_cast<unsigned long long>(state.installed()),
        static_cast<unsigned long long>(state.failed()),
        static_cast<unsigned long long>(log.entries),
        static_cast<unsigned long long>(log.first_min),
        static_cast<unsigned long long>(log.first_max));
  }
}

struct Window {
  Counters counters;
  double cpu = 0;
  TimePoint at{};
};

Window sample(const Cluster& cluster) {
  return {cluster.counters(), synod::bench::process_usage().cpu_s, cluster.clock().now()};
}

// Prints the counters, CPU and memory of the window; returns its CPU seconds.
double print_resources(const Window& begin, const Window& end) {
  const Counters c = end.counters - begin.counters;
  const double elapsed = to_seconds(end.at - begin.at);
  const double cpu = end.cpu - begin.cpu;
  synod::bench::print_counters(c, elapsed, "");
  std::printf("elections:  %llu leaders elected while measuring\n",
              static_cast<unsigned long long>(c.elections));
  std::printf("cpu:        %.2f s in %.2f s = %.1f%% of one core\n", cpu, elapsed,
              100 * cpu / elapsed);
  const auto usage = synod::bench::process_usage();
  std::printf("memory:     peak RSS %.0f MiB, RSS now %.0f MiB\n", usage.peak_rss_mib,
              usage.rss_mib);
  return cpu;
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
    ClosedLoop load = make_load(cluster, o, leaders);
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
      thread_count(o), std::thread::hardware_concurrency(), synod::bench::sync_mode(o));
  std::printf("            %s; metrics %s\n", synod::bench::snapshot_mode(o).c_str(),
              o.metrics ? "recorded" : "not recorded (--no-metrics)");
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
    std::this_thread::sleep_for(seconds(o.warmup_s));
    const Window begin = sample(*cluster);
    std::this_thread::sleep_for(seconds(o.duration_s));
    const Window end = sample(*cluster);
    print_resources(begin, end);
    return 0;
  }

  ClosedLoop load = make_load(*cluster, o, leaders);
  load.start();
  std::this_thread::sleep_for(seconds(o.warmup_s));
  const Window begin = sample(*cluster);
  load.set_measuring(true);
  run_measured(*cluster, o, load, seconds(o.duration_s));
  load.set_measuring(false);
  const Window end = sample(*cluster);
  const bool drained = load.drain(std::chrono::seconds(30));

  const double elapsed = to_seconds(end.at - begin.at);
  synod::bench::print_throughput(load, elapsed);
  const double cpu = print_resources(begin, end);
  synod::bench::print_cpu_per_commit(load, cpu, "in the process");
  synod::bench::print_refused(load, drained);
  print_snapshots(*cluster, o);
  cluster.reset();  // joins every thread while `load` still takes completions
  if (!o.report_dir.empty() && !synod::bench::write_load_report("synod-bench", o, load, elapsed, cpu)) {
    return 1;
  }
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
  synod::bench::DataDirectory data;
  if (!data.prepare("synod-bench", options)) return 1;
  return run(options);
}
