#include "quorum.h"

#include <algorithm>

namespace synod::raft {

Index majority_committed(const std::vector<NodeId>& voters,
                         const std::function<Index(NodeId)>& match_of) {
  if (voters.empty()) return std::numeric_limits<Index>::max();
  // Small groups are the norm: sort a copy on the stack-sized vector.
  std::vector<Index> matches;
  matches.reserve(voters.size());
  for (NodeId id : voters) matches.push_back(match_of(id));
  std::sort(matches.begin(), matches.end(), std::greater<>());
  return matches[voters.size() / 2];
}

VoteResult majority_vote(const std::vector<NodeId>& voters,
                         const std::function<std::optional<bool>(NodeId)>& vote_of) {
  if (voters.empty()) return VoteResult::Won;
  std::size_t granted = 0;
  std::size_t missing = 0;
  for (NodeId id : voters) {
    auto vote = vote_of(id);
    if (!vote) {
      ++missing;
    } else if (*vote) {
      ++granted;
    }
  }
  const std::size_t quorum = voters.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::Won;
  if (granted + missing >= quorum) return VoteResult::Pending;
  return VoteResult::Lost;
}

Index joint_committed(const ConfState& conf, const std::function<Index(NodeId)>& match_of) {
  return std::min(majority_committed(conf.voters, match_of),
                  majority_committed(conf.voters_outgoing, match_of));
}

VoteResult joint_vote(const ConfState& conf,
                      const std::function<std::optional<bool>(NodeId)>& vote_of) {
  const VoteResult incoming = majority_vote(conf.voters, vote_of);
  const VoteResult outgoing = majority_vote(conf.voters_outgoing, vote_of);
  if (incoming == outgoing) return incoming;
  if (incoming == VoteResult::Lost || outgoing == VoteResult::Lost) return VoteResult::Lost;
  return VoteResult::Pending;
}

}  // namespace synod::raft
