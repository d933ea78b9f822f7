// Randomized safety test of the Raft core: 3 and 5 node clusters over a simulated network
// that drops, duplicates, reorders and delays messages and partitions nodes, with crashes,
// restarts, compaction, leadership transfers, ReadIndex and membership changes, all driven
// by one seeded generator. Every invariant of SafetyChecker is checked after every step;
// each seed ends with a liveness check on a healed network.
//
// Environment:
//   SYNOD_RAFT_SEEDS=<count>  seeds per cluster size (default 500)
//   SYNOD_RAFT_SEED=<n>       run only seed n (the replay line of a failure sets it)
//   SYNOD_RAFT_NODES=3|5      run only that cluster size
//   SYNOD_RAFT_STEPS=<count>  steps per seed (default kDefaultSteps)
//   SYNOD_RAFT_TRACE=1        print every step (with a single seed, to study a replay)
//   SYNOD_RAFT_KEEP_GOING=1   run every seed after a failure and list the failing ones

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "safety_checker.h"
#include "synod/raft/testing/cluster.h"

namespace synod::raft::testing {
namespace {

constexpr std::uint64_t kDefaultSeeds = 500;
constexpr std::uint64_t kDefaultSteps = 10000;
constexpr std::size_t kTraceLength = 30;
// Nodes that may join a cluster over one seed, beyond the founding members.
constexpr NodeId kMaxExtraNodes = 3;
constexpr int kSettleRounds = 400;

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
  if (ec) return "build/tests/raft/randomized/synod_raft_randomized_test";
  return path.string();
}

std::string describe(const Message& m) {
  char buf[160];
  std::snprintf(
      buf, sizeof buf, "%s %llu->%llu t%llu i%llu lt%llu c%llu%s n%zu%s%s", to_string(m.type),
      static_cast<unsigned long long>(m.from), static_cast<unsigned long long>(m.to),
      static_cast<unsigned long long>(m.term), static_cast<unsigned long long>(m.index),
      static_cast<unsigned long long>(m.log_term), static_cast<unsigned long long>(m.commit),
      m.reject ? " reject" : "", m.entries.size(), m.snapshot ? " snap" : "",
      m.context.empty() ? "" : (" ctx=" + m.context).c_str());
  return buf;
}

std::string describe(const ConfState& conf) {
  std::string out;
  auto add = [&out](const char* name, const std::vector<NodeId>& ids) {
    if (ids.empty()) return;
    out += std::string(" ") + name + "=";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      out += (i ? "," : "") + std::to_string(ids[i]);
    }
  };
  add("voters", conf.voters);
  add("outgoing", conf.voters_outgoing);
  add("learners", conf.learners);
  add("learners_next", conf.learners_next);
  if (conf.auto_leave) out += " auto_leave";
  return out;
}

struct SweepStats {
  std::uint64_t leaders = 0;
  std::uint64_t committed = 0;
  std::uint64_t reads = 0;
  std::uint64_t snapshots_sent = 0;
  std::uint64_t conf_changes = 0;
  std::uint64_t crashes = 0;
};

class Simulation {
 public:
  Simulation(int nodes, std::uint64_t seed, std::uint64_t steps)
      : seed_(seed), steps_(steps), rng_(seed * 1000 + static_cast<std::uint64_t>(nodes)) {
    for (int i = 1; i <= nodes; ++i) founders_.push_back(static_cast<NodeId>(i));
    ClusterOptions options;
    options.seed = seed;
    options.election_ticks = 5 + static_cast<int>(below(6));
    options.heartbeat_ticks = chance(20) ? 2 : 1;
    options.pre_vote = chance(75);
    options.check_quorum = chance(75);
    // Small limits split the log into many Appends and pace them; a byte limit of 1 (one
    // entry per Append) makes partially acknowledged logs most likely.
    if (chance(50)) options.max_append_bytes = chance(50) ? 1 : 48 + below(100);
    if (chance(30)) options.max_inflight_messages = 1 + below(4);
    options_ = options;
    cluster_ = std::make_unique<Cluster>(founders_, options);
    checker_ = std::make_unique<SafetyChecker>(*cluster_);
    ids_ = founders_;
    voters_ = founders_;
    next_id_ = static_cast<NodeId>(nodes) + 1;
    cluster_->on_send = [this](const Message& m) {
      if (m.type == MessageType::InstallSnapshot) ++stats_.snapshots_sent;
    };
  }

  // Returns an empty string when every check passed, otherwise what broke and the trace.
  std::string run() {
    for (step_ = 0; step_ < steps_; ++step_) {
      step();
      if (!checker_->check()) return report(checker_->violation());
    }
    std::string failure = settle();
    if (!failure.empty()) return report(failure);
    return {};
  }

  SweepStats stats() const {
    SweepStats s = stats_;
    s.leaders = checker_->leaders_seen();
    s.committed = checker_->max_commit_seen();
    s.reads = checker_->reads_answered();
    return s;
  }

 private:
  enum class Action {
    Deliver,
    ProcessReady,
    ProcessAll,
    Tick,
    TickAll,
    Campaign,
    Drop,
    Duplicate,
    Propose,
    Read,
    Compact,
    Transfer,
    ConfChange,
    Partition,
    Heal,
    Crash,
    Restart,
  };
  // Faults come in spells: calm stretches let the group elect and commit, lossy ones drop
  // and duplicate messages, chaotic ones also partition and crash nodes.
  enum Regime { kCalm, kLossy, kChaos, kRegimes };
  struct Weighted {
    Action action;
    std::array<int, kRegimes> weight;
  };
  static constexpr std::array<Weighted, 17> kActions{{
      {Action::Deliver, {330, 330, 330}},
      {Action::ProcessReady, {180, 180, 180}},
      {Action::ProcessAll, {15, 15, 15}},
      {Action::Tick, {170, 170, 170}},
      {Action::TickAll, {25, 25, 25}},
      {Action::Campaign, {1, 4, 8}},
      {Action::Drop, {0, 60, 30}},
      {Action::Duplicate, {3, 40, 20}},
      {Action::Propose, {60, 60, 60}},
      {Action::Read, {25, 25, 25}},
      {Action::Compact, {25, 25, 25}},
      {Action::Transfer, {2, 2, 2}},
      {Action::ConfChange, {15, 15, 15}},
      // Partitions outlast election timeouts, so that stale leaders meet new ones.
      {Action::Partition, {0, 4, 10}},
      {Action::Heal, {40, 3, 3}},
      {Action::Crash, {0, 2, 10}},
      {Action::Restart, {40, 15, 25}},
  }};

  // --- randomness: the seed's generator is the only source ---------------------------
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  template <typename T>
  const T& pick(const std::vector<T>& from) {
    return from[below(from.size())];
  }

  // --- trace --------------------------------------------------------------------------
  void note(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    char buf[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    char head[32];
    if (step_ < steps_) {
      std::snprintf(head, sizeof head, "%6llu ", static_cast<unsigned long long>(step_));
    } else {
      std::snprintf(head, sizeof head, "settle ");
    }
    trace_[trace_next_ % kTraceLength] = std::string(head) + buf;
    ++trace_next_;
    if (print_trace_) std::printf("%s%s\n", head, buf);
  }

  std::string report(const std::string& failure) const {
    const std::string when =
        step_ < steps_ ? "at step " + std::to_string(step_) : std::string("while settling");
    std::string out = when + ": " + failure + "\nreplay: SYNOD_RAFT_SEED=" + std::to_string(seed_) +
                      " SYNOD_RAFT_NODES=" + std::to_string(founders_.size());
    if (env_number("SYNOD_RAFT_STEPS")) out += " SYNOD_RAFT_STEPS=" + std::to_string(steps_);
    out += " " + self_path() + "\n";
    out += "options: election_ticks=" + std::to_string(options_.election_ticks) +
           " heartbeat_ticks=" + std::to_string(options_.heartbeat_ticks) +
           " pre_vote=" + std::to_string(options_.pre_vote) +
           " check_quorum=" + std::to_string(options_.check_quorum) +
           " max_append_bytes=" + std::to_string(options_.max_append_bytes) +
           " max_inflight=" + std::to_string(options_.max_inflight_messages) + "\n";
    out += "nodes:\n" + node_summary();
    out += "last steps (oldest first):\n";
    const std::size_t count = std::min<std::size_t>(trace_next_, kTraceLength);
    for (std::size_t i = trace_next_ - count; i < trace_next_; ++i) {
      out += "  " + trace_[i % kTraceLength] + "\n";
    }
    return out;
  }

  std::string node_summary() const {
    std::string out;
    for (NodeId id : ids_) {
      char buf[200];
      const MemoryLogStorage& st = cluster_->storage(id);
      const HardState hs = st.hard_state();
      if (!cluster_->is_up(id)) {
        std::snprintf(buf, sizeof buf, "  %llu down term %llu commit %llu log [%llu, %llu]\n",
                      static_cast<unsigned long long>(id), static_cast<unsigned long long>(hs.term),
                      static_cast<unsigned long long>(hs.commit),
                      static_cast<unsigned long long>(st.first_index()),
                      static_cast<unsigned long long>(st.last_index()));
        out += buf;
        continue;
      }
      RawNode& n = cluster_->node(id);
      std::snprintf(buf, sizeof buf,
                    "  %llu up %s term %llu leader %llu commit %llu applied %llu log "
                    "[%llu, %llu]\n",
                    static_cast<unsigned long long>(id), to_string(n.role()),
                    static_cast<unsigned long long>(n.term()),
                    static_cast<unsigned long long>(n.leader()),
                    static_cast<unsigned long long>(n.commit_index()),
                    static_cast<unsigned long long>(cluster_->applied_index(id)),
                    static_cast<unsigned long long>(st.first_index()),
                    static_cast<unsigned long long>(st.last_index()));
      out += buf;
      const RaftState state = n.state();
      out += "      conf" + describe(state.conf) + "\n";
      // A leader's view of replication explains most stalls.
      for (const PeerStatus& p : state.peers) {
        std::snprintf(buf, sizeof buf, "      peer %llu %s match %llu next %llu inflight %zu%s%s\n",
                      static_cast<unsigned long long>(p.id), to_string(p.state),
                      static_cast<unsigned long long>(p.match),
                      static_cast<unsigned long long>(p.next), p.inflight_messages,
                      p.learner ? " learner" : "", p.recently_active ? " active" : "");
        out += buf;
      }
    }
    return out;
  }

  // --- node sets ----------------------------------------------------------------------
  std::vector<NodeId> up_nodes() const {
    std::vector<NodeId> out;
    for (NodeId id : ids_) {
      if (cluster_->is_up(id)) out.push_back(id);
    }
    return out;
  }
  std::vector<NodeId> down_nodes() const {
    std::vector<NodeId> out;
    for (NodeId id : ids_) {
      if (!cluster_->is_up(id)) out.push_back(id);
    }
    return out;
  }
  std::vector<NodeId> leaders() const {
    std::vector<NodeId> out;
    for (NodeId id : ids_) {
      if (cluster_->is_up(id) && cluster_->node(id).role() == Role::Leader) out.push_back(id);
    }
    return out;
  }
  static bool contains(const std::vector<NodeId>& ids, NodeId id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
  static std::vector<NodeId> members(const ConfState& conf) {
    std::vector<NodeId> out = conf.voters;
    for (const auto* set : {&conf.voters_outgoing, &conf.learners, &conf.learners_next}) {
      for (NodeId id : *set) {
        if (!contains(out, id)) out.push_back(id);
      }
    }
    return out;
  }
  ConfState leader_conf(NodeId leader) {
    ConfState conf = cluster_->node(leader).state().conf;
    voters_ = conf.voters;
    for (NodeId id : conf.voters_outgoing) {
      if (!contains(voters_, id)) voters_.push_back(id);
    }
    return conf;
  }

  // --- one step -----------------------------------------------------------------------
  Action choose() {
    if (step_ >= regime_end_) {
      regime_ = static_cast<Regime>(below(kRegimes));
      regime_end_ = step_ + 100 + below(900);
      static constexpr std::array<const char*, kRegimes> kNames{"calm", "lossy", "chaos"};
      note("regime %s until step %llu", kNames[regime_],
           static_cast<unsigned long long>(regime_end_));
    }
    // Delivery speeds up with the backlog, so that messages keep a bounded typical delay
    // (in steps) however chatty the group is; timers then stay meaningful.
    const int backlog = static_cast<int>(std::min<std::size_t>(cluster_->in_flight().size(), 500));
    auto weight = [&](const Weighted& w) {
      return w.weight[regime_] + (w.action == Action::Deliver ? 20 * backlog : 0);
    };
    int total = 0;
    for (const auto& w : kActions) total += weight(w);
    int roll = static_cast<int>(below(static_cast<std::uint64_t>(total)));
    for (const auto& w : kActions) {
      if (roll < weight(w)) return w.action;
      roll -= weight(w);
    }
    return Action::Tick;
  }

  void step() {
    switch (choose()) {
      case Action::Deliver:
        return deliver();
      case Action::ProcessReady:
        return process_ready();
      case Action::ProcessAll:
        note("process all");
        cluster_->process_all();
        checker_->storage_changed_all();
        return;
      case Action::Tick:
        return tick();
      case Action::TickAll:
        note("tick all");
        cluster_->tick_all();
        return;
      case Action::Campaign:
        return campaign();
      case Action::Drop:
        return drop();
      case Action::Duplicate:
        return duplicate();
      case Action::Propose:
        return propose();
      case Action::Read:
        return read();
      case Action::Compact:
        return compact();
      case Action::Transfer:
        return transfer();
      case Action::ConfChange:
        return conf_change();
      case Action::Partition:
        return partition();
      case Action::Heal:
        note("heal");
        cluster_->heal();
        return;
      case Action::Crash:
        return crash();
      case Action::Restart:
        return restart();
    }
  }

  void deliver() {
    auto& flight = cluster_->in_flight();
    if (flight.empty()) return tick();
    // Mostly near the head of the queue (a slow but ordered network), often anywhere
    // (reordering and unbounded delay).
    const std::size_t i =
        chance(50) ? below(std::min<std::size_t>(flight.size(), 3)) : below(flight.size());
    const Message& m = flight[i].message;
    const bool lost = !cluster_->link_up(m.from, m.to) || !cluster_->is_up(m.to);
    note("deliver %zu/%zu %s%s", i, flight.size(), describe(m).c_str(),
         lost ? " (link down: lost)" : "");
    const Message sent = cluster_->deliver(i);
    if (lost) {
      transport_failed(sent);
    } else if (sent.type == MessageType::InstallSnapshot && cluster_->is_up(sent.from)) {
      cluster_->node(sent.from).report_snapshot(sent.to, true);
    }
  }

  // What a transport tells the sender when it could not deliver: a snapshot stream
  // failed (else the leader would wait for it forever), or the peer is unreachable.
  void transport_failed(const Message& m) {
    if (!cluster_->is_up(m.from)) return;
    if (m.type == MessageType::InstallSnapshot) {
      cluster_->node(m.from).report_snapshot(m.to, false);
    } else if (m.type == MessageType::Append && chance(50)) {
      cluster_->node(m.from).report_unreachable(m.to);
    }
  }

  void process_ready() {
    std::vector<NodeId> ready;
    for (NodeId id : ids_) {
      if (cluster_->is_up(id) && cluster_->node(id).has_ready()) ready.push_back(id);
    }
    if (ready.empty()) return tick();
    const NodeId id = pick(ready);
    note("ready %llu", static_cast<unsigned long long>(id));
    cluster_->process_ready(id);
    checker_->storage_changed(id);
  }

  void tick() {
    const auto up = up_nodes();
    if (up.empty()) return restart();
    const NodeId id = pick(up);
    note("tick %llu", static_cast<unsigned long long>(id));
    cluster_->tick(id);
  }

  // An election timer that fires early: more elections, in more awkward moments.
  void campaign() {
    const auto up = up_nodes();
    if (up.empty()) return restart();
    const NodeId id = pick(up);
    note("campaign %llu", static_cast<unsigned long long>(id));
    cluster_->node(id).campaign();
  }

  void drop() {
    auto& flight = cluster_->in_flight();
    if (flight.empty()) return tick();
    const std::size_t i = below(flight.size());
    const Message m = flight[i].message;
    note("drop %s", describe(m).c_str());
    cluster_->drop(i);
    if (m.type == MessageType::InstallSnapshot) transport_failed(m);
  }

  void duplicate() {
    auto& flight = cluster_->in_flight();
    if (flight.empty()) return tick();
    const std::size_t i = below(flight.size());
    note("duplicate %s", describe(flight[i].message).c_str());
    cluster_->duplicate(i);
  }

  std::string next_value() {
    // Payloads of varied size so that byte limits split batches differently.
    std::string v = "v" + std::to_string(next_value_++) + ".";
    v.append(below(40), 'x');
    return v;
  }

  void propose() {
    const auto up = up_nodes();
    if (up.empty()) return restart();
    const auto leading = leaders();
    // Mostly at a node that thinks it leads; sometimes anywhere, to be refused.
    const NodeId id = !leading.empty() && chance(90) ? pick(leading) : pick(up);
    ProposeResult r;
    std::size_t count = 1;
    if (chance(30)) {
      count = 2 + below(4);
      std::vector<std::string> batch;
      for (std::size_t i = 0; i < count; ++i) batch.push_back(next_value());
      r = cluster_->propose_batch(id, batch);
    } else {
      r = cluster_->propose(id, next_value());
    }
    note("propose %zu at %llu: %s [%llu, %llu] t%llu", count, static_cast<unsigned long long>(id),
         to_string(r.status), static_cast<unsigned long long>(r.first_index),
         static_cast<unsigned long long>(r.last_index), static_cast<unsigned long long>(r.term));
  }

  void read() {
    const auto up = up_nodes();
    if (up.empty()) return restart();
    const auto leading = leaders();
    const NodeId id = !leading.empty() && chance(50) ? pick(leading) : pick(up);
    const std::string context = "r" + std::to_string(next_read_++);
    const ProposeResult r = cluster_->node(id).read_index(context);
    note("read-index %s at %llu: %s (committed so far %llu)", context.c_str(),
         static_cast<unsigned long long>(id), to_string(r.status),
         static_cast<unsigned long long>(checker_->max_commit_seen()));
    if (r.status == RaftStatus::Ok) checker_->read_requested(id, context);
  }

  void compact() {
    const auto up = up_nodes();
    if (up.empty()) return restart();
    const NodeId id = pick(up);
    static constexpr std::array<Index, 5> kKeep{0, 0, 1, 4, 16};
    const Index keep = kKeep[below(kKeep.size())];
    note("compact %llu keep %llu (applied %llu)", static_cast<unsigned long long>(id),
         static_cast<unsigned long long>(keep),
         static_cast<unsigned long long>(cluster_->applied_index(id)));
    cluster_->compact(id, keep);
    checker_->storage_changed(id);
  }

  void transfer() {
    const auto leading = leaders();
    if (leading.empty()) return tick();
    const NodeId id = pick(leading);
    leader_conf(id);
    const NodeId target = pick(voters_);
    const ProposeResult r = cluster_->node(id).transfer_leadership(target);
    note("transfer %llu -> %llu: %s", static_cast<unsigned long long>(id),
         static_cast<unsigned long long>(target), to_string(r.status));
  }

  // A node id for a new learner: a node added earlier whose AddLearner was refused, or a
  // fresh empty node while the cluster may still grow.
  std::optional<NodeId> new_member() {
    if (spare_) return spare_;
    if (next_id_ > founders_.size() + kMaxExtraNodes) return std::nullopt;
    const NodeId id = next_id_++;
    cluster_->add_empty_node(id);
    checker_->node_added(id);
    ids_.push_back(id);
    spare_ = id;
    return id;
  }

  void conf_change() {
    const auto leading = leaders();
    if (leading.empty()) return tick();
    const NodeId leader = pick(leading);
    const ConfState conf = leader_conf(leader);
    const auto all = members(conf);
    ConfChange change;
    const char* kind = "";
    if (conf.is_joint()) {
      kind = "leave joint";
    } else {
      switch (below(5)) {
        case 0: {
          auto id = new_member();
          if (!id) return tick();
          kind = "add learner";
          change.changes.push_back({ConfChangeOp::AddLearner, *id});
          break;
        }
        case 1:
          if (conf.learners.empty()) return tick();
          kind = "promote";
          change.changes.push_back({ConfChangeOp::AddVoter, pick(conf.learners)});
          break;
        case 2:
          kind = "demote";
          change.changes.push_back({ConfChangeOp::AddLearner, pick(conf.voters)});
          break;
        case 3:
          kind = "remove";
          change.changes.push_back({ConfChangeOp::RemoveNode, pick(all)});
          break;
        default: {
          // Several singles at once: always through a joint configuration unless they
          // change at most one voter and the transition is Auto.
          kind = "joint";
          static constexpr std::array<ConfChangeTransition, 3> kTransitions{
              ConfChangeTransition::Auto, ConfChangeTransition::JointImplicit,
              ConfChangeTransition::JointExplicit};
          change.transition = kTransitions[below(kTransitions.size())];
          std::set<NodeId> named;
          const std::size_t count = 2 + below(2);
          for (std::size_t i = 0; i < count; ++i) {
            const NodeId id = pick(all);
            if (!named.insert(id).second) continue;
            const ConfChangeOp op = contains(conf.learners, id) ? ConfChangeOp::AddVoter
                                    : chance(50)                ? ConfChangeOp::AddLearner
                                                                : ConfChangeOp::RemoveNode;
            change.changes.push_back({op, id});
          }
          if (chance(50)) {
            if (auto id = new_member(); id && !named.count(*id)) {
              change.changes.push_back({ConfChangeOp::AddVoter, *id});
            }
          }
          break;
        }
      }
    }
    // Keep at least two voters on each side: a single voter elects itself without any
    // message, so the checker could not rely on a new leader's log being persisted.
    const ConfChangeResult result = apply_conf_change(conf, change);
    if (result.ok && result.conf.voters.size() < 2) return tick();
    const ProposeResult r = cluster_->propose_conf_change(leader, change);
    std::string what;
    for (const auto& single : change.changes) {
      static constexpr std::array<const char*, 3> kOps{"+voter", "+learner", "-"};
      what += std::string(" ") + kOps[static_cast<std::size_t>(single.op)] +
              std::to_string(single.node);
    }
    note("conf change at %llu (%s%s, transition %d): %s", static_cast<unsigned long long>(leader),
         kind, what.c_str(), static_cast<int>(change.transition), to_string(r.status));
    if (r.status == RaftStatus::Ok) {
      ++stats_.conf_changes;
      for (const auto& single : change.changes) {
        if (spare_ && single.node == *spare_) spare_.reset();
      }
    }
  }

  void partition() {
    // Cutting off a leader is the classic way to get a stale one next to a new one.
    if (const auto leading = leaders(); !leading.empty() && chance(30)) {
      const NodeId id = pick(leading);
      note("isolate leader %llu", static_cast<unsigned long long>(id));
      cluster_->isolate(id);
      return;
    }
    const std::vector<NodeId>& ids = ids_;
    switch (below(3)) {
      case 0: {
        const NodeId a = pick(ids);
        const NodeId b = pick(ids);
        if (a == b) return tick();
        note("cut %llu %llu", static_cast<unsigned long long>(a),
             static_cast<unsigned long long>(b));
        cluster_->cut(a, b);
        return;
      }
      case 1: {
        const NodeId id = pick(ids);
        note("isolate %llu", static_cast<unsigned long long>(id));
        cluster_->isolate(id);
        return;
      }
      default: {
        std::vector<NodeId> a, b;
        for (NodeId id : ids) (chance(50) ? a : b).push_back(id);
        if (a.empty() || b.empty()) return tick();
        std::string what;
        for (NodeId id : a) what += " " + std::to_string(id);
        what += " |";
        for (NodeId id : b) what += " " + std::to_string(id);
        note("partition%s", what.c_str());
        cluster_->partition({a, b});
        return;
      }
    }
  }

  void crash() {
    const auto up = up_nodes();
    if (up.size() <= 1) return tick();
    const auto leading = leaders();
    if (!leading.empty()) leader_conf(pick(leading));
    // Leaders often, since a leader lost with entries on few logs is what diverges logs.
    const NodeId id = !leading.empty() && chance(40) ? pick(leading) : pick(up);
    std::size_t down_voters = contains(voters_, id) ? 1 : 0;
    for (NodeId v : voters_) down_voters += cluster_->is_up(v) ? 0 : 1;
    // Mostly a minority of the voters is down at once; now and then a majority, which
    // may stall progress but must never break safety.
    const bool majority = down_voters > (voters_.size() - 1) / 2;
    if (majority && !chance(10)) return tick();
    note("crash %llu%s", static_cast<unsigned long long>(id), majority ? " (majority down)" : "");
    crash_node(id);
    ++stats_.crashes;
  }

  void restart() {
    const auto down = down_nodes();
    if (down.empty()) return tick();
    const NodeId id = pick(down);
    note("restart %llu", static_cast<unsigned long long>(id));
    restart_node(id);
  }

  void crash_node(NodeId id) {
    std::vector<Message> unsent;
    for (const auto& f : cluster_->in_flight()) {
      if (f.message.to == id) unsent.push_back(f.message);
    }
    cluster_->crash(id);
    for (const Message& m : unsent) transport_failed(m);
  }

  void restart_node(NodeId id) {
    cluster_->restart(id);
    checker_->restarted(id);
  }

  // --- liveness -----------------------------------------------------------------------
  // The node whose configuration says who takes part: the leader, else the node with the
  // most up-to-date persisted log (it holds every committed entry, so its configuration is
  // the newest one that can be in force).
  NodeId configuration_reference() {
    if (const NodeId leader = cluster_->leader(); leader != kNoNode) return leader;
    NodeId best = ids_.front();
    std::pair<Term, Index> best_last{0, 0};
    for (NodeId id : ids_) {
      const MemoryLogStorage& st = cluster_->storage(id);
      Term term = 0;
      st.term(st.last_index(), term);
      const std::pair<Term, Index> last{term, st.last_index()};
      if (last > best_last) {
        best = id;
        best_last = last;
      }
    }
    return best;
  }

  // Heals the network, restarts everyone and checks that a leader emerges and a final
  // proposal reaches every member. Returns what went wrong, or an empty string.
  std::string settle() {
    note("heal, restart all, settle");
    cluster_->heal();
    for (NodeId id : down_nodes()) restart_node(id);
    std::optional<ProposeResult> final_entry;
    for (int round = 0; round < kSettleRounds; ++round) {
      cluster_->tick_all();
      cluster_->stabilize();
      checker_->storage_changed_all();
      if (!checker_->check()) return checker_->violation();
      // Removed or never admitted nodes take no part, as an operator would shut them down:
      // without pre-vote, one that missed its own removal keeps raising terms forever.
      const NodeId reference = configuration_reference();
      if (!cluster_->is_up(reference)) restart_node(reference);
      RawNode& ref = cluster_->node(reference);
      auto all = members(ref.state().conf);
      // Members of the configuration before may still be needed until the newest commits.
      if (auto committed = ref.conf_state_at(ref.commit_index())) {
        for (NodeId id : members(*committed)) {
          if (!contains(all, id)) all.push_back(id);
        }
      }
      for (NodeId id : ids_) {
        if (id != reference && cluster_->is_up(id) && !contains(all, id)) {
          note("stop non-member %llu", static_cast<unsigned long long>(id));
          crash_node(id);
        } else if (!cluster_->is_up(id) && contains(all, id)) {
          note("restart member %llu", static_cast<unsigned long long>(id));
          restart_node(id);
        }
      }
      const NodeId leader = cluster_->leader();
      if (leader == kNoNode || !contains(all, leader)) continue;
      const Term leader_term = cluster_->node(leader).term();
      const bool lost = final_entry && checker_->committed_term(final_entry->first_index) != 0 &&
                        checker_->committed_term(final_entry->first_index) != final_entry->term;
      const bool stale = final_entry && final_entry->term != leader_term &&
                         checker_->committed_term(final_entry->first_index) == 0;
      if (!final_entry || lost || stale) {
        ProposeResult r = cluster_->propose(leader, "final");
        note("settle round %d: propose final at %llu: %s [%llu] t%llu", round,
             static_cast<unsigned long long>(leader), to_string(r.status),
             static_cast<unsigned long long>(r.first_index),
             static_cast<unsigned long long>(r.term));
        if (r.status == RaftStatus::Ok) final_entry = r;
        continue;
      }
      if (checker_->committed_term(final_entry->first_index) != final_entry->term) continue;
      bool everywhere = true;
      for (NodeId id : all) {
        everywhere &=
            cluster_->is_up(id) && cluster_->applied_index(id) >= final_entry->first_index;
      }
      if (everywhere) return {};
    }
    std::string why = "liveness: after healing and " + std::to_string(kSettleRounds) +
                      " rounds of ticks the final proposal did not reach every member (" +
                      (final_entry ? "proposed at index " + std::to_string(final_entry->first_index)
                                   : std::string("never accepted")) +
                      ")\n";
    return why + node_summary();
  }

  std::uint64_t seed_;
  std::uint64_t steps_;
  std::mt19937_64 rng_;
  ClusterOptions options_;
  std::vector<NodeId> founders_;
  // Behind pointers so that const helpers can still query nodes (Cluster::node is not const).
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<SafetyChecker> checker_;
  std::vector<NodeId> ids_;
  // Voters (both halves) as the last leader asked reported them.
  std::vector<NodeId> voters_;
  NodeId next_id_ = 0;
  std::optional<NodeId> spare_;
  std::uint64_t step_ = 0;
  Regime regime_ = kCalm;
  std::uint64_t regime_end_ = 0;
  std::uint64_t next_value_ = 0;
  std::uint64_t next_read_ = 0;
  std::array<std::string, kTraceLength> trace_;
  bool print_trace_ = env_number("SYNOD_RAFT_TRACE").value_or(0) != 0;
  std::size_t trace_next_ = 0;
  SweepStats stats_;
};

void run_sweep(int nodes) {
  const auto only = env_number("SYNOD_RAFT_NODES");
  if (only && *only != static_cast<std::uint64_t>(nodes)) {
    GTEST_SKIP() << "SYNOD_RAFT_NODES=" << *only;
  }
  const std::uint64_t steps = env_number("SYNOD_RAFT_STEPS").value_or(kDefaultSteps);
  const bool keep_going = env_number("SYNOD_RAFT_KEEP_GOING").value_or(0) != 0;
  std::uint64_t first = 1;
  std::uint64_t count = env_number("SYNOD_RAFT_SEEDS").value_or(kDefaultSeeds);
  if (auto seed = env_number("SYNOD_RAFT_SEED")) {
    first = *seed;
    count = 1;
  }
  const auto start = std::chrono::steady_clock::now();
  SweepStats total;
  std::vector<std::uint64_t> failed;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    Simulation sim(nodes, seed, steps);
    const std::string failure = sim.run();
    const SweepStats s = sim.stats();
    total.leaders += s.leaders;
    total.committed += s.committed;
    total.reads += s.reads;
    total.snapshots_sent += s.snapshots_sent;
    total.conf_changes += s.conf_changes;
    total.crashes += s.crashes;
    if (failure.empty()) continue;
    if (failed.empty()) ADD_FAILURE() << nodes << " nodes, seed " << seed << ": " << failure;
    failed.push_back(seed);
    if (!keep_going) return;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[ summary  ] %d nodes: %llu seeds x %llu steps in %.1f s; %llu leaders, %llu "
      "entries committed, %llu reads answered, %llu snapshots sent, %llu conf changes, "
      "%llu crashes\n",
      nodes, static_cast<unsigned long long>(count), static_cast<unsigned long long>(steps),
      seconds, static_cast<unsigned long long>(total.leaders),
      static_cast<unsigned long long>(total.committed),
      static_cast<unsigned long long>(total.reads),
      static_cast<unsigned long long>(total.snapshots_sent),
      static_cast<unsigned long long>(total.conf_changes),
      static_cast<unsigned long long>(total.crashes));
  if (!failed.empty()) {
    std::string seeds;
    for (std::size_t i = 0; i < std::min<std::size_t>(failed.size(), 20); ++i) {
      seeds += " " + std::to_string(failed[i]);
    }
    if (failed.size() > 20) seeds += " ...";
    std::printf("[ summary  ] %zu of %llu seeds failed:%s\n", failed.size(),
                static_cast<unsigned long long>(count), seeds.c_str());
  }
}

TEST(RaftRandomized, ThreeNodes) { run_sweep(3); }
TEST(RaftRandomized, FiveNodes) { run_sweep(5); }

}  // namespace
}  // namespace synod::raft::testing
