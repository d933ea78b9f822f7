#include "safety_checker.h"

#include <algorithm>
#include <limits>
#include <sstream>
#include <utility>

namespace synod::raft::testing {
namespace {

template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

bool same_entry(const Entry& e, Index index, Term term, EntryType type, std::uint32_t tag,
                const Bytes& data) {
  // The mirror holds a reference to the payload buffer, so an equal address means the very
  // same entry object is still in storage (the buffer cannot have been reused).
  return e.index == index && e.term == term && e.type == type && e.tag == tag &&
         e.data.size() == data.size() && e.data.view().data() == data.view().data();
}

}  // namespace

std::uint64_t entry_hash(EntryType type, std::string_view data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  mix(static_cast<unsigned char>(type));
  for (unsigned char c : data) mix(c);
  return h;
}

SafetyChecker::SafetyChecker(Cluster& cluster) : cluster_(cluster) {
  for (NodeId id : cluster_.ids()) nodes_.try_emplace(id);
}

void SafetyChecker::node_added(NodeId id) { nodes_.try_emplace(id); }

void SafetyChecker::storage_changed(NodeId id) { nodes_.at(id).dirty = true; }

void SafetyChecker::storage_changed_all() {
  for (auto& [id, t] : nodes_) t.dirty = true;
}

void SafetyChecker::restarted(NodeId id) {
  Tracked& t = nodes_.at(id);
  t.dirty = true;
  t.commit = 0;
  t.applied_seen = 0;
  t.applied_index = 0;
  t.checked_digest = false;
}

void SafetyChecker::read_requested(NodeId id, const std::string& context) {
  reads_[context] = {id, max_commit_seen_};
}

Term SafetyChecker::committed_term(Index index) const {
  return index < committed_.size() ? committed_[index].term : 0;
}

bool SafetyChecker::fail(std::string message) {
  if (violation_.empty()) violation_ = std::move(message);
  return false;
}

bool SafetyChecker::check() {
  if (!violation_.empty()) return false;
  // Terms first, so that an index first seen committed in this step gets a bound at least
  // the term of whichever leader committed it.
  for (const auto& [id, t] : nodes_) {
    if (cluster_.is_up(id)) max_term_seen_ = std::max(max_term_seen_, cluster_.node(id).term());
  }
  for (auto& [id, t] : nodes_) {
    if (t.dirty && !sync_storage(id, t)) return false;
    if (cluster_.is_up(id) && !check_node(id, t)) return false;
  }
  // Leaders last: their logs are compared with every commit recorded above.
  for (const auto& [id, t] : nodes_) {
    if (!cluster_.is_up(id)) continue;
    const RawNode& n = cluster_.node(id);
    if (n.role() != Role::Leader) continue;
    const Term term = n.term();
    auto [it, inserted] = leader_of_term_.try_emplace(term, id);
    if (!inserted) {
      if (it->second != id) {
        return fail(
            cat("election safety: nodes ", it->second, " and ", id, " both lead term ", term));
      }
      continue;
    }
    if (!check_new_leader(id, term)) return false;
  }
  return true;
}

bool SafetyChecker::sync_storage(NodeId id, Tracked& t) {
  t.dirty = false;
  const MemoryLogStorage& st = cluster_.storage(id);
  const Index first = st.first_index();
  const Index last = st.last_index();
  if (first - 1 < t.compacted_index) {
    return fail(cat("storage of node ", id, ": compaction point moved back from ",
                    t.compacted_index, " to ", first - 1));
  }
  const HardState hs = st.hard_state();
  max_term_seen_ = std::max(max_term_seen_, hs.term);
  if (first - 1 != t.compacted_index) {
    t.compacted_index = first - 1;
    if (st.term(t.compacted_index, t.compacted_term) != StorageError::None) {
      return fail(cat("storage of node ", id, ": no term at compaction point ", first - 1));
    }
    // A snapshot or compaction point only ever covers committed entries.
    if (!record_committed(id, t.compacted_index, t.compacted_term, nullptr, "snapshot")) {
      return false;
    }
  }
  while (!t.log.empty() && t.log.front().index < first) t.log.pop_front();
  while (!t.log.empty() && t.log.back().index > last) t.log.pop_back();
  // Storage changes only by replacing a suffix: walk down from the top to the highest
  // entry that is still the one we mirrored; everything above it is new.
  std::vector<Entry> fetched;
  while (!t.log.empty()) {
    const CachedEntry& c = t.log.back();
    fetched.clear();
    st.entries(c.index, c.index + 1, std::numeric_limits<std::size_t>::max(), fetched);
    if (fetched.size() == 1 && same_entry(fetched[0], c.index, c.term, c.type, c.tag, c.data)) {
      break;
    }
    t.log.pop_back();
  }
  const Index from = t.log.empty() ? first : t.log.back().index + 1;
  fetched.clear();
  if (from <= last) {
    st.entries(from, last + 1, std::numeric_limits<std::size_t>::max(), fetched);
  }
  Term prev_term = t.log.empty() ? t.compacted_term : t.log.back().term;
  for (Entry& e : fetched) {
    CachedEntry c{e.index, e.term, e.type, e.tag, std::move(e.data), 0};
    c.hash = entry_hash(c.type, c.data.view());
    if (c.index != (t.log.empty() ? first : t.log.back().index + 1)) {
      return fail(cat("storage of node ", id, ": entry ", c.index, " out of place"));
    }
    if (!record_entry(id, c, prev_term)) return false;
    prev_term = c.term;
    t.log.push_back(std::move(c));
  }

  if (hs.term < t.persisted.term) {
    return fail(
        cat("node ", id, ": persisted term went back from ", t.persisted.term, " to ", hs.term));
  }
  if (hs.term == t.persisted.term && t.persisted.vote != kNoNode && hs.vote != t.persisted.vote) {
    return fail(cat("node ", id, ": voted for ", t.persisted.vote, " and then ", hs.vote,
                    " in term ", hs.term));
  }
  if (hs.commit < t.persisted.commit) {
    return fail(cat("node ", id, ": persisted commit went back from ", t.persisted.commit, " to ",
                    hs.commit));
  }
  if (hs.commit > last) {
    return fail(cat("node ", id, ": persisted commit ", hs.commit,
                    " is past the persisted log (last index ", last, ")"));
  }
  // Newly committed entries, and rewritten entries under the commit, are committed now.
  for (Index i = std::max(std::min(t.persisted.commit + 1, from), first); i <= hs.commit; ++i) {
    const CachedEntry& c = t.log[i - first];
    if (!record_committed(id, i, c.term, &c.hash, "persisted commit")) return false;
  }
  t.persisted = hs;
  return true;
}

bool SafetyChecker::record_entry(NodeId id, const CachedEntry& e, Term prev_term) {
  auto [it, inserted] = entries_.try_emplace({e.index, e.term}, EntryRecord{e.hash, prev_term});
  if (inserted) return true;
  if (it->second.hash != e.hash) {
    return fail(cat("log matching: node ", id, " persisted an entry at index ", e.index, " term ",
                    e.term, " whose content differs from another copy of (", e.index, ", ", e.term,
                    ")"));
  }
  if (it->second.prev_term != prev_term) {
    return fail(cat("log matching: node ", id, " holds (", e.index, ", ", e.term,
                    ") after an entry of term ", prev_term, ", another log has it after term ",
                    it->second.prev_term));
  }
  return true;
}

bool SafetyChecker::record_committed(NodeId id, Index index, Term term, const std::uint64_t* hash,
                                     const char* source) {
  if (index == 0) return true;
  if (index >= committed_.size()) committed_.resize(index + 1);
  Committed& c = committed_[index];
  max_commit_seen_ = std::max(max_commit_seen_, index);
  if (c.term == 0) {
    c.term = term;
    c.bound = max_term_seen_;
    if (hash) {
      c.has_hash = true;
      c.hash = *hash;
    }
    return true;
  }
  if (c.term != term || (hash && c.has_hash && c.hash != *hash)) {
    return fail(cat("state machine safety: node ", id, " has (", index, ", term ", term,
                    ") as committed (", source, "), but a different entry (term ", c.term,
                    ") was committed at that index before"));
  }
  if (hash && !c.has_hash) {
    c.has_hash = true;
    c.hash = *hash;
  }
  return true;
}

bool SafetyChecker::check_node(NodeId id, Tracked& t) {
  const RawNode& n = cluster_.node(id);
  const Index commit = n.commit_index();
  if (commit < t.commit) {
    return fail(cat("node ", id, ": commit index went back from ", t.commit, " to ", commit));
  }
  t.commit = commit;
  max_commit_seen_ = std::max(max_commit_seen_, commit);

  const auto& applied = cluster_.applied(id);
  for (; t.applied_seen < applied.size(); ++t.applied_seen) {
    const AppliedEntry& e = applied[t.applied_seen];
    const std::uint64_t hash = entry_hash(e.type, e.data);
    if (!record_committed(id, e.index, e.term, &hash, "applied")) return false;
  }
  const Index applied_index = cluster_.applied_index(id);
  if (applied_index != t.applied_index || !t.checked_digest) {
    if (applied_index < t.applied_index) {
      return fail(cat("node ", id, ": applied index went back from ", t.applied_index, " to ",
                      applied_index));
    }
    if (applied_index > commit) {
      return fail(cat("node ", id, ": applied ", applied_index, " past its commit ", commit));
    }
    const std::uint64_t digest = cluster_.state_digest(id);
    auto [it, inserted] = digest_at_.try_emplace(applied_index, digest);
    if (!inserted && it->second != digest) {
      return fail(cat("state machine safety: node ", id, " state at applied index ", applied_index,
                      " differs from another node's state at that index"));
    }
    t.applied_index = applied_index;
    t.checked_digest = true;
  }

  for (const ReadState& rs : cluster_.take_read_states(id)) {
    auto it = reads_.find(rs.context);
    if (it == reads_.end()) {
      return fail(cat("node ", id, ": read state for unknown context '", rs.context, "'"));
    }
    if (it->second.requester != id) {
      return fail(cat("node ", id, ": got the answer to read '", rs.context, "' asked at node ",
                      it->second.requester));
    }
    if (rs.index < it->second.required) {
      return fail(cat("linearizability: ReadIndex '", rs.context, "' at node ", id,
                      " returned index ", rs.index, " but index ", it->second.required,
                      " was committed before the request"));
    }
    ++reads_answered_;
  }
  return true;
}

bool SafetyChecker::check_new_leader(NodeId id, Term term) {
  // A candidate persists its whole log before asking for votes, so the persisted log of a
  // new leader holds at least the log it was elected with.
  const Tracked& t = nodes_.at(id);
  const Index last = t.log.empty() ? t.compacted_index : t.log.back().index;
  for (Index i = std::max<Index>(t.compacted_index, 1); i < committed_.size(); ++i) {
    const Committed& c = committed_[i];
    if (c.term == 0 || c.bound >= term) continue;
    if (i > last) {
      return fail(cat("leader completeness: node ", id, " leads term ", term,
                      " without committed entry (", i, ", term ", c.term, "); its log ends at ",
                      last));
    }
    Term have = t.compacted_term;
    bool content_differs = false;
    if (i != t.compacted_index) {
      const CachedEntry& e = t.log[i - t.compacted_index - 1];
      have = e.term;
      content_differs = c.has_hash && c.hash != e.hash;
    }
    if (have != c.term || content_differs) {
      return fail(cat("leader completeness: node ", id, " leads term ", term, " with (", i,
                      ", term ", have, ") but (", i, ", term ", c.term, ") was committed"));
    }
  }
  return true;
}

}  // namespace synod::raft::testing
