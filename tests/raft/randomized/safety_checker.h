// Raft safety invariants, checked against a testing::Cluster after every step of a
// randomized schedule.
//
// The checker keeps its own record of everything it has ever observed (leaders per term,
// every persisted entry by (index, term), every index known committed, every state digest
// per applied index), so a property is checked across all time, not just between the
// nodes that happen to be up. Work per step is proportional to what changed: the driver
// reports which nodes' storage may have been written (storage_changed) and restarts.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "synod/raft/testing/cluster.h"

namespace synod::raft::testing {

class SafetyChecker {
 public:
  explicit SafetyChecker(Cluster& cluster);

  // A node joined the cluster (add_empty_node).
  void node_added(NodeId id);
  // The node's storage may have been written (its Ready was processed, or it compacted).
  void storage_changed(NodeId id);
  void storage_changed_all();
  // The node restarted: a new incarnation with fresh in-memory state.
  void restarted(NodeId id);
  // A ReadIndex request with `context` was issued at `id`; its answer must be at least
  // every index known committed now.
  void read_requested(NodeId id, const std::string& context);

  // Runs every check. Returns false once an invariant is broken; violation() says which.
  bool check();
  const std::string& violation() const { return violation_; }

  // Highest index any node has ever reported committed.
  Index max_commit_seen() const { return max_commit_seen_; }
  // The term of the entry known committed at `index`, or 0 when unknown.
  Term committed_term(Index index) const;
  // Counters for the end-of-run summary.
  std::size_t leaders_seen() const { return leader_of_term_.size(); }
  std::size_t reads_answered() const { return reads_answered_; }

 private:
  struct CachedEntry {
    Index index = 0;
    Term term = 0;
    EntryType type = EntryType::Normal;
    std::uint32_t tag = 0;
    Bytes data;
    std::uint64_t hash = 0;
  };
  struct Tracked {
    bool dirty = true;
    // Mirror of the persisted log, [log.front().index, log.back().index].
    std::deque<CachedEntry> log;
    Index compacted_index = 0;
    Term compacted_term = 0;
    HardState persisted;
    // In-memory commit of the current incarnation.
    Index commit = 0;
    std::size_t applied_seen = 0;
    Index applied_index = 0;
    bool checked_digest = false;
  };
  struct EntryRecord {
    std::uint64_t hash = 0;
    Term prev_term = 0;
  };
  struct Committed {
    Term term = 0;  // 0: not known
    bool has_hash = false;
    std::uint64_t hash = 0;
    // Highest term any node had reached when this index was first seen committed: the
    // term that committed it is at most this, so every leader of a higher term must hold it.
    Term bound = 0;
  };
  struct PendingRead {
    NodeId requester = kNoNode;
    Index required = 0;
  };

  bool fail(std::string message);
  bool sync_storage(NodeId id, Tracked& t);
  bool record_entry(NodeId id, const CachedEntry& e, Term prev_term);
  bool record_committed(NodeId id, Index index, Term term, const std::uint64_t* hash,
                        const char* source);
  bool check_node(NodeId id, Tracked& t);
  bool check_new_leader(NodeId id, Term term);

  Cluster& cluster_;
  std::map<NodeId, Tracked> nodes_;
  std::string violation_;

  std::map<Term, NodeId> leader_of_term_;
  Term max_term_seen_ = 0;
  Index max_commit_seen_ = 0;
  struct IndexTerm {
    Index index = 0;
    Term term = 0;
    friend bool operator==(const IndexTerm&, const IndexTerm&) = default;
  };
  struct IndexTermHash {
    std::size_t operator()(const IndexTerm& k) const {
      return std::hash<std::uint64_t>()(k.index * 0x9e3779b97f4a7c15ULL ^ k.term);
    }
  };
  // (index, term) -> the one entry that may ever carry that pair.
  std::unordered_map<IndexTerm, EntryRecord, IndexTermHash> entries_;
  // Indexed by log index.
  std::vector<Committed> committed_;
  std::unordered_map<Index, std::uint64_t> digest_at_;
  std::unordered_map<std::string, PendingRead> reads_;
  std::size_t reads_answered_ = 0;
};

// Content hash of an entry (type and payload), the same for log and applied copies.
std::uint64_t entry_hash(EntryType type, std::string_view data);

}  // namespace synod::raft::testing
