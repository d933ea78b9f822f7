// Quorum arithmetic over a (possibly joint) voter configuration.
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "synod/raft/types.h"

namespace synod::raft {

enum class VoteResult { Pending, Lost, Won };

// The highest index that a majority of `voters` has reached, given each voter's match
// index. An empty voter set places no constraint (returns the largest index) so that a
// joint configuration's empty outgoing half is neutral.
Index majority_committed(const std::vector<NodeId>& voters,
                         const std::function<Index(NodeId)>& match_of);

// Won, Lost or Pending for a majority of `voters`, given each voter's answer (nullopt: no
// answer yet). An empty voter set wins.
VoteResult majority_vote(const std::vector<NodeId>& voters,
                         const std::function<std::optional<bool>(NodeId)>& vote_of);

// Both halves of a joint configuration must agree; a plain one has an empty outgoing half.
Index joint_committed(const ConfState& conf, const std::function<Index(NodeId)>& match_of);
VoteResult joint_vote(const ConfState& conf,
                      const std::function<std::optional<bool>(NodeId)>& vote_of);

}  // namespace synod::raft
