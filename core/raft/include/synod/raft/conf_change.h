// Membership changes by joint consensus (Raft thesis §4.3).
//
// A ConfChange is a list of single changes plus a transition. A change that alters at
// most one voter may be applied directly ("simple"); anything else enters a joint
// configuration in which both the old and the new voter sets must agree, and a second,
// empty ConfChange leaves it. With Transition::Auto the leader proposes that second change
// itself as soon as the joint configuration is committed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synod/raft/types.h"

namespace synod::raft {

enum class ConfChangeOp : std::uint8_t {
  AddVoter = 0,
  AddLearner = 1,
  RemoveNode = 2,
};

struct ConfChangeSingle {
  ConfChangeOp op = ConfChangeOp::AddVoter;
  NodeId node = kNoNode;
  friend bool operator==(const ConfChangeSingle&, const ConfChangeSingle&) = default;
};

enum class ConfChangeTransition : std::uint8_t {
  // Simple change when possible, otherwise joint with automatic leave.
  Auto = 0,
  // Always joint; leave automatically.
  JointImplicit = 1,
  // Always joint; the host proposes the empty ConfChange that leaves.
  JointExplicit = 2,
};

struct ConfChange {
  ConfChangeTransition transition = ConfChangeTransition::Auto;
  std::vector<ConfChangeSingle> changes;

  // An empty change is the request to leave a joint configuration.
  bool leaves_joint() const { return changes.empty(); }
  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// Compact, versioned binary form stored as the payload of EntryType::ConfChange entries.
std::string encode_conf_change(const ConfChange& change);
// Returns nullopt for bytes that are not a well-formed encoding.
std::optional<ConfChange> decode_conf_change(std::string_view bytes);

// The outcome of applying a change to a configuration.
struct ConfChangeResult {
  bool ok = false;
  std::string error;  // why the change was refused, when !ok
  ConfState conf;
};

// The first entry of every member's log when a group is created: index 1, term 1, a
// configuration change from nothing to `voters` plus `learners`. Storing it in the log
// (rather than only in metadata) lets a member that joins later learn the initial
// configuration by replication, like any other entry. Every founding member's storage
// starts with this entry and the hard state {term 1, no vote, commit 1}.
Entry make_bootstrap_entry(const std::vector<NodeId>& voters,
                           const std::vector<NodeId>& learners = {});

// Applies `change` to `current`. From an empty configuration every change is applied
// directly (there is no old majority to preserve). Refuses changes that are not valid from
// `current`: entering a joint state while joint, leaving while not joint, removing every voter, a
// node listed twice, or node id 0.
ConfChangeResult apply_conf_change(const ConfState& current, const ConfChange& change);

}  // namespace synod::raft
