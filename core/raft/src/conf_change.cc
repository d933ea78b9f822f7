#include "synod/raft/conf_change.h"

#include <algorithm>
#include <set>

namespace synod::raft {
namespace {

constexpr std::uint8_t kConfChangeFormat = 1;
// Far more than any real group; bounds what a decoder will accept.
constexpr std::size_t kMaxChanges = 1024;

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_u64(std::string_view in, std::size_t pos) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t(std::uint8_t(in[pos + i])) << (8 * i);
  return v;
}

bool contains(const std::vector<NodeId>& set, NodeId id) {
  return std::find(set.begin(), set.end(), id) != set.end();
}
void insert(std::vector<NodeId>& set, NodeId id) {
  if (!contains(set, id)) {
    set.push_back(id);
    std::sort(set.begin(), set.end());
  }
}
void erase(std::vector<NodeId>& set, NodeId id) { std::erase(set, id); }

ConfChangeResult refuse(std::string why) { return {false, std::move(why), {}}; }

}  // namespace

std::string encode_conf_change(const ConfChange& change) {
  std::string out;
  out.reserve(2 + 4 + change.changes.size() * 9);
  out.push_back(static_cast<char>(kConfChangeFormat));
  out.push_back(static_cast<char>(change.transition));
  const auto count = static_cast<std::uint32_t>(change.changes.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((count >> (8 * i)) & 0xff));
  for (const auto& single : change.changes) {
    out.push_back(static_cast<char>(single.op));
    put_u64(out, single.node);
  }
  return out;
}

std::optional<ConfChange> decode_conf_change(std::string_view bytes) {
  if (bytes.size() < 6 || std::uint8_t(bytes[0]) != kConfChangeFormat) return std::nullopt;
  const auto transition = std::uint8_t(bytes[1]);
  if (transition > std::uint8_t(ConfChangeTransition::JointExplicit)) return std::nullopt;
  std::uint32_t count = 0;
  for (int i = 0; i < 4; ++i) count |= std::uint32_t(std::uint8_t(bytes[2 + i])) << (8 * i);
  if (count > kMaxChanges || bytes.size() != 6 + std::size_t(count) * 9) return std::nullopt;
  ConfChange change;
  change.transition = static_cast<ConfChangeTransition>(transition);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t pos = 6 + std::size_t(i) * 9;
    const auto op = std::uint8_t(bytes[pos]);
    if (op > std::uint8_t(ConfChangeOp::RemoveNode)) return std::nullopt;
    change.changes.push_back({static_cast<ConfChangeOp>(op), get_u64(bytes, pos + 1)});
  }
  return change;
}

ConfChangeResult apply_conf_change(const ConfState& current, const ConfChange& change) {
  if (change.leaves_joint()) {
    if (!current.is_joint()) return refuse("not in a joint configuration");
    ConfState next = current;
    next.voters_outgoing.clear();
    for (NodeId id : next.learners_next) insert(next.learners, id);
    next.learners_next.clear();
    next.auto_leave = false;
    return {true, {}, std::move(next)};
  }
  if (current.is_joint()) return refuse("already in a joint configuration; leave it first");

  std::set<NodeId> seen;
  for (const auto& single : change.changes) {
    if (single.node == kNoNode) return refuse("node id 0 is reserved");
    if (!seen.insert(single.node).second) return refuse("a node is named twice in one change");
  }

  // Apply every change to the incoming voter set and the learners.
  std::vector<NodeId> voters = current.voters;
  std::vector<NodeId> learners = current.learners;
  for (const auto& single : change.changes) {
    switch (single.op) {
      case ConfChangeOp::AddVoter:
        erase(learners, single.node);
        insert(voters, single.node);
        break;
      case ConfChangeOp::AddLearner:
        erase(voters, single.node);
        insert(learners, single.node);
        break;
      case ConfChangeOp::RemoveNode:
        erase(voters, single.node);
        erase(learners, single.node);
        break;
    }
  }
  if (voters.empty()) return refuse("the change would remove every voter");

  std::size_t voter_delta = 0;
  for (NodeId id : voters) voter_delta += contains(current.voters, id) ? 0 : 1;
  for (NodeId id : current.voters) voter_delta += contains(voters, id) ? 0 : 1;
  const bool simple = current.voters.empty() ||
                      (change.transition == ConfChangeTransition::Auto && voter_delta <= 1);

  ConfState next;
  next.voters = voters;
  if (simple) {
    next.learners = learners;
    return {true, {}, std::move(next)};
  }
  // Joint: the old voters keep deciding alongside the new ones. A node that is a voter in
  // the outgoing half cannot also be a learner, so demotions wait in learners_next.
  next.voters_outgoing = current.voters;
  for (NodeId id : learners) {
    if (contains(next.voters_outgoing, id)) {
      insert(next.learners_next, id);
    } else {
      insert(next.learners, id);
    }
  }
  next.auto_leave = change.transition != ConfChangeTransition::JointExplicit;
  return {true, {}, std::move(next)};
}

Entry make_bootstrap_entry(const std::vector<NodeId>& voters, const std::vector<NodeId>& learners) {
  ConfChange change;
  for (NodeId id : voters) change.changes.push_back({ConfChangeOp::AddVoter, id});
  for (NodeId id : learners) change.changes.push_back({ConfChangeOp::AddLearner, id});
  Entry e;
  e.index = 1;
  e.term = 1;
  e.type = EntryType::ConfChange;
  e.data = Bytes(encode_conf_change(change));
  return e;
}

}  // namespace synod::raft
