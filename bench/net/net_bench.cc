// synod-net-bench: replication over a real network. Three processes on 127.0.0.1, one
// NodeHost each, talk over a network transport (gRPC or REST). The parent is node 1: it starts
// nodes 2 and 3 by running itself again as children, makes sure it leads every user
// partition, and runs the closed loop of synod-bench inside its own process through the
// public NodeHost API. The figures therefore measure replication between the processes,
// without a client hop. It prints commits per second, commit latency, and per process the
// CPU time, memory, storage batching and network batching.
//
//   build/bench/net/synod-net-bench --no-sync
//   build/bench/net/synod-net-bench --outstanding 1
//   build/bench/net/synod-net-bench --partitions 64 --outstanding 1024
//   build/bench/net/synod-net-bench --snapshot-transfer-bytes 1073741824
//
// The host is a small state machine (common/state_machine.h) that the engine snapshots by
// policy. --snapshot-transfer-bytes measures instead one snapshot of that many bytes sent
// to a follower that was kept away while the leader took it: the transfer's MB/s and the
// growth of the sender's and receiver's peak RSS.
//
// Control channel: each child reads text commands on its stdin and answers each with one
// line on its stdout. Unprompted, it first says "listening <address>" (its transport
// bound an ephemeral port) or "error <why>". Then:
//   peer <id> <address>         -> ok               (where another node listens)
//   start                       -> ok | error <why> (create and start the NodeHost)
//   transfer <partition> <node> -> ok | refused <status>
//   stats                       -> stats <counters> (see kCounterFields)
//   log                         -> log <snapshots and log> (see LogReport)
//   wait-install <seconds>      -> installed <...> (see install_line) | timeout
//   stop                        -> stopped, then the child exits
// A child also exits on EOF on its stdin, and the kernel kills it when the parent dies
// (PR_SET_PDEATHSIG), so no child outlives a parent that crashed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/closed_loop.h"
#include "common/counters.h"
#include "common/log_usage.h"
#include "common/options.h"
#include "common/process_usage.h"
#include "common/state_machine.h"
#include "synod/node/node_host.h"
#include "synod/node/node_runtime.h"

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using synod::bench::Counters;
using synod::bench::Parsed;
using synod::bench::ProcessUsage;
using synod::node::NodeHost;
using synod::node::NodeId;
using synod::node::PartitionId;
using Steady = std::chrono::steady_clock;

constexpr const char* kProgram = "synod-net-bench";
constexpr NodeId kParent = 1;
constexpr std::array<NodeId, 2> kChildren = {2, 3};
constexpr std::size_t kNodes = 1 + kChildren.size();
constexpr synod::transport::ClusterId kCluster = 1;
constexpr const char* kHost = "127.0.0.1";
// Election timeouts in ticks of 10 ms: the parent's expire first, so it wins the first
// elections of (nearly) every partition.
constexpr int kParentElectionTicks = 10;
constexpr int kChildElectionTicks = 50;
// Bounds on the children's answers, generous for a loaded machine: opening a store or
// creating a NodeHost with many partitions takes a while.
constexpr auto kStartupTimeout = seconds(120);
constexpr auto kRequestTimeout = seconds(10);
constexpr auto kExitTimeout = seconds(10);

const char* const kUsage = R"(usage: synod-net-bench [options]

Three processes on 127.0.0.1, one NodeHost each, over a network transport. The parent
(node 1) starts the other two, leads every partition and generates the load in its own
process through the NodeHost API: the figures measure replication, without a client hop.

  --partitions N   user partitions per node (default 1)
  --payload BYTES  payload of each proposal (default 256)
  --outstanding N  proposals in flight across all partitions, kept full by a closed loop
                   that proposes again on each completion (default 128)
  --duration S     seconds measured (default 10)
  --warmup S       seconds run before measuring (default 2)
  --store KIND     log store: memory, rocksdb or sqlite (default rocksdb)
  --dir PATH       where the durable stores keep each node's directory (default: a new
                   temporary directory, removed at exit)
  --no-sync        do not sync storage writes (durable stores only; unsafe, for comparison)
  --threads N      worker threads per process (default: one per core)
  --transport KIND how the nodes talk: grpc or rest (HTTP/1.1) (default grpc)
  --snapshot-every N  snapshot each partition every N entries applied; 0: never by
                   policy, the logs grow without bound (default 50000)
  --snapshot-keep N  entries kept behind a snapshot when a log is compacted, for
                   followers a little behind (default 1024)
  --snapshot-transfer-bytes N
                   instead of the load: node 3 stays away while node 1 writes a few
                   entries and takes a snapshot of N bytes of host data (a pseudo-random
                   stream, never whole in memory); then node 3 starts and installs it,
                   checking every byte. Prints the transfer's MB/s and how much the
                   sender's and receiver's peak RSS grew
  --help           this text

Internal: --child --id N runs node N as a child of the parent, on a control channel on
its stdin and stdout.
)";

struct Options : synod::bench::LoadOptions {
  Options() { store = "rocksdb"; }
  std::string transport = "grpc";
  std::uint64_t transfer_bytes = 0;
  bool child = false;
  NodeId id = kParent;
};

bool parse(int argc, char** argv, Options& o, bool& help) {
  synod::bench::ExtraFlags extra;
  extra.on_switch = [&o](const std::string& flag) {
    if (flag != "--child") return Parsed::Unknown;
    o.child = true;
    return Parsed::Ok;
  };
  extra.on_value = [&o](const std::string& flag, const synod::bench::FlagValue& v) {
    if (flag == "--transport") {
      o.transport = v.text;
      return o.transport == "grpc" || o.transport == "rest" ? Parsed::Ok : Parsed::Bad;
    }
    if (flag == "--snapshot-transfer-bytes") {
      o.transfer_bytes = static_cast<std::uint64_t>(v.number);
      return v.whole && v.number >= 1 ? Parsed::Ok : Parsed::Bad;
    }
    if (flag == "--id") {
      o.id = static_cast<NodeId>(v.number);
      const bool child_id = std::find(kChildren.begin(), kChildren.end(), o.id) != kChildren.end();
      return v.whole && child_id ? Parsed::Ok : Parsed::Bad;
    }
    return Parsed::Unknown;
  };
  return synod::bench::parse_options(kProgram, argc, argv, o, extra, help);
}

double to_seconds(synod::env::Duration d) { return std::chrono::duration<double>(d).count(); }

// ---------------------------------------------------------------------------------------
// One node: what every process runs

class Node {
 public:
  Node(const Options& options, NodeId id) : options_(options), id_(id) {}
  // Stops the host before any member goes: its leader handler counts into elections_.
  ~Node() { stop(); }

  // Opens the store, makes the transport, listening on an ephemeral port, and creates the
  // NodeHost; start() starts it, once the peers are known.
  bool open(std::string& error) {
    synod::node::NodeRuntimeOptions c;
    c.host.node_id = id_;
    c.host.cluster_id = kCluster;
    c.host.initial_members = {kParent};
    c.host.initial_members.insert(c.host.initial_members.end(), kChildren.begin(), kChildren.end());
    c.host.user_partitions = options_.partitions;
    c.host.election_ticks = id_ == kParent ? kParentElectionTicks : kChildElectionTicks;
    // The same on every node. By default each node quiesces an idle partition after ten of
    // its own election timeouts: the parent would stop its heartbeats while the children
    // still expect them, and they would elect another leader.
    c.host.quiesce_after_ticks = 10 * kChildElectionTicks;
    c.host.seed = id_;
    c.host.sync = options_.sync;
    c.host.snapshots = synod::bench::snapshot_policy(options_);
    c.store.engine = options_.store;
    c.store.directory = options_.dir + "/node-" + std::to_string(id_);
    c.transport.kind = options_.transport;
    c.transport.listen_address = std::string(kHost) + ":0";
    c.worker_threads = options_.threads;
    // Durable stores sync on a thread of their own (one is enough: concurrent syncs of one
    // store are shared anyway).
    c.sync_thread = options_.store != "memory" ? synod::node::SyncThread::On
                                               : synod::node::SyncThread::Off;
    synod::node::RuntimeError failure;
    runtime_ = synod::node::NodeRuntime::create(std::move(c), &failure);
    if (!runtime_) {
      error = failure.message;
      return false;
    }
    address_ = std::string(kHost) + ":" + std::to_string(runtime_->network_transport()->listen_port());
    state_.attach(runtime_->host());
    return true;
  }

  // Where this node listens, with the port it bound.
  const std::string& address() const { return address_; }
  void set_peer(NodeId peer, const std::string& address) {
    runtime_->network_transport()->set_peer(peer, address);
  }

  void start() {
    runtime_->host().set_leader_handler([this](const synod::node::LeaderChange& change) {
      if (change.leader == id_) elections_.fetch_add(1, std::memory_order_relaxed);
    });
    runtime_->start();
  }

  // Ends the host's saves and installs, then completes every pending proposal
  // (ShuttingDown) before any thread goes.
  void stop() {
    state_.stop();
    if (runtime_) runtime_->stop();
  }

  Counters counters() const {
    Counters c = synod::bench::counters_of(runtime_->store(), runtime_->transport().stats());
    c.elections = elections_.load();
    return c;
  }

  NodeHost& host() { return runtime_->host(); }
  synod::bench::BenchStateMachine& state() { return state_; }
  std::string directory() const { return options_.dir + "/node-" + std::to_string(id_); }
  const synod::env::Clock& clock() const { return runtime_->clock(); }
  synod::env::Scheduler& timers() { return runtime_->scheduler(); }

 private:
  const Options& options_;
  const NodeId id_;
  std::atomic<std::uint64_t> elections_{0};
  // Before the runtime, so that it goes after it: the runtime's tasks call into it.
  synod::bench::BenchStateMachine state_{options_.partitions};
  std::unique_ptr<synod::node::NodeRuntime> runtime_;
  std::string address_;
};

// ---------------------------------------------------------------------------------------
// The control channel

// The counters in the order a "stats" line carries them.
constexpr std::array<std::uint64_t Counters::*, 8> kCounterFields = {
    &Counters::store_batches,  &Counters::entries,  &Counters::syncs,
    &Counters::net_batches,    &Counters::messages, &Counters::net_dropped,
    &Counters::net_queue_full, &Counters::elections};

std::string stats_line(const Counters& c) {
  std::string line = "stats";
  for (auto field : kCounterFields) line += " " + std::to_string(c.*field);
  return line;
}

bool parse_stats(const std::string& line, Counters& c) {
  std::istringstream in(line);
  std::string word;
  if (!(in >> word) || word != "stats") return false;
  for (auto field : kCounterFields) {
    if (!(in >> c.*field)) return false;
  }
  return true;
}

// What a node's host saved and installed, and what its log and data directory hold, as a
// "log" line carries it.
struct LogReport {
  std::uint64_t saved = 0;
  std::uint64_t installed = 0;
  std::uint64_t failed = 0;
  synod::bench::LogExtent log;
  std::uint64_t disk_bytes = 0;
};

LogReport log_report(Node& node, const Options& o) {
  LogReport r;
  r.saved = node.state().saved();
  r.installed = node.state().installed();
  r.failed = node.state().failed();
  r.log = synod::bench::log_extent(node.host());
  if (o.store != "memory") r.disk_bytes = synod::bench::directory_bytes(node.directory());
  return r;
}

std::string log_line(const LogReport& r) {
  std::ostringstream out;
  out << "log " << r.saved << ' ' << r.installed << ' ' << r.failed << ' ' << r.log.entries << ' '
      << r.log.first_min << ' ' << r.log.first_max << ' ' << r.disk_bytes;
  return out.str();
}

bool parse_log(const std::string& line, LogReport& r) {
  std::istringstream in(line);
  std::string word;
  return in >> word && word == "log" &&
         in >> r.saved >> r.installed >> r.failed >> r.log.entries >> r.log.first_min >>
             r.log.first_max >> r.disk_bytes;
}

// The first install of a snapshot with filler (the transfer benchmark's), as an
// "installed" line carries it: ok, filler bytes, the handler's call and done() as
// CLOCK_MONOTONIC nanoseconds, and why it failed.
std::string install_line(const synod::bench::InstallRecord& r) {
  const auto ns = [](Steady::time_point t) {
    return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  return "installed " + std::string(r.ok ? "1 " : "0 ") + std::to_string(r.filler_bytes) + " " +
         ns(r.began) + " " + ns(r.ended) + " " + r.why;
}

bool parse_install(const std::string& line, synod::bench::InstallRecord& r) {
  std::istringstream in(line);
  std::string word;
  int ok = 0;
  std::int64_t began = 0;
  std::int64_t ended = 0;
  if (!(in >> word) || word != "installed" || !(in >> ok >> r.filler_bytes >> began >> ended)) {
    return false;
  }
  r.ok = ok == 1;
  r.began = Steady::time_point(std::chrono::nanoseconds(began));
  r.ended = Steady::time_point(std::chrono::nanoseconds(ended));
  std::getline(in >> std::ws, r.why);
  return true;
}

bool write_line(int fd, std::string line) {
  line += '\n';
  for (std::size_t done = 0; done < line.size();) {
    const ssize_t n = write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Lines read from a pipe with a deadline, so that a peer process that hangs cannot hang
// this one.
class LineReader {
 public:
  enum class Result { Line, Timeout, Closed };

  explicit LineReader(int fd) : fd_(fd) {}

  Result next(std::string& line, Steady::time_point deadline) {
    for (;;) {
      if (const auto end = buffer_.find('\n'); end != std::string::npos) {
        line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return Result::Line;
      }
      const auto left = std::chrono::ceil<milliseconds>(deadline - Steady::now()).count();
      if (left <= 0) return Result::Timeout;
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno != EINTR) return Result::Closed;
      if (ready <= 0) continue;
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Result::Closed;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  const int fd_;
  std::string buffer_;
};

// ---------------------------------------------------------------------------------------
// A child's side

std::string handle(Node& node, const Options& o, bool& started, const std::string& line) {
  std::istringstream in(line);
  std::string command;
  in >> command;
  if (command == "peer") {
    NodeId peer = 0;
    std::string address;
    if (!(in >> peer >> address)) return "error bad peer command";
    node.set_peer(peer, address);
    return "ok";
  }
  if (command == "start") {
    if (started) return "error started already";
    node.start();
    started = true;
    return "ok";
  }
  if (!started) return "error not started";
  if (command == "transfer") {
    PartitionId partition = 0;
    NodeId target = 0;
    if (!(in >> partition >> target)) return "error bad transfer command";
    const auto status = node.host().transfer_leadership(partition, target);
    return status == synod::node::Status::Ok
               ? "ok"
               : std::string("refused ") + synod::node::to_string(status);
  }
  if (command == "stats") return stats_line(node.counters());
  if (command == "log") return log_line(log_report(node, o));
  if (command == "wait-install") {
    int seconds_left = 0;
    if (!(in >> seconds_left)) return "error bad wait-install command";
    const auto deadline = Steady::now() + seconds(seconds_left);
    while (Steady::now() < deadline) {
      for (const auto& record : node.state().installs()) {
        if (record.filler_bytes > 0) return install_line(record);
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return "timeout";
  }
  return "error unknown command " + command;
}

int run_child(const Options& o) {
  Node node(o, o.id);
  std::string error;
  if (!node.open(error)) {
    write_line(STDOUT_FILENO, "error " + error);
    return 1;
  }
  if (!write_line(STDOUT_FILENO, "listening " + node.address())) return 1;
  LineReader in(STDIN_FILENO);
  bool started = false;
  for (;;) {
    std::string line;
    const auto got = in.next(line, Steady::now() + std::chrono::hours(1));
    // EOF: the parent is gone, or gave up on this child.
    if (got == LineReader::Result::Closed) return 0;
    if (got != LineReader::Result::Line) continue;
    if (line == "stop") {
      node.stop();
      write_line(STDOUT_FILENO, "stopped");
      return 0;
    }
    if (!write_line(STDOUT_FILENO, handle(node, o, started, line))) return 0;
  }
}

// ---------------------------------------------------------------------------------------
// The parent's side

// A child process running node `id`, and its control channel.
class Child {
 public:
  explicit Child(NodeId id) : id_(id) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // Closing its stdin tells the child to go; one that does not go in time is killed.
  ~Child() {
    if (to_child_ >= 0) close(to_child_);
    if (from_child_ >= 0) close(from_child_);
    if (running_) reap(kExitTimeout);
  }

  // Runs this program again as node `id_` with `args`. Call it before this process starts
  // any thread: between fork and exec the child may only make async-signal-safe calls.
  bool spawn(const std::vector<std::string>& args, std::string& error) {
    std::vector<std::string> owned = {"/proc/self/exe", "--child", "--id", std::to_string(id_)};
    owned.insert(owned.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : owned) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Close-on-exec, so that no child holds the other child's pipes open: a child must see
    // EOF once the parent is gone.
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return fail("pipe", error);
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      return fail("pipe", error);
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      // Dies with the parent, even one killed by SIGKILL; and if the parent died already,
      // before this took effect, goes at once.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
      if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
    if (pid_ < 0) return fail("fork", error);
    running_ = true;
    reader_ = std::make_unique<LineReader>(from_child_);
    return true;
  }

  NodeId id() const { return id_; }
  pid_t pid() const { return pid_; }

  // The next line from the child; nothing if it closed its end or said nothing in time.
  // A child that failed to answer once is not waited for again.
  std::optional<std::string> next_line(std::chrono::seconds timeout) {
    std::string line;
    if (!answering_) return {};
    if (reader_->next(line, Steady::now() + timeout) != LineReader::Result::Line) {
      answering_ = false;
      return {};
    }
    return line;
  }

  // Sends one command and returns the child's answer.
  std::optional<std::string> request(const std::string& command,
                                     std::chrono::seconds timeout = kRequestTimeout) {
    if (!answering_ || !write_line(to_child_, command)) return {};
    return next_line(timeout);
  }

  // Asks the child to stop and waits for it (one that does not answer is killed at once);
  // false unless it stopped and exited cleanly.
  bool stop() {
    const bool stopped = request("stop", kExitTimeout) == "stopped";
    return reap(stopped ? kExitTimeout : seconds(0)) && stopped;
  }

 private:
  static bool fail(const char* what, std::string& error) {
    error = std::string(what) + ": " + std::strerror(errno);
    return false;
  }

  // Waits up to `patience` for the child to exit, then kills it. True for a clean exit.
  bool reap(std::chrono::seconds patience) {
    const auto deadline = Steady::now() + patience;
    int status = 0;
    pid_t done = 0;
    while ((done = waitpid(pid_, &status, WNOHANG)) == 0 && Steady::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    const bool clean = done == pid_ && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (done == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    running_ = false;
    return clean;
  }

  const NodeId id_;
  pid_t pid_ = -1;
  bool running_ = false;  // spawned and not reaped yet
  bool answering_ = true;
  int to_child_ = -1;
  int from_child_ = -1;
  std::unique_ptr<LineReader> reader_;
};

using Children = std::vector<std::unique_ptr<Child>>;

// What the children need of the command line.
std::vector<std::string> child_args(const Options& o) {
  std::vector<std::string> args = {
      "--partitions",     std::to_string(o.partitions),     "--store",         o.store,
      "--threads",        std::to_string(o.threads),        "--transport",     o.transport,
      "--snapshot-every", std::to_string(o.snapshot_every), "--snapshot-keep", std::to_string(o.snapshot_keep)};
  if (!o.dir.empty()) args.insert(args.end(), {"--dir", o.dir});
  if (!o.sync) args.emplace_back("--no-sync");
  return args;
}

// Starts child's NodeHost; false after printing why.
bool start_child(Child& child) {
  const auto answer = child.request("start", kStartupTimeout);
  if (answer == "ok") return true;
  std::fprintf(stderr, "%s: node %llu: %s\n", kProgram, static_cast<unsigned long long>(child.id()),
               answer ? answer->c_str() : "no answer");
  return false;
}

// Starts the children and the parent's node, each knowing where the others listen, and
// starts every NodeHost but `held_back`'s (kNoNode: none). False after printing why.
bool start_nodes(Children& children, Node& node, NodeId held_back = synod::raft::kNoNode) {
  std::string error;
  std::map<NodeId, std::string> addresses;
  for (auto& child : children) {
    const auto line = child->next_line(kStartupTimeout);
    if (!line || line->rfind("listening ", 0) != 0) {
      std::fprintf(stderr, "%s: node %llu did not start: %s\n", kProgram,
                   static_cast<unsigned long long>(child->id()),
                   line ? line->c_str() : "no answer");
      return false;
    }
    addresses[child->id()] = line->substr(std::strlen("listening "));
  }
  if (!node.open(error)) {
    std::fprintf(stderr, "%s: node 1: %s\n", kProgram, error.c_str());
    return false;
  }
  addresses[kParent] = node.address();
  for (const auto& [id, address] : addresses) {
    if (id != kParent) node.set_peer(id, address);
    for (auto& child : children) {
      if (child->id() != id &&
          child->request("peer " + std::to_string(id) + " " + address) != "ok") {
        std::fprintf(stderr, "%s: node %llu did not take its peers\n", kProgram,
                     static_cast<unsigned long long>(child->id()));
        return false;
      }
    }
  }
  for (auto& child : children) {
    if (child->id() != held_back && !start_child(*child)) return false;
  }
  node.start();
  std::printf("nodes:      1 at %s (pid %d)", addresses[kParent].c_str(),
              static_cast<int>(getpid()));
  for (auto& child : children) {
    std::printf(", %llu at %s (pid %d)", static_cast<unsigned long long>(child->id()),
                addresses[child->id()].c_str(), static_cast<int>(child->pid()));
  }
  std::printf("\n");
  return true;
}

// Waits until the parent leads every partition, the system partition too, so that the
// children only follow. The children's longer election timeout makes it win nearly every
// first election; a partition a child won anyway, the parent asks that child to hand over. Returns
// the transfers asked, or nothing after `timeout`.
std::optional<std::size_t> take_leadership(const Options& o, Children& children, Node& node,
                                           std::chrono::seconds timeout) {
  const auto deadline = Steady::now() + timeout;
  std::vector<Steady::time_point> asked(o.partitions + 1);
  std::size_t transfers = 0;
  for (;;) {
    std::size_t led = 0;
    const auto now = Steady::now();
    for (PartitionId p = synod::node::kSystemPartition; p <= o.partitions; ++p) {
      if (node.host().is_leader(p)) {
        ++led;
        continue;
      }
      const NodeId leader = node.host().leader_of(p);
      // Asked again after a while: a transfer may fail (the target was behind, say).
      if (leader == kParent || leader == synod::raft::kNoNode || now - asked[p] < seconds(1)) {
        continue;
      }
      for (auto& child : children) {
        if (child->id() != leader) continue;
        child->request("transfer " + std::to_string(p) + " " + std::to_string(kParent));
        asked[p] = now;
        ++transfers;
      }
    }
    if (led == asked.size()) return transfers;
    if (now > deadline) return {};
    std::this_thread::sleep_for(milliseconds(10));
  }
}

// One process at one moment.
struct ProcessSample {
  Counters counters;
  ProcessUsage usage;
};

struct Window {
  synod::env::TimePoint at{};
  std::array<ProcessSample, kNodes> nodes;  // the parent first, then the children
};

// False if a child did not answer.
bool sample(Node& node, Children& children, Window& w) {
  w.at = node.clock().now();
  w.nodes[0] = {node.counters(), synod::bench::process_usage()};
  for (std::size_t i = 0; i < children.size(); ++i) {
    const auto line = children[i]->request("stats");
    if (!line || !parse_stats(*line, w.nodes[i + 1].counters)) return false;
    w.nodes[i + 1].usage = synod::bench::process_usage(children[i]->pid());
  }
  return true;
}

void print_processes(const Children& children, const Window& begin, const Window& end) {
  const double elapsed = to_seconds(end.at - begin.at);
  double cpu_all = 0;
  for (std::size_t i = 0; i < kNodes; ++i) {
    const ProcessSample& b = begin.nodes[i];
    const ProcessSample& e = end.nodes[i];
    const Counters c = e.counters - b.counters;
    const double cpu = e.usage.cpu_s - b.usage.cpu_s;
    cpu_all += cpu;
    const bool parent = i == 0;
    std::printf("node %zu:     %s (pid %d), %llu leaders elected while measuring\n", i + 1,
                parent ? "parent: leads every partition, runs the load" : "child: follower",
                static_cast<int>(parent ? getpid() : children[i - 1]->pid()),
                static_cast<unsigned long long>(c.elections));
    std::printf("            cpu:        %.2f s in %.2f s = %.1f%% of one core\n", cpu, elapsed,
                100 * cpu / elapsed);
    std::printf("            memory:     peak RSS %.0f MiB, RSS now %.0f MiB\n",
                e.usage.peak_rss_mib, e.usage.rss_mib);
    synod::bench::print_counters(c, elapsed, "            ");
  }
  std::printf("cpu:        %.1f%% of one core in all %zu processes\n", 100 * cpu_all / elapsed,
              kNodes);
}

// Stops the children (waiting for each) and then the parent's node.
void stop_nodes(Children& children, Node& node) {
  for (auto& child : children) {
    if (!child->stop()) {
      std::fprintf(stderr, "%s: node %llu did not stop cleanly\n", kProgram,
                   static_cast<unsigned long long>(child->id()));
    }
  }
  node.stop();
}

// Per process: the snapshots its host saved and installed, and what its log holds.
void print_logs(const Options& o, const std::array<LogReport, kNodes>& reports) {
  std::printf("snapshots:  %s\n", synod::bench::snapshot_mode(o).c_str());
  for (std::size_t i = 0; i < kNodes; ++i) {
    const LogReport& r = reports[i];
    std::printf(
        "node %zu:     %llu saved, %llu installed, %llu failed; the log holds %llu entries, first "
        "index %llu to %llu over the user partitions; data directory %.1f MiB\n",
        i + 1, static_cast<unsigned long long>(r.saved),
        static_cast<unsigned long long>(r.installed), static_cast<unsigned long long>(r.failed),
        static_cast<unsigned long long>(r.log.entries),
        static_cast<unsigned long long>(r.log.first_min),
        static_cast<unsigned long long>(r.log.first_max),
        static_cast<double>(r.disk_bytes) / (1 << 20));
  }
}

// The load: the closed loop at node 1 for the warmup and the measured window.
int run_load(const Options& o, Children& children, std::unique_ptr<Node>& owned_node) {
  Node& node = *owned_node;
  // Every proposal is made here. Should a child take a partition over, its proposals are
  // refused (NotLeader, counted) and retried until node 1 leads it again.
  const std::vector<NodeId> leaders(o.partitions + 1, kParent);
  synod::bench::ClosedLoop load(
      node.clock(), node.timers(), o, [&node](NodeId) -> NodeHost& { return node.host(); }, leaders,
      kNodes);
  load.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup_s));
  Window begin;
  const bool began = sample(node, children, begin);
  load.set_measuring(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
  load.set_measuring(false);
  Window end;
  const bool ended = sample(node, children, end);
  const bool drained = load.drain(seconds(30));
  std::array<LogReport, kNodes> logs;
  logs[0] = log_report(node, o);
  bool logged = true;
  for (std::size_t i = 0; i < children.size(); ++i) {
    const auto line = children[i]->request("log");
    logged = logged && line && parse_log(*line, logs[i + 1]);
  }
  stop_nodes(children, node);
  owned_node.reset();  // joins every thread while `load` still takes completions
  if (!began || !ended || !logged) {
    std::fprintf(stderr, "%s: a child did not report its counters\n", kProgram);
    return 1;
  }

  synod::bench::print_throughput(load, to_seconds(end.at - begin.at));
  print_processes(children, begin, end);
  synod::bench::print_refused(load, drained);
  print_logs(o, logs);
  return 0;
}

// A process's peak RSS over a stretch: reset at its beginning, read at its end.
class PeakRss {
 public:
  explicit PeakRss(pid_t pid) : pid_(pid) {
    reset_ = synod::bench::reset_peak_rss(pid_);
    baseline_ = synod::bench::process_usage(pid_).rss_mib;
  }
  // "+N MiB (RSS X MiB before, peak Y MiB)".
  std::string growth() const {
    const double peak = synod::bench::process_usage(pid_).peak_rss_mib;
    char text[160];
    std::snprintf(text, sizeof text, "+%.1f MiB (RSS %.1f MiB before, peak %.1f MiB%s)",
                  peak - baseline_, baseline_, peak,
                  reset_ ? "" : "; the peak could not be reset: it may predate the stretch");
    return text;
  }

 private:
  const pid_t pid_;
  bool reset_ = false;
  double baseline_ = 0;
};

double megabytes_per_second(std::uint64_t bytes, double seconds) {
  return static_cast<double>(bytes) / 1e6 / seconds;
}

// --snapshot-transfer-bytes: node 1 writes a few entries to partition 1 and takes a
// snapshot of it of that many bytes (keeping no entries behind it), while node 3 is not
// running; then node 3 starts, is behind the compacted log and must install the snapshot.
int run_transfer(const Options& o, Children& children, Node& node) {
  constexpr PartitionId kPartition = 1;
  constexpr int kEntries = 100;
  constexpr auto kPatience = seconds(600);
  Child& late = *children.back();
  std::vector<std::future<synod::node::ReplicationResult>> writes;
  for (int i = 0; i < kEntries; ++i) {
    writes.push_back(node.host().replicate(kPartition, 1, synod::raft::Bytes(std::string(o.payload, 'x'))));
  }
  for (auto& w : writes) {
    if (const auto r = w.get(); r.status != synod::node::Status::Ok) {
      std::fprintf(stderr, "%s: a write failed: %s\n", kProgram, synod::node::to_string(r.status));
      return 1;
    }
  }

  node.state().set_requested_size(o.transfer_bytes);
  std::promise<std::pair<synod::node::Status, synod::node::Index>> saved;
  const PeakRss saving(0);
  const auto save_began = Steady::now();
  node.host().request_snapshot(kPartition, [&saved](synod::node::Status s, synod::node::Index i) {
    saved.set_value({s, i});
  });
  auto saved_future = saved.get_future();
  if (saved_future.wait_for(kPatience) != std::future_status::ready) {
    std::fprintf(stderr, "%s: the snapshot was not saved within %lld s\n", kProgram,
                 static_cast<long long>(kPatience.count()));
    return 1;
  }
  const auto [save_status, index] = saved_future.get();
  const double save_s = std::chrono::duration<double>(Steady::now() - save_began).count();
  if (save_status != synod::node::Status::Ok) {
    std::fprintf(stderr, "%s: the snapshot failed: %s\n", kProgram, synod::node::to_string(save_status));
    return 1;
  }
  std::printf("save:       %llu bytes of partition %llu at index %llu in %.2f s (%.0f MB/s); node 1 "
              "peak RSS %s\n",
              static_cast<unsigned long long>(o.transfer_bytes),
              static_cast<unsigned long long>(kPartition), static_cast<unsigned long long>(index),
              save_s, megabytes_per_second(o.transfer_bytes, save_s), saving.growth().c_str());
  std::fflush(stdout);

  const PeakRss sender(0);
  const PeakRss receiver(late.pid());
  const auto started = Steady::now();
  if (!start_child(late)) return 1;
  const auto answer = late.request("wait-install " + std::to_string(kPatience.count()),
                                   kPatience + seconds(10));
  synod::bench::InstallRecord record;
  if (!answer || !parse_install(*answer, record)) {
    std::fprintf(stderr, "%s: node 3 did not install the snapshot: %s\n", kProgram,
                 answer ? answer->c_str() : "no answer");
    return 1;
  }
  const std::string sender_growth = sender.growth();
  const std::string receiver_growth = receiver.growth();
  const double total_s = std::chrono::duration<double>(record.ended - started).count();
  const double receive_s = std::chrono::duration<double>(record.began - started).count();
  const double install_s = std::chrono::duration<double>(record.ended - record.began).count();
  std::printf("transfer:   node 3 started and %s the snapshot (%llu bytes of filler%s%s) %.2f s later: "
              "%.0f MB/s\n",
              record.ok ? "installed" : "FAILED to install",
              static_cast<unsigned long long>(record.filler_bytes), record.ok ? "" : ": ",
              record.why.c_str(), total_s, megabytes_per_second(o.transfer_bytes, total_s));
  std::printf("            of which received into its snapshot file in %.2f s (%.0f MB/s), read "
              "and checked by its host in %.2f s (%.0f MB/s)\n",
              receive_s, megabytes_per_second(o.transfer_bytes, receive_s), install_s,
              megabytes_per_second(o.transfer_bytes, install_s));
  std::printf("memory:     sender (node 1) peak RSS %s\n", sender_growth.c_str());
  std::printf("            receiver (node 3) peak RSS %s\n", receiver_growth.c_str());
  stop_nodes(children, node);
  return record.ok ? 0 : 1;
}

int run_parent(const Options& o) {
  std::printf("%s: 3 processes on %s, %s transport, %s store\n", kProgram, kHost,
              o.transport.c_str(), o.store.c_str());
  if (o.transfer_bytes > 0) {
    std::printf("mode:       a snapshot of %llu bytes sent from node 1 to node 3, which starts "
                "after it is taken; %zu worker threads per process, %u cores, %s\n",
                static_cast<unsigned long long>(o.transfer_bytes), o.threads,
                std::thread::hardware_concurrency(), synod::bench::sync_mode(o));
  } else {
    std::printf(
        "load:       generated inside node 1's process through the NodeHost API (no client "
        "hop): the figures measure replication\n");
    std::printf(
        "setup:      %u partitions per node, payload %zu B, outstanding %zu, %zu worker threads "
        "per process, %u cores, %s; %s\n",
        o.partitions, o.payload, o.outstanding, o.threads, std::thread::hardware_concurrency(),
        synod::bench::sync_mode(o), synod::bench::snapshot_mode(o).c_str());
  }
  if (o.store != "memory") std::printf("data:       %s\n", o.dir.c_str());
  if (o.transfer_bytes == 0) {
    std::printf("mode:       warmup %.1f s, duration %.1f s\n", o.warmup_s, o.duration_s);
  }
  std::fflush(stdout);

  // The children first: this process has no thread yet (see Child::spawn).
  Children children;
  std::string error;
  for (NodeId id : kChildren) {
    children.push_back(std::make_unique<Child>(id));
    if (!children.back()->spawn(child_args(o), error)) {
      std::fprintf(stderr, "%s: starting node %llu: %s\n", kProgram,
                   static_cast<unsigned long long>(id), error.c_str());
      return 1;
    }
  }
  // Declared after the children, so it stops before they are told to go on an error.
  auto owned_node = std::make_unique<Node>(o, kParent);
  Node& node = *owned_node;
  const auto started = Steady::now();
  const NodeId held_back = o.transfer_bytes > 0 ? kChildren.back() : synod::raft::kNoNode;
  if (!start_nodes(children, node, held_back)) return 1;
  const auto transfers = take_leadership(o, children, node, kStartupTimeout);
  if (!transfers) {
    std::fprintf(stderr, "%s: node 1 did not lead every partition within %lld s\n", kProgram,
                 static_cast<long long>(kStartupTimeout.count()));
    return 1;
  }
  std::printf("startup:    node 1 leads every partition after %.2f s (%zu transfers asked)\n",
              std::chrono::duration<double>(Steady::now() - started).count(), *transfers);
  std::fflush(stdout);
  return o.transfer_bytes > 0 ? run_transfer(o, children, node) : run_load(o, children, owned_node);
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
  // A write to a process that is gone fails with EPIPE instead of killing this one.
  signal(SIGPIPE, SIG_IGN);
  if (options.transfer_bytes > 0) {
    // One snapshot, on request, with nothing kept behind it: node 3 must install it.
    options.snapshot_every = 0;
    options.snapshot_keep = 0;
  }
  if (options.child) return run_child(options);
  // The parent makes the temporary directory, and removes it once the children are gone.
  synod::bench::DataDirectory data;
  if (!data.prepare(kProgram, options)) return 1;
  return run_parent(options);
}
