#include "script_driver.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace synod::raft::scenarios {

// One parsed line of a script.
struct ScriptDriver::Step {
  std::string source;
  int line = 0;
  std::string text;
  std::string command;
  std::vector<std::string> words;
  std::map<std::string, std::string> options;
  std::size_t next_word = 0;
  std::set<std::string> used;
};

namespace {

using Step = ScriptDriver::Step;

// A step that cannot run: the script ends with this as its failure.
struct StepError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string id_text(NodeId id) { return id == kNoNode ? "none" : std::to_string(id); }

std::string join(const std::vector<std::string>& parts, const char* sep = ",") {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string ids_text(std::vector<NodeId> ids) {
  if (ids.empty()) return "none";
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> parts;
  for (NodeId id : ids) parts.push_back(std::to_string(id));
  return join(parts);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::uint64_t parse_u64(const std::string& text, const std::string& what) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.empty() || !std::all_of(text.begin(), text.end(), digit)) {
    throw StepError(what + ": '" + text + "' is not a number");
  }
  return std::stoull(text);
}

bool parse_bool(const std::string& text, const std::string& what) {
  if (text == "true") return true;
  if (text == "false") return false;
  throw StepError(what + ": '" + text + "' is not true or false");
}

// "1,2,3"; "none" (or nothing) is the empty list.
std::vector<NodeId> parse_ids(const std::string& text, const std::string& what) {
  std::vector<NodeId> out;
  if (text.empty() || text == "none") return out;
  for (const auto& part : split(text, ',')) {
    if (part.empty()) continue;
    const NodeId id = parse_u64(part, what);
    if (id == kNoNode) throw StepError(what + ": node id 0 is reserved");
    out.push_back(id);
  }
  return out;
}

// "none" or "0" is kNoNode.
NodeId parse_id_or_none(const std::string& text, const std::string& what) {
  if (text == "none") return kNoNode;
  return parse_u64(text, what);
}

// --- step arguments ------------------------------------------------------------------

std::optional<std::string> take(Step& step, const std::string& key) {
  auto it = step.options.find(key);
  if (it == step.options.end()) return std::nullopt;
  step.used.insert(key);
  return it->second;
}

std::string need(Step& step, const std::string& key) {
  auto value = take(step, key);
  if (!value) throw StepError("missing " + key + "=");
  return *value;
}

std::uint64_t take_u64(Step& step, const std::string& key, std::uint64_t fallback) {
  auto value = take(step, key);
  return value ? parse_u64(*value, key) : fallback;
}

bool take_bool(Step& step, const std::string& key, bool fallback) {
  auto value = take(step, key);
  return value ? parse_bool(*value, key) : fallback;
}

bool has_word(const Step& step) { return step.next_word < step.words.size(); }

std::string word(Step& step, const std::string& what) {
  if (!has_word(step)) throw StepError("missing " + what);
  return step.words[step.next_word++];
}

NodeId node_word(Step& step) {
  const auto ids = parse_ids(word(step, "node id"), "node id");
  if (ids.size() != 1) throw StepError("expected one node id");
  return ids.front();
}

std::vector<NodeId> nodes_word(Step& step) {
  auto ids = parse_ids(word(step, "node ids"), "node ids");
  if (ids.empty()) throw StepError("expected node ids");
  return ids;
}

// Splits a line into a step; false for blank lines and comments.
bool parse_line(const std::string& raw, Step& step) {
  std::istringstream in(raw);
  std::string token;
  std::vector<std::string> tokens;
  while (in >> token) {
    if (token.front() == '#') break;
    tokens.push_back(token);
  }
  if (tokens.empty()) return false;
  step.command = tokens.front();
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      step.words.push_back(t);
      continue;
    }
    std::string key = t.substr(0, eq);
    std::replace(key.begin(), key.end(), '_', '-');
    if (!step.options.emplace(key, t.substr(eq + 1)).second) {
      throw StepError("option " + key + "= given twice");
    }
  }
  step.text = join(tokens, " ");
  return true;
}

void check_all_used(const Step& step) {
  if (has_word(step)) throw StepError("unexpected word '" + step.words[step.next_word] + "'");
  for (const auto& [key, value] : step.options) {
    if (!step.used.count(key)) throw StepError("unknown option " + key + "=");
  }
}

// --- naming ----------------------------------------------------------------------------

constexpr std::pair<RaftStatus, const char*> kStatusWords[] = {
    {RaftStatus::Ok, "ok"},
    {RaftStatus::NotLeader, "not-leader"},
    {RaftStatus::NoLeader, "no-leader"},
    {RaftStatus::TransferInProgress, "transfer-in-progress"},
    {RaftStatus::UncommittedLimit, "uncommitted-limit"},
    {RaftStatus::ConfChangePending, "conf-change-pending"},
    {RaftStatus::InvalidConfChange, "invalid-conf-change"},
    {RaftStatus::InvalidArgument, "invalid-argument"},
    {RaftStatus::ReadLimit, "read-limit"},
};

std::string status_word(RaftStatus status) {
  for (const auto& [s, w] : kStatusWords) {
    if (s == status) return w;
  }
  return "unknown";
}

RaftStatus parse_status(const std::string& text) {
  for (const auto& [s, w] : kStatusWords) {
    if (text == w) return s;
  }
  throw StepError("unknown status '" + text + "'");
}

MessageType parse_type(const std::string& text) {
  for (int t = 0; t <= static_cast<int>(MessageType::TimeoutNow); ++t) {
    const auto type = static_cast<MessageType>(t);
    if (lower(text) == lower(to_string(type))) return type;
  }
  throw StepError("unknown message type '" + text + "'");
}

std::string entry_text(const Entry& e) {
  return std::to_string(e.index) + "/" + std::to_string(e.term);
}

std::string entries_text(const std::vector<Entry>& entries) {
  if (entries.empty()) return "none";
  std::vector<std::string> parts;
  for (const auto& e : entries) parts.push_back(entry_text(e));
  return join(parts);
}

// Every entry the storage holds, as persisted.
std::vector<Entry> persisted_log(const MemoryLogStorage& storage) {
  std::vector<Entry> log;
  if (storage.last_index() >= storage.first_index()) {
    storage.entries(storage.first_index(), storage.last_index() + 1, ~std::size_t{0}, log);
  }
  return log;
}

std::string describe(const Message& m) {
  std::ostringstream out;
  out << m.from << "->" << m.to << " " << to_string(m.type) << " term=" << m.term;
  switch (m.type) {
    case MessageType::Append:
      out << " index=" << m.index << " log-term=" << m.log_term << " commit=" << m.commit
          << " entries=" << (m.entries.empty() ? "none" : "[" + entries_text(m.entries) + "]");
      break;
    case MessageType::AppendResp:
      out << " index=" << m.index;
      if (m.reject) out << " reject=true hint=" << m.reject_hint << " log-term=" << m.log_term;
      break;
    case MessageType::Vote:
    case MessageType::PreVote:
      out << " index=" << m.index << " log-term=" << m.log_term;
      break;
    case MessageType::VoteResp:
    case MessageType::PreVoteResp:
      out << (m.reject ? " reject=true" : " granted");
      break;
    case MessageType::Heartbeat:
      out << " commit=" << m.commit;
      break;
    case MessageType::HeartbeatResp:
      if (m.reject) out << " reject=true hint=" << m.reject_hint;
      break;
    case MessageType::InstallSnapshot:
      if (m.snapshot) {
        out << " snapshot=" << m.snapshot->meta.index << "/" << m.snapshot->meta.term;
      }
      break;
    case MessageType::ReadIndexResp:
      out << " index=" << m.index;
      break;
    default:
      break;
  }
  if (!m.context.empty()) out << " ctx=" << m.context;
  return out.str();
}

std::string describe(const ProposeResult& r) {
  std::string out = status_word(r.status);
  if (r.status == RaftStatus::Ok && r.last_index != 0) {
    out += " index=" + std::to_string(r.first_index);
    if (r.last_index != r.first_index) out += "-" + std::to_string(r.last_index);
    out += " term=" + std::to_string(r.term);
  }
  if (r.leader_hint != kNoNode) out += " hint=" + std::to_string(r.leader_hint);
  if (!r.error.empty()) out += " (" + r.error + ")";
  return out;
}

// Which in-flight (or sent) messages a step means.
struct MessageFilter {
  std::optional<NodeId> from;
  std::optional<NodeId> to;
  std::optional<MessageType> type;
  std::optional<Term> term;
  std::optional<Index> index;
  std::optional<Term> log_term;
  std::optional<Index> commit;
  std::optional<bool> reject;
  std::optional<Index> hint;
  std::optional<std::size_t> entries;
  std::optional<std::string> context;

  static MessageFilter from_step(Step& step) {
    MessageFilter f;
    auto number = [&step](const char* key) -> std::optional<std::uint64_t> {
      auto v = take(step, key);
      if (!v) return std::nullopt;
      return parse_u64(*v, key);
    };
    f.from = number("from");
    f.to = number("to");
    if (auto v = take(step, "type")) f.type = parse_type(*v);
    f.term = number("term");
    f.index = number("index");
    f.log_term = number("log-term");
    f.commit = number("commit");
    if (auto v = take(step, "reject")) f.reject = parse_bool(*v, "reject");
    f.hint = number("hint");
    f.entries = number("entries");
    f.context = take(step, "ctx");
    return f;
  }

  bool matches(const Message& m) const {
    return (!from || m.from == *from) && (!to || m.to == *to) && (!type || m.type == *type) &&
           (!term || m.term == *term) && (!index || m.index == *index) &&
           (!log_term || m.log_term == *log_term) && (!commit || m.commit == *commit) &&
           (!reject || m.reject == *reject) && (!hint || m.reject_hint == *hint) &&
           (!entries || m.entries.size() == *entries) && (!context || m.context == *context);
  }
};

// Compares one observed value with the expected one, naming it in the failure.
struct Checker {
  std::vector<std::string> mismatches;
  void check(const std::string& what, const std::string& expected, const std::string& actual) {
    if (expected != actual) {
      mismatches.push_back(what + ": expected " + expected + ", actual " + actual);
    }
  }
};

}  // namespace

std::string to_string(const ScriptFailure& failure) {
  return failure.source + ":" + std::to_string(failure.line) + ": `" + failure.step +
         "`: " + failure.message;
}

ScriptDriver::ScriptDriver() = default;
ScriptDriver::~ScriptDriver() = default;

std::vector<ScriptFailure> ScriptDriver::run_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return {{path.string(), 0, "", "cannot open the script"}};
  std::ostringstream text;
  text << in.rdbuf();
  return run(path.string(), text.str());
}

std::vector<ScriptFailure> ScriptDriver::run(const std::string& source, const std::string& text) {
  failures_.clear();
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    Step step;
    step.source = source;
    step.line = line;
    step.text = raw;
    try {
      if (!parse_line(raw, step)) continue;
      if (step.command == "cluster") note_final_state();
      // No line number: adding a comment to a script must not change its whole transcript.
      note("> " + step.text);
      execute(step);
      check_all_used(step);
    } catch (const std::exception& e) {
      fail(step, std::string("step cannot run: ") + e.what());
      break;
    }
  }
  note_final_state();
  return failures_;
}

std::string ScriptDriver::Traffic::text() const {
  std::size_t total = 0;
  std::vector<std::string> parts;
  for (const auto& [type, n] : delivered) {
    total += n;
    parts.push_back(std::string(to_string(type)) + " " + std::to_string(n));
  }
  std::string out = std::to_string(total) + " messages delivered";
  if (!parts.empty()) out += " (" + join(parts, ", ") + ")";
  if (lost > 0) out += ", " + std::to_string(lost) + " lost";
  return out;
}

void ScriptDriver::note_final_state() {
  if (!cluster_) return;
  note("= state");
  for (NodeId id : cluster_->ids()) note("    " + node_line(id));
}

void ScriptDriver::note(const std::string& line) {
  transcript_ += line;
  transcript_ += '\n';
}

void ScriptDriver::fail(const Step& step, const std::string& message) {
  failures_.push_back({step.source, step.line, step.text, message});
  note("    FAILED: " + message);
}

testing::Cluster& ScriptDriver::need_cluster() {
  if (!cluster_) throw StepError("no cluster yet: start with a `cluster` step");
  return *cluster_;
}

bool ScriptDriver::reachable(NodeId id) const {
  const auto ids = cluster_->ids();
  return std::find(ids.begin(), ids.end(), id) != ids.end() && cluster_->is_up(id);
}

// Every up node that is not held persists, sends and applies what its Ready holds, until
// none has more. Roles, terms and completed reads are noted as they change.
void ScriptDriver::settle() {
  if (!cluster_) return;
  const std::size_t sent_before = cluster_->sent_log().size();
  for (int round = 0; round < 1000; ++round) {
    bool any = false;
    for (NodeId id : cluster_->ids()) {
      if (!held_.count(id)) any |= cluster_->process_ready(id);
    }
    if (!any) break;
  }
  if (!quiet_) {
    const auto& sent = cluster_->sent_log();
    for (std::size_t i = sent_before; i < sent.size(); ++i) note("    send " + describe(sent[i]));
  }
  for (NodeId id : cluster_->ids()) {
    for (auto& read : cluster_->take_read_states(id)) {
      note("    " + std::to_string(id) + ": read ctx=" + read.context +
           " ready at index=" + std::to_string(read.index));
      reads_[id].push_back(std::move(read));
    }
    if (!cluster_->is_up(id)) continue;
    const RawNode& n = cluster_->node(id);
    const auto seen = std::make_pair(n.role(), n.term());
    auto it = last_seen_.find(id);
    if (it == last_seen_.end() || it->second != seen) {
      note("    " + std::to_string(id) + ": " + to_string(n.role()) +
           " term=" + std::to_string(n.term()));
      last_seen_[id] = seen;
    }
  }
}

// Delivers everything in flight, round after round, until the network is quiet.
bool ScriptDriver::stabilize_network(int max_rounds, Traffic& traffic) {
  auto& net = cluster_->in_flight();
  // Messages are counted, not listed: a transcript line for each would drown the script.
  quiet_ = true;
  bool quiet = false;
  for (int round = 0; round < max_rounds && !quiet; ++round) {
    settle();
    quiet = net.empty();
    // Replies are queued only when Readies are processed, so this round's batch is fixed.
    for (std::size_t n = net.size(); n > 0; --n) {
      const Message& m = net.front().message;
      if (cluster_->link_up(m.from, m.to) && reachable(m.to)) {
        ++traffic.delivered[m.type];
      } else {
        ++traffic.lost;
      }
      cluster_->deliver(0);
    }
  }
  quiet_ = false;
  return quiet;
}

void ScriptDriver::execute(Step& step) {
  const std::string& c = step.command;
  if (c == "cluster") {
    do_cluster(step);
  } else if (c == "expect") {
    expect(step);
    return;
  } else if (c == "log") {
    do_log(step);
  } else if (c == "add-node") {
    need_cluster().add_empty_node(node_word(step));
  } else if (c == "tick") {
    const NodeId id = node_word(step);
    const auto n = take_u64(step, "n", 1);
    for (std::uint64_t i = 0; i < n; ++i) {
      need_cluster().tick(id);
      settle();
    }
  } else if (c == "tick-all") {
    const auto n = take_u64(step, "n", 1);
    for (std::uint64_t i = 0; i < n; ++i) {
      need_cluster().tick_all();
      settle();
    }
  } else if (c == "elapse") {
    do_elapse(step);
  } else if (c == "campaign" || c == "propose" || c == "propose-batch" || c == "propose-conf" ||
             c == "transfer" || c == "read-index") {
    do_request(step);
  } else if (c == "deliver" || c == "drop" || c == "duplicate" || c == "stabilize" ||
             c == "partition" || c == "isolate" || c == "cut" || c == "heal" || c == "clear-sent") {
    do_network(step);
  } else if (c == "crash") {
    const NodeId id = node_word(step);
    held_.erase(id);
    need_cluster().crash(id);
    last_seen_.erase(id);
  } else if (c == "restart") {
    need_cluster().restart(node_word(step));
  } else if (c == "compact") {
    const NodeId id = node_word(step);
    need_cluster().compact(id, take_u64(step, "keep", 0));
    const auto& st = need_cluster().storage(id);
    note("    log now [" + std::to_string(st.first_index()) + ", " +
         std::to_string(st.last_index()) + "], snapshot at " +
         std::to_string(st.snapshot_meta().index));
  } else if (c == "hold") {
    need_cluster();
    held_.insert(node_word(step));
  } else if (c == "release") {
    need_cluster();
    held_.erase(node_word(step));
  } else if (c == "print") {
    do_print(step);
    return;
  } else {
    throw StepError("unknown command '" + c + "'");
  }
  settle();
}

void ScriptDriver::do_cluster(Step& step) {
  const auto voters = parse_ids(need(step, "voters"), "voters");
  const auto learners = parse_ids(take(step, "learners").value_or(""), "learners");
  testing::ClusterOptions o;
  o.pre_vote = take_bool(step, "pre-vote", o.pre_vote);
  o.check_quorum = take_bool(step, "check-quorum", o.check_quorum);
  o.lease_reads = take_bool(step, "lease-reads", o.lease_reads);
  o.election_ticks = static_cast<int>(take_u64(step, "election", o.election_ticks));
  o.heartbeat_ticks = static_cast<int>(take_u64(step, "heartbeat", o.heartbeat_ticks));
  o.seed = take_u64(step, "seed", o.seed);
  o.max_append_bytes = take_u64(step, "max-append-bytes", o.max_append_bytes);
  o.max_inflight_messages = take_u64(step, "max-inflight", o.max_inflight_messages);
  o.max_inflight_bytes = take_u64(step, "max-inflight-bytes", o.max_inflight_bytes);
  o.max_uncommitted_bytes = take_u64(step, "max-uncommitted-bytes", o.max_uncommitted_bytes);
  cluster_ = std::make_unique<testing::Cluster>(voters, o, learners);
  held_.clear();
  reads_.clear();
  results_.clear();
  last_seen_.clear();
}

// Rewrites a node's persisted log so that it holds exactly the given index/term pairs,
// then restarts it from that storage. The bootstrap entry (1/1) stays as it was.
void ScriptDriver::do_log(Step& step) {
  testing::Cluster& cluster = need_cluster();
  const NodeId id = node_word(step);
  MemoryLogStorage& storage = cluster.storage(id);
  if (storage.first_index() != 1 || storage.last_index() < 1) {
    throw StepError("node " + std::to_string(id) + " has no bootstrap entry to build on");
  }
  std::vector<Entry> log;
  storage.entries(1, 2, 1 << 20, log);
  for (const auto& item : split(word(step, "index/term list"), ',')) {
    // index/term, or index/term:data (the data defaults to the index/term text).
    const auto colon = item.find(':');
    const std::string pair = item.substr(0, colon);
    const auto slash = pair.find('/');
    if (slash == std::string::npos) throw StepError("'" + item + "' is not index/term");
    Entry e;
    e.index = parse_u64(pair.substr(0, slash), "index");
    e.term = parse_u64(pair.substr(slash + 1), "term");
    if (e.index == 1) {
      if (e.term != 1) throw StepError("entry 1 is the bootstrap entry, of term 1");
      continue;
    }
    if (e.index != log.back().index + 1) throw StepError("indexes must run 1, 2, 3, ...");
    if (e.term < log.back().term) throw StepError("terms must not decrease along a log");
    e.data = Bytes(colon == std::string::npos ? pair : item.substr(colon + 1));
    log.push_back(std::move(e));
  }
  const HardState old = storage.hard_state();
  HardState hs;
  hs.term = take_u64(step, "term", std::max(old.term, log.back().term));
  hs.vote = take_u64(step, "vote", hs.term == old.term ? old.vote : kNoNode);
  hs.commit = take_u64(step, "commit", 1);
  if (hs.commit > log.back().index) throw StepError("commit is past the end of the log");
  if (cluster.is_up(id)) cluster.crash(id);
  held_.erase(id);
  last_seen_.erase(id);
  storage.append(log);
  storage.set_hard_state(hs);
  cluster.restart(id);
}

void ScriptDriver::do_elapse(Step& step) {
  testing::Cluster& cluster = need_cluster();
  const auto ticks = take_u64(step, "ticks", 0);
  const auto until = take(step, "until");
  const auto max = take_u64(step, "max", 200);
  if ((ticks == 0) == !until) throw StepError("give either ticks=N or until=");
  if (until && *until != "leader" && *until != "new-leader") {
    throw StepError("until= takes leader or new-leader");
  }
  // For new-leader: the highest term anyone leads in now.
  Term led = 0;
  for (NodeId id : cluster.ids()) {
    if (cluster.is_up(id) && cluster.node(id).role() == Role::Leader) {
      led = std::max(led, cluster.node(id).term());
    }
  }
  auto reached = [&] {
    const NodeId lead = cluster.leader();
    if (lead == kNoNode) return false;
    return *until == "leader" || cluster.node(lead).term() > led;
  };
  std::uint64_t t = 0;
  Traffic traffic;
  while (ticks > 0 ? t < ticks : !reached()) {
    if (ticks == 0 && t >= max) {
      fail(step, "no " + *until + " after " + std::to_string(max) + " ticks");
      return;
    }
    cluster.tick_all();
    ++t;
    if (!stabilize_network(10'000, traffic)) throw StepError("the network did not settle");
  }
  const NodeId lead = cluster.leader();
  note("    " + std::to_string(t) + " ticks, " + traffic.text() + "; leader " + id_text(lead) +
       (lead == kNoNode ? "" : " (term " + std::to_string(cluster.node(lead).term()) + ")"));
}

void ScriptDriver::do_request(Step& step) {
  testing::Cluster& cluster = need_cluster();
  const std::string& c = step.command;
  const NodeId id = node_word(step);
  if (c == "campaign") {
    cluster.node(id).campaign();
    return;
  }
  ProposeResult result;
  if (c == "propose") {
    result = cluster.propose(id, need(step, "data"),
                             static_cast<std::uint32_t>(take_u64(step, "tag", 0)));
  } else if (c == "propose-batch") {
    result = cluster.propose_batch(id, split(need(step, "data"), ','));
  } else if (c == "propose-conf") {
    ConfChange change;
    if (auto t = take(step, "transition")) {
      if (*t == "auto") {
        change.transition = ConfChangeTransition::Auto;
      } else if (*t == "joint") {
        change.transition = ConfChangeTransition::JointImplicit;
      } else if (*t == "explicit") {
        change.transition = ConfChangeTransition::JointExplicit;
      } else {
        throw StepError("transition= takes auto, joint or explicit");
      }
    }
    const std::pair<const char*, ConfChangeOp> ops[] = {{"add-voter", ConfChangeOp::AddVoter},
                                                        {"add-learner", ConfChangeOp::AddLearner},
                                                        {"remove", ConfChangeOp::RemoveNode}};
    for (const auto& [key, op] : ops) {
      for (NodeId n : parse_ids(take(step, key).value_or(""), key)) {
        change.changes.push_back({op, n});
      }
    }
    const bool leave = has_word(step) && step.words[step.next_word] == "leave";
    if (leave) ++step.next_word;
    if (change.changes.empty() != leave) {
      throw StepError("name the changes (add-voter=, add-learner=, remove=) or say leave");
    }
    result = cluster.propose_conf_change(id, change);
  } else if (c == "transfer") {
    result = cluster.node(id).transfer_leadership(parse_u64(need(step, "to"), "to"));
  } else {
    result = cluster.node(id).read_index(need(step, "ctx"));
  }
  note("    " + describe(result));
  results_[id] = std::move(result);
}

void ScriptDriver::do_network(Step& step) {
  testing::Cluster& cluster = need_cluster();
  const std::string& c = step.command;
  if (c == "stabilize") {
    Traffic traffic;
    if (!stabilize_network(static_cast<int>(take_u64(step, "max", 10'000)), traffic)) {
      throw StepError("the network did not settle");
    }
    note("    " + traffic.text());
    return;
  }
  if (c == "partition") {
    std::string all;
    while (has_word(step)) all += word(step, "") + " ";
    std::vector<std::vector<NodeId>> groups;
    for (std::string group : split(all, '|')) {
      std::replace(group.begin(), group.end(), ' ', ',');
      groups.push_back(parse_ids(group, "partition group"));
      if (groups.back().empty()) throw StepError("empty partition group");
    }
    if (groups.size() < 2) throw StepError("separate the groups with |");
    cluster.partition(groups);
    return;
  }
  if (c == "isolate") {
    cluster.isolate(node_word(step));
    return;
  }
  if (c == "cut") {
    const NodeId a = node_word(step);
    cluster.cut(a, node_word(step));
    return;
  }
  if (c == "heal") {
    cluster.heal();
    return;
  }
  if (c == "clear-sent") {
    cluster.clear_sent_log();
    return;
  }
  // deliver, drop, duplicate: pick the matching messages first, act on them in order.
  const MessageFilter filter = MessageFilter::from_step(step);
  const auto limit = take_u64(step, "n", ~std::uint64_t{0});
  auto& net = cluster.in_flight();
  std::vector<std::uint64_t> picked;
  for (const auto& f : net) {
    if (picked.size() < limit && filter.matches(f.message)) picked.push_back(f.sequence);
  }
  if (picked.empty()) throw StepError("no in-flight message matches");
  for (std::uint64_t seq : picked) {
    const auto it =
        std::find_if(net.begin(), net.end(), [seq](const auto& f) { return f.sequence == seq; });
    const auto i = static_cast<std::size_t>(it - net.begin());
    const Message& m = it->message;
    if (c == "deliver") {
      std::string fate;
      if (!cluster.link_up(m.from, m.to)) fate = " (lost: link cut)";
      if (!reachable(m.to)) fate = " (lost: node down)";
      note("    deliver " + describe(m) + fate);
      cluster.deliver(i);
    } else if (c == "drop") {
      note("    drop " + describe(m));
      cluster.drop(i);
    } else {
      note("    duplicate " + describe(m));
      cluster.duplicate(i);
    }
  }
}

void ScriptDriver::do_print(Step& step) {
  testing::Cluster& cluster = need_cluster();
  const auto ids = has_word(step) ? nodes_word(step) : cluster.ids();
  for (NodeId id : ids) note("    " + node_line(id));
}

std::string ScriptDriver::node_line(NodeId id) {
  testing::Cluster& cluster = need_cluster();
  const std::vector<Entry> log = persisted_log(cluster.storage(id));
  std::string line = std::to_string(id) + ": ";
  if (cluster.is_up(id)) {
    const RaftState s = cluster.node(id).state();
    line += std::string(to_string(s.soft_state.role)) +
            " term=" + std::to_string(s.hard_state.term) + " vote=" + id_text(s.hard_state.vote) +
            " leader=" + id_text(s.soft_state.leader) +
            " commit=" + std::to_string(s.hard_state.commit) +
            " applied=" + std::to_string(cluster.applied_index(id)) +
            " voters=" + ids_text(s.conf.voters);
    if (s.conf.is_joint()) line += " outgoing=" + ids_text(s.conf.voters_outgoing);
  } else {
    line += "down";
  }
  return line + " log=" + entries_text(log);
}

// --- expectations --------------------------------------------------------------------

void ScriptDriver::expect(Step& step) {
  testing::Cluster& cluster = need_cluster();
  const std::string kind = word(step, "what to expect");
  if (kind == "leader") {
    const NodeId want = parse_id_or_none(word(step, "leader id"), "leader");
    const NodeId got = cluster.leader();
    if (want != got) fail(step, "leader: expected " + id_text(want) + ", actual " + id_text(got));
    return;
  }
  if (kind == "result") return expect_result(step);
  if (kind == "messages") return expect_messages(step, true);
  if (kind == "sent") return expect_messages(step, false);
  if (kind == "read") return expect_read(step);
  if (kind == "progress") return expect_progress(step);
  const auto nodes = nodes_word(step);
  if (kind == "same-state") {
    // Equal applied index and state digest: the state machines hold the same thing.
    for (NodeId id : nodes) {
      const auto first =
          std::make_pair(cluster.applied_index(nodes[0]), cluster.state_digest(nodes[0]));
      if (std::make_pair(cluster.applied_index(id), cluster.state_digest(id)) != first) {
        fail(step, "node " + std::to_string(id) + " state differs from node " +
                       std::to_string(nodes[0]) + "'s (applied " +
                       std::to_string(cluster.applied_index(id)) + " against " +
                       std::to_string(first.first) + ")");
      }
    }
    return;
  }
  if (kind == "status") return expect_status(step, nodes);
  if (kind == "conf") return expect_conf(step, nodes);
  // The rest take one expected value in the same words as `expect status`.
  static const std::map<std::string, std::string> kAsStatus = {
      {"role", "role"}, {"term", "term"}, {"commit", "commit"}};
  if (auto it = kAsStatus.find(kind); it != kAsStatus.end()) {
    step.options[it->second] = word(step, "expected " + kind);
    return expect_status(step, nodes);
  }
  Checker checker;
  const std::string want = word(step, "expected " + kind);
  for (NodeId id : nodes) {
    const std::string who = "node " + std::to_string(id) + " ";
    if (kind == "applied") {
      std::string got = join(cluster.applied_data(id));
      checker.check(who + "applied", want, got.empty() ? "none" : got);
    } else if (kind == "log") {
      checker.check(who + "log", want, entries_text(persisted_log(cluster.storage(id))));
    } else {
      throw StepError("unknown expectation '" + kind + "'");
    }
  }
  for (const auto& m : checker.mismatches) fail(step, m);
}

void ScriptDriver::expect_status(Step& step, const std::vector<NodeId>& nodes) {
  testing::Cluster& cluster = need_cluster();
  // Each key's actual value, in the words a script uses.
  using Reader = std::function<std::string(NodeId, const RaftState&)>;
  auto num = [](auto v) { return std::to_string(v); };
  const std::vector<std::pair<std::string, Reader>> readers = {
      {"role", [](NodeId, const RaftState& s) { return to_string(s.soft_state.role); }},
      {"term", [&](NodeId, const RaftState& s) { return num(s.hard_state.term); }},
      {"vote", [](NodeId, const RaftState& s) { return id_text(s.hard_state.vote); }},
      {"leader", [](NodeId, const RaftState& s) { return id_text(s.soft_state.leader); }},
      {"commit", [&](NodeId, const RaftState& s) { return num(s.hard_state.commit); }},
      {"applied", [&](NodeId id, const RaftState&) { return num(cluster.applied_index(id)); }},
      {"first", [&](NodeId, const RaftState& s) { return num(s.first_index); }},
      {"last", [&](NodeId, const RaftState& s) { return num(s.last_index); }},
      {"transfer", [](NodeId, const RaftState& s) { return id_text(s.transfer_target); }},
  };
  std::vector<std::pair<std::string, std::string>> wanted;
  for (const auto& [key, reader] : readers) {
    if (auto v = take(step, key)) {
      const bool is_id = key == "vote" || key == "leader" || key == "transfer";
      wanted.emplace_back(key, is_id ? id_text(parse_id_or_none(*v, key)) : *v);
    }
  }
  const auto want_up = take(step, "up");
  if (wanted.empty() && !want_up) throw StepError("name what to check");
  Checker checker;
  for (NodeId id : nodes) {
    const std::string who = "node " + std::to_string(id) + " ";
    const bool up = cluster.is_up(id);
    if (want_up) checker.check(who + "up", *want_up, up ? "true" : "false");
    if (!up) {
      if (!wanted.empty()) checker.check(who + "state", "a running node", "down");
      continue;
    }
    const RaftState s = cluster.node(id).state();
    for (const auto& [key, value] : wanted) {
      for (const auto& [name, reader] : readers) {
        if (name == key) checker.check(who + key, value, reader(id, s));
      }
    }
  }
  for (const auto& m : checker.mismatches) fail(step, m);
}

void ScriptDriver::expect_result(Step& step) {
  const NodeId id = node_word(step);
  const RaftStatus want = parse_status(word(step, "expected status"));
  auto it = results_.find(id);
  if (it == results_.end()) {
    fail(step, "node " + std::to_string(id) + " has made no request");
    return;
  }
  const ProposeResult& r = it->second;
  Checker checker;
  checker.check("status", status_word(want), status_word(r.status));
  if (auto hint = take(step, "hint")) {
    checker.check("leader hint", id_text(parse_id_or_none(*hint, "hint")), id_text(r.leader_hint));
  }
  if (auto index = take(step, "index")) {
    std::string got = std::to_string(r.first_index);
    if (r.last_index != r.first_index) got += "-" + std::to_string(r.last_index);
    checker.check("index", *index, got);
  }
  if (auto term = take(step, "term")) checker.check("term", *term, std::to_string(r.term));
  for (const auto& m : checker.mismatches) fail(step, m + " (answer: " + describe(r) + ")");
}

void ScriptDriver::expect_messages(Step& step, bool in_flight) {
  testing::Cluster& cluster = need_cluster();
  const MessageFilter filter = MessageFilter::from_step(step);
  const auto want = parse_u64(need(step, "n"), "n");
  std::vector<std::string> matched;
  if (in_flight) {
    for (const auto& f : cluster.in_flight()) {
      if (filter.matches(f.message)) matched.push_back(describe(f.message));
    }
  } else {
    for (const auto& m : cluster.sent_log()) {
      if (filter.matches(m)) matched.push_back(describe(m));
    }
  }
  if (matched.size() == want) return;
  std::string message = std::string(in_flight ? "in-flight" : "sent") +
                        " messages matching: expected " + std::to_string(want) + ", actual " +
                        std::to_string(matched.size());
  for (const auto& m : matched) message += "\n      " + m;
  if (in_flight && matched.empty()) {
    message += "\n      in flight:";
    for (const auto& f : cluster.in_flight()) message += "\n      " + describe(f.message);
  }
  fail(step, message);
}

void ScriptDriver::expect_read(Step& step) {
  const NodeId id = node_word(step);
  const std::string ctx = need(step, "ctx");
  const std::string want = need(step, "index");
  auto& reads = reads_[id];
  auto it = std::find_if(reads.begin(), reads.end(),
                         [&ctx](const ReadState& r) { return r.context == ctx; });
  const std::string got = it == reads.end() ? "none" : std::to_string(it->index);
  if (got != want) {
    fail(step, "node " + std::to_string(id) + " read " + ctx + " index: expected " + want +
                   ", actual " + got);
  }
  // A matched read is consumed, so a later step can expect the next one with this ctx.
  if (it != reads.end()) reads.erase(it);
}

void ScriptDriver::expect_conf(Step& step, const std::vector<NodeId>& nodes) {
  testing::Cluster& cluster = need_cluster();
  using Field = std::function<std::vector<NodeId>(const ConfState&)>;
  const std::vector<std::pair<std::string, Field>> fields = {
      {"voters", [](const ConfState& c) { return c.voters; }},
      {"outgoing", [](const ConfState& c) { return c.voters_outgoing; }},
      {"learners", [](const ConfState& c) { return c.learners; }},
      {"learners-next", [](const ConfState& c) { return c.learners_next; }},
  };
  std::vector<std::pair<std::size_t, std::string>> wanted;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (auto v = take(step, fields[i].first)) {
      wanted.emplace_back(i, ids_text(parse_ids(*v, fields[i].first)));
    }
  }
  const auto auto_leave = take(step, "auto-leave");
  if (wanted.empty() && !auto_leave) throw StepError("name what to check");
  Checker checker;
  for (NodeId id : nodes) {
    const ConfState conf = cluster.node(id).state().conf;
    const std::string who = "node " + std::to_string(id) + " ";
    for (const auto& [i, value] : wanted) {
      checker.check(who + fields[i].first, value, ids_text(fields[i].second(conf)));
    }
    if (auto_leave) {
      checker.check(who + "auto-leave", *auto_leave, conf.auto_leave ? "true" : "false");
    }
  }
  for (const auto& m : checker.mismatches) fail(step, m);
}

void ScriptDriver::expect_progress(Step& step) {
  testing::Cluster& cluster = need_cluster();
  const NodeId id = node_word(step);
  const NodeId peer = parse_u64(need(step, "peer"), "peer");
  const RaftState s = cluster.node(id).state();
  const std::vector<std::string> keys = {"state", "match", "next", "inflight", "active", "learner"};
  std::vector<std::pair<std::string, std::string>> wanted;
  for (const auto& key : keys) {
    if (auto v = take(step, key)) wanted.emplace_back(key, *v);
  }
  if (wanted.empty()) throw StepError("name what to check");
  if (s.soft_state.role != Role::Leader) {
    fail(step, "node " + std::to_string(id) + " is not leader; it tracks no progress");
    return;
  }
  auto it = std::find_if(s.peers.begin(), s.peers.end(),
                         [peer](const PeerStatus& p) { return p.id == peer; });
  if (it == s.peers.end()) {
    fail(step, "leader " + std::to_string(id) + " tracks no peer " + std::to_string(peer));
    return;
  }
  auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  const std::map<std::string, std::string> actual = {
      {"state", to_string(it->state)},       {"match", std::to_string(it->match)},
      {"next", std::to_string(it->next)},    {"inflight", std::to_string(it->inflight_messages)},
      {"active", flag(it->recently_active)}, {"learner", flag(it->learner)},
  };
  Checker checker;
  for (const auto& [key, value] : wanted) {
    checker.check("peer " + std::to_string(peer) + " " + key, value, actual.at(key));
  }
  for (const auto& m : checker.mismatches) fail(step, m);
}

}  // namespace synod::raft::scenarios
