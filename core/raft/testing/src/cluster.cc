#include "synod/raft/testing/cluster.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace synod::raft::testing {
namespace {

// FNV-1a, folded over applied entries: two state machines that applied the same entries
// in the same order have the same digest.
std::uint64_t fold(std::uint64_t digest, std::string_view bytes) {
  for (unsigned char c : bytes) {
    digest ^= c;
    digest *= 0x100000001b3ULL;
  }
  return digest;
}

std::uint64_t fold_entry(std::uint64_t digest, const Entry& e) {
  std::string header(17, '\0');
  for (int i = 0; i < 8; ++i) header[i] = static_cast<char>((e.index >> (8 * i)) & 0xff);
  for (int i = 0; i < 8; ++i) header[8 + i] = static_cast<char>((e.term >> (8 * i)) & 0xff);
  header[16] = static_cast<char>(e.type);
  return fold(fold(digest, header), e.data.view());
}

constexpr std::uint64_t kEmptyDigest = 0xcbf29ce484222325ULL;

std::string encode_state(Index index, std::uint64_t digest) {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((index >> (8 * i)) & 0xff);
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<char>((digest >> (8 * i)) & 0xff);
  return out;
}

std::pair<Index, std::uint64_t> decode_state(std::string_view data) {
  if (data.size() != 16) return {0, kEmptyDigest};
  Index index = 0;
  std::uint64_t digest = 0;
  for (int i = 0; i < 8; ++i) index |= Index(std::uint8_t(data[i])) << (8 * i);
  for (int i = 0; i < 8; ++i) digest |= std::uint64_t(std::uint8_t(data[8 + i])) << (8 * i);
  return {index, digest};
}

}  // namespace

struct Cluster::Slot {
  NodeId id = kNoNode;
  std::unique_ptr<MemoryLogStorage> storage;
  std::unique_ptr<RawNode> node;
  bool up = true;
  Index applied_index = 0;
  std::uint64_t digest = kEmptyDigest;
  std::vector<AppliedEntry> applied;
  std::vector<ReadState> read_states;
};

Cluster::Cluster(std::vector<NodeId> voters, ClusterOptions options, std::vector<NodeId> learners)
    : options_(options) {
  std::vector<NodeId> all = voters;
  all.insert(all.end(), learners.begin(), learners.end());
  for (NodeId id : all) {
    auto s = std::make_unique<Slot>();
    s->id = id;
    s->storage = std::make_unique<MemoryLogStorage>();
    s->storage->bootstrap(voters, learners);
    slots_.emplace(id, std::move(s));
  }
  for (NodeId id : all) restart(id);
}

Cluster::~Cluster() = default;

Cluster::Slot& Cluster::slot(NodeId id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) throw std::out_of_range("no node " + std::to_string(id));
  return *it->second;
}

const Cluster::Slot& Cluster::slot(NodeId id) const {
  auto it = slots_.find(id);
  if (it == slots_.end()) throw std::out_of_range("no node " + std::to_string(id));
  return *it->second;
}

Config Cluster::make_config(NodeId id, Index applied) const {
  Config c;
  c.id = id;
  c.election_ticks = options_.election_ticks;
  c.heartbeat_ticks = options_.heartbeat_ticks;
  c.pre_vote = options_.pre_vote;
  c.check_quorum = options_.check_quorum;
  c.lease_reads = options_.lease_reads;
  c.max_append_bytes = options_.max_append_bytes;
  c.max_inflight_messages = options_.max_inflight_messages;
  c.max_inflight_bytes = options_.max_inflight_bytes;
  c.max_uncommitted_bytes = options_.max_uncommitted_bytes;
  c.seed = options_.seed * 1000003 + id;
  c.applied = applied;
  return c;
}

RawNode& Cluster::node(NodeId id) {
  Slot& s = slot(id);
  if (!s.node) throw std::logic_error("node " + std::to_string(id) + " is down");
  return *s.node;
}

const MemoryLogStorage& Cluster::storage(NodeId id) const { return *slot(id).storage; }
MemoryLogStorage& Cluster::storage(NodeId id) { return *slot(id).storage; }

bool Cluster::is_up(NodeId id) const { return slot(id).up; }

std::vector<NodeId> Cluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, s] : slots_) out.push_back(id);
  return out;
}

void Cluster::add_empty_node(NodeId id) {
  auto s = std::make_unique<Slot>();
  s->id = id;
  s->storage = std::make_unique<MemoryLogStorage>();
  slots_.emplace(id, std::move(s));
  restart(id);
}

void Cluster::crash(NodeId id) {
  Slot& s = slot(id);
  s.node.reset();
  s.up = false;
  std::erase_if(in_flight_, [id](const InFlight& f) { return f.message.to == id; });
}

void Cluster::restart(NodeId id) {
  Slot& s = slot(id);
  // The toy state machine is volatile: it restarts from the stored snapshot.
  Snapshot snap;
  s.storage->snapshot(snap);
  auto [index, digest] = decode_state(snap.data.view());
  s.applied_index = snap.meta.index;
  s.digest = snap.meta.index == 0 ? kEmptyDigest : digest;
  (void)index;
  s.applied.clear();
  s.read_states.clear();
  std::string error;
  s.node = RawNode::create(make_config(id, s.applied_index), *s.storage, &error);
  if (!s.node) throw std::runtime_error("restart of node " + std::to_string(id) + ": " + error);
  s.up = true;
}

void Cluster::tick(NodeId id) {
  if (is_up(id)) node(id).tick();
}

void Cluster::tick_all() {
  for (auto& [id, s] : slots_) {
    if (s->up) s->node->tick();
  }
}

void Cluster::enqueue(Message m) {
  if (on_send) on_send(m);
  if (options_.record_sent) sent_log_.push_back(m);
  in_flight_.push_back({std::move(m), next_sequence_++});
}

void Cluster::apply(Slot& s, const Entry& e) {
  if (e.index <= s.applied_index) return;
  s.applied_index = e.index;
  if (options_.digest_applied) s.digest = fold_entry(s.digest, e);
  if (options_.record_applied) {
    s.applied.push_back({e.index, e.term, e.type, std::string(e.data.view())});
  }
}

bool Cluster::process_ready(NodeId id) {
  Slot& s = slot(id);
  if (!s.up || !s.node->has_ready()) return false;
  Ready rd = s.node->ready();
  for (auto& m : rd.messages) enqueue(std::move(m));
  if (rd.snapshot) {
    s.storage->apply_snapshot(*rd.snapshot);
    auto [index, digest] = decode_state(rd.snapshot->data.view());
    (void)index;
    s.applied_index = rd.snapshot->meta.index;
    s.digest = digest;
  }
  if (!rd.entries.empty()) s.storage->append(rd.entries);
  if (rd.hard_state) s.storage->set_hard_state(*rd.hard_state);
  for (auto& m : rd.messages_after_persist) enqueue(std::move(m));
  for (const auto& e : rd.committed_entries) apply(s, e);
  for (auto& r : rd.read_states) s.read_states.push_back(std::move(r));
  s.node->advance();
  return true;
}

void Cluster::process_all() {
  for (int round = 0; round < 1000; ++round) {
    bool any = false;
    for (auto& [id, s] : slots_) any |= process_ready(id);
    if (!any) return;
  }
}

bool Cluster::stabilize(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    process_all();
    if (in_flight_.empty()) return true;
    // Deliver what is in flight now; replies are queued for the next round.
    std::vector<InFlight> batch = std::move(in_flight_);
    in_flight_.clear();
    for (auto& f : batch) {
      const Message& m = f.message;
      if (!link_up(m.from, m.to) || !slots_.count(m.to) || !is_up(m.to)) continue;
      node(m.to).step(m);
    }
  }
  return false;
}

bool Cluster::elect(NodeId id) {
  node(id).campaign();
  stabilize();
  return node(id).role() == Role::Leader;
}

NodeId Cluster::leader() const {
  NodeId best = kNoNode;
  Term best_term = 0;
  for (const auto& [id, s] : slots_) {
    if (s->up && s->node->role() == Role::Leader && s->node->term() >= best_term) {
      best = id;
      best_term = s->node->term();
    }
  }
  return best;
}

ProposeResult Cluster::propose(NodeId id, std::string data, std::uint32_t tag) {
  return node(id).propose(Proposal{tag, Bytes(std::move(data))});
}

ProposeResult Cluster::propose_batch(NodeId id, const std::vector<std::string>& data) {
  std::vector<Proposal> batch;
  batch.reserve(data.size());
  for (const auto& d : data) batch.push_back({0, Bytes(d)});
  return node(id).propose(batch);
}

ProposeResult Cluster::propose_conf_change(NodeId id, const ConfChange& change) {
  return node(id).propose_conf_change(change);
}

const std::vector<AppliedEntry>& Cluster::applied(NodeId id) const { return slot(id).applied; }

std::vector<std::string> Cluster::applied_data(NodeId id) const {
  std::vector<std::string> out;
  for (const auto& e : slot(id).applied) {
    if (e.type == EntryType::Normal && !e.data.empty()) out.push_back(e.data);
  }
  return out;
}

std::vector<ReadState> Cluster::take_read_states(NodeId id) {
  return std::exchange(slot(id).read_states, {});
}

Index Cluster::applied_index(NodeId id) const { return slot(id).applied_index; }

std::uint64_t Cluster::state_digest(NodeId id) const { return slot(id).digest; }

void Cluster::compact(NodeId id, Index keep_entries) {
  Slot& s = slot(id);
  if (!s.up || s.applied_index == 0) return;
  auto conf = s.node->conf_state_at(s.applied_index);
  if (!conf) return;
  if (s.storage->create_snapshot(s.applied_index, *conf,
                                 Bytes(encode_state(s.applied_index, s.digest))) !=
      StorageError::None) {
    return;
  }
  if (s.applied_index > keep_entries) s.storage->compact(s.applied_index - keep_entries);
}

Message Cluster::deliver(std::size_t i) {
  Message m = std::move(in_flight_.at(i).message);
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i));
  if (link_up(m.from, m.to) && slots_.count(m.to) && is_up(m.to)) node(m.to).step(m);
  return m;
}

void Cluster::drop(std::size_t i) {
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i));
}

void Cluster::duplicate(std::size_t i) {
  InFlight copy = in_flight_.at(i);
  copy.sequence = next_sequence_++;
  in_flight_.push_back(std::move(copy));
}

void Cluster::cut(NodeId a, NodeId b) {
  cut_links_.insert({a, b});
  cut_links_.insert({b, a});
}

void Cluster::isolate(NodeId id) {
  for (const auto& [other, s] : slots_) {
    if (other != id) cut(id, other);
  }
}

void Cluster::partition(const std::vector<std::vector<NodeId>>& groups) {
  for (std::size_t i = 0; i < groups.size(); ++i) {
    for (std::size_t j = i + 1; j < groups.size(); ++j) {
      for (NodeId a : groups[i]) {
        for (NodeId b : groups[j]) cut(a, b);
      }
    }
  }
}

void Cluster::heal() { cut_links_.clear(); }

bool Cluster::link_up(NodeId from, NodeId to) const { return !cut_links_.count({from, to}); }

}  // namespace synod::raft::testing
