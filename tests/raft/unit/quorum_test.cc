// Quorum arithmetic: the commit index of a (joint) configuration and election tallies.
#include "quorum.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <utility>

namespace synod::raft {
namespace {

std::function<Index(NodeId)> matches(std::map<NodeId, Index> m) {
  return [m = std::move(m)](NodeId id) {
    auto it = m.find(id);
    return it == m.end() ? Index{0} : it->second;
  };
}

std::function<std::optional<bool>(NodeId)> votes(std::map<NodeId, bool> v) {
  return [v = std::move(v)](NodeId id) -> std::optional<bool> {
    auto it = v.find(id);
    if (it == v.end()) return std::nullopt;
    return it->second;
  };
}

TEST(MajorityCommitted, IsTheHighestIndexThatAMajorityHolds) {
  EXPECT_EQ(majority_committed({1, 2, 3}, matches({{1, 5}, {2, 3}, {3, 1}})), 3u);
  // Four voters need three: the third highest match.
  EXPECT_EQ(majority_committed({1, 2, 3, 4}, matches({{1, 5}, {2, 4}, {3, 3}, {4, 1}})), 3u);
  EXPECT_EQ(majority_committed({1, 2, 3, 4, 5}, matches({{1, 9}, {2, 7}, {3, 5}, {4, 2}, {5, 1}})),
            5u);
}

TEST(MajorityCommitted, DoesNotDependOnTheOrderOfVoters) {
  auto m = matches({{1, 2}, {2, 8}, {3, 6}});
  EXPECT_EQ(majority_committed({1, 2, 3}, m), 6u);
  EXPECT_EQ(majority_committed({3, 1, 2}, m), 6u);
}

TEST(MajorityCommitted, CountsAVoterWithoutProgressAsHoldingNothing) {
  EXPECT_EQ(majority_committed({1, 2, 3}, matches({{1, 7}})), 0u);
  EXPECT_EQ(majority_committed({1, 2, 3}, matches({{1, 7}, {2, 4}})), 4u);
}

TEST(MajorityCommitted, OfASingleVoterIsItsOwnMatch) {
  EXPECT_EQ(majority_committed({4}, matches({{4, 11}})), 11u);
}

TEST(MajorityCommitted, OfAnEmptyVoterSetPlacesNoConstraint) {
  EXPECT_EQ(majority_committed({}, matches({})), std::numeric_limits<Index>::max());
}

TEST(MajorityVote, IsWonByAMajorityOfGrants) {
  EXPECT_EQ(majority_vote({1, 2, 3}, votes({{1, true}, {2, true}})), VoteResult::Won);
  EXPECT_EQ(majority_vote({1, 2, 3, 4}, votes({{1, true}, {2, true}, {3, true}})), VoteResult::Won);
}

TEST(MajorityVote, IsPendingWhileMissingAnswersCouldStillDecideIt) {
  EXPECT_EQ(majority_vote({1, 2, 3}, votes({{1, true}})), VoteResult::Pending);
  EXPECT_EQ(majority_vote({1, 2, 3}, votes({{1, true}, {2, false}})), VoteResult::Pending);
  // Half of an even group is not a majority.
  EXPECT_EQ(majority_vote({1, 2, 3, 4}, votes({{1, true}, {2, true}, {3, false}})),
            VoteResult::Pending);
}

TEST(MajorityVote, IsLostOnceAMajorityCanNoLongerBeReached) {
  EXPECT_EQ(majority_vote({1, 2, 3}, votes({{1, true}, {2, false}, {3, false}})), VoteResult::Lost);
  EXPECT_EQ(majority_vote({1, 2, 3, 4}, votes({{1, true}, {2, true}, {3, false}, {4, false}})),
            VoteResult::Lost);
}

TEST(MajorityVote, IgnoresAnswersFromNonVoters) {
  EXPECT_EQ(majority_vote({1, 2, 3}, votes({{1, true}, {7, true}, {8, true}})),
            VoteResult::Pending);
}

TEST(MajorityVote, OfAnEmptyVoterSetIsWon) {
  EXPECT_EQ(majority_vote({}, votes({})), VoteResult::Won);
}

TEST(JointCommitted, IsTheSmallerOfTheTwoHalves) {
  ConfState joint;
  joint.voters = {1, 2, 3};
  joint.voters_outgoing = {3, 4, 5};
  // A majority of the incoming half holds 8; of the outgoing half only 2.
  auto m = matches({{1, 9}, {2, 8}, {3, 7}, {4, 2}, {5, 0}});
  EXPECT_EQ(joint_committed(joint, m), 2u);
  // The same halves the other way round give the same answer.
  std::swap(joint.voters, joint.voters_outgoing);
  EXPECT_EQ(joint_committed(joint, m), 2u);
}

TEST(JointCommitted, OfAPlainConfigurationIsTheMajorityIndex) {
  ConfState plain;
  plain.voters = {1, 2, 3};
  EXPECT_EQ(joint_committed(plain, matches({{1, 6}, {2, 4}, {3, 1}})), 4u);
}

TEST(JointVote, NeedsBothHalvesToWin) {
  ConfState joint;
  joint.voters = {1, 2, 3};
  joint.voters_outgoing = {1, 4, 5};
  // A majority of the incoming half only.
  EXPECT_EQ(joint_vote(joint, votes({{1, true}, {2, true}})), VoteResult::Pending);
  EXPECT_EQ(joint_vote(joint, votes({{1, true}, {2, true}, {4, true}})), VoteResult::Won);
}

TEST(JointVote, IsLostWhenEitherHalfIsLost) {
  ConfState joint;
  joint.voters = {1, 2, 3};
  joint.voters_outgoing = {1, 4, 5};
  EXPECT_EQ(joint_vote(joint, votes({{1, true}, {2, true}, {3, true}, {4, false}, {5, false}})),
            VoteResult::Lost);
  EXPECT_EQ(joint_vote(joint, votes({{2, false}, {3, false}, {4, true}, {5, true}})),
            VoteResult::Lost);
}

}  // namespace
}  // namespace synod::raft
