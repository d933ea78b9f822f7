// Membership changes as values: the versioned codec and the rules of applying a change.
#include "synod/raft/conf_change.h"

#include <gtest/gtest.h>

namespace synod::raft {
namespace {

ConfChange change(std::vector<ConfChangeSingle> singles,
                  ConfChangeTransition transition = ConfChangeTransition::Auto) {
  return ConfChange{transition, std::move(singles)};
}

ConfChangeSingle add_voter(NodeId id) { return {ConfChangeOp::AddVoter, id}; }
ConfChangeSingle add_learner(NodeId id) { return {ConfChangeOp::AddLearner, id}; }
ConfChangeSingle remove(NodeId id) { return {ConfChangeOp::RemoveNode, id}; }

ConfState voters(std::vector<NodeId> ids, std::vector<NodeId> learners = {}) {
  ConfState c;
  c.voters = std::move(ids);
  c.learners = std::move(learners);
  return c;
}

// --- codec ----------------------------------------------------------------------

TEST(ConfChangeCodec, RoundTripsEveryOpAndTransition) {
  for (auto transition : {ConfChangeTransition::Auto, ConfChangeTransition::JointImplicit,
                          ConfChangeTransition::JointExplicit}) {
    const ConfChange original =
        change({add_voter(1), add_learner(0xfedcba9876543210ULL), remove(77)}, transition);
    auto decoded = decode_conf_change(encode_conf_change(original));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, original);
  }
}

TEST(ConfChangeCodec, RoundTripsTheEmptyLeaveRequest) {
  auto decoded = decode_conf_change(encode_conf_change(ConfChange{}));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->leaves_joint());
}

TEST(ConfChangeCodec, RejectsTruncatedBytes) {
  const std::string good = encode_conf_change(change({add_voter(1), add_voter(2)}));
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_conf_change(good.substr(0, n)).has_value()) << "prefix of " << n;
  }
}

TEST(ConfChangeCodec, RejectsTrailingBytes) {
  EXPECT_FALSE(decode_conf_change(encode_conf_change(change({add_voter(1)})) + '\0').has_value());
}

TEST(ConfChangeCodec, RejectsAnUnknownFormatVersion) {
  std::string bytes = encode_conf_change(change({add_voter(1)}));
  bytes[0] = 2;
  EXPECT_FALSE(decode_conf_change(bytes).has_value());
  bytes[0] = 0;
  EXPECT_FALSE(decode_conf_change(bytes).has_value());
}

TEST(ConfChangeCodec, RejectsAnUnknownTransition) {
  std::string bytes = encode_conf_change(change({add_voter(1)}));
  bytes[1] = 3;
  EXPECT_FALSE(decode_conf_change(bytes).has_value());
}

TEST(ConfChangeCodec, RejectsAnUnknownOp) {
  std::string bytes = encode_conf_change(change({add_voter(1)}));
  bytes[6] = 3;
  EXPECT_FALSE(decode_conf_change(bytes).has_value());
}

TEST(ConfChangeCodec, RejectsAHugeCountWithoutTryingToReadIt) {
  std::string bytes = encode_conf_change(change({add_voter(1)}));
  for (int i = 2; i < 6; ++i) bytes[i] = static_cast<char>(0xff);
  EXPECT_FALSE(decode_conf_change(bytes).has_value());
}

TEST(ConfChangeCodec, RejectsMoreChangesThanAnyGroupCouldHaveEvenWhenWellFormed) {
  std::vector<ConfChangeSingle> many;
  for (NodeId id = 1; id <= 1025; ++id) many.push_back(add_voter(id));
  EXPECT_FALSE(decode_conf_change(encode_conf_change(change(many))).has_value());
  many.pop_back();
  EXPECT_TRUE(decode_conf_change(encode_conf_change(change(many))).has_value());
}

// --- applying -------------------------------------------------------------------

TEST(ApplyConfChange, FromAnEmptyConfigurationAppliesEveryChangeDirectly) {
  auto r = apply_conf_change(ConfState{},
                             change({add_voter(1), add_voter(2), add_voter(3), add_learner(4)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.conf.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(r.conf.learners, (std::vector<NodeId>{4}));
  EXPECT_FALSE(r.conf.is_joint());
}

TEST(ApplyConfChange, AddsOneVoterAsASimpleChange) {
  auto r = apply_conf_change(voters({1, 2, 3}), change({add_voter(4)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.conf.voters, (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_FALSE(r.conf.is_joint());
}

TEST(ApplyConfChange, AddsLearnersWithoutTouchingTheVoters) {
  auto r = apply_conf_change(voters({1, 2, 3}), change({add_learner(5), add_learner(4)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.conf.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(r.conf.learners, (std::vector<NodeId>{4, 5}));
  EXPECT_FALSE(r.conf.is_joint()) << "learners do not change any majority";
}

TEST(ApplyConfChange, PromotesALearnerToVoter) {
  auto r = apply_conf_change(voters({1, 2, 3}, {4}), change({add_voter(4)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.conf.voters, (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_TRUE(r.conf.learners.empty());
}

TEST(ApplyConfChange, DemotesAVoterToLearnerAsASimpleChange) {
  auto r = apply_conf_change(voters({1, 2, 3}), change({add_learner(3)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.conf.voters, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(r.conf.learners, (std::vector<NodeId>{3}));
}

TEST(ApplyConfChange, RemovesVotersAndLearners) {
  auto r = apply_conf_change(voters({1, 2, 3}, {4}), change({remove(4)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.conf.learners.empty());
  r = apply_conf_change(r.conf, change({remove(2)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.conf.voters, (std::vector<NodeId>{1, 3}));
}

TEST(ApplyConfChange, EntersAJointConfigurationWhenMoreThanOneVoterChanges) {
  auto r = apply_conf_change(voters({1, 2, 3}), change({add_voter(4), remove(1)}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.conf.is_joint());
  EXPECT_EQ(r.conf.voters, (std::vector<NodeId>{2, 3, 4}));
  EXPECT_EQ(r.conf.voters_outgoing, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_TRUE(r.conf.auto_leave);
}

TEST(ApplyConfChange, EntersAJointConfigurationForASingleVoterWhenAsked) {
  auto implicit = apply_conf_change(voters({1, 2, 3}),
                                    change({add_voter(4)}, ConfChangeTransition::JointImplicit));
  ASSERT_TRUE(implicit.ok) << implicit.error;
  EXPECT_TRUE(implicit.conf.is_joint());
  EXPECT_TRUE(implicit.conf.auto_leave);

  auto explicit_leave = apply_conf_change(
      voters({1, 2, 3}), change({add_voter(4)}, ConfChangeTransition::JointExplicit));
  ASSERT_TRUE(explicit_leave.ok) << explicit_leave.error;
  EXPECT_TRUE(explicit_leave.conf.is_joint());
  EXPECT_FALSE(explicit_leave.conf.auto_leave);
}

TEST(ApplyConfChange, KeepsADemotedOutgoingVoterInLearnersNextUntilTheJointPhaseEnds) {
  auto joint = apply_conf_change(voters({1, 2, 3}), change({add_learner(3), add_voter(4)}));
  ASSERT_TRUE(joint.ok) << joint.error;
  EXPECT_EQ(joint.conf.voters, (std::vector<NodeId>{1, 2, 4}));
  EXPECT_EQ(joint.conf.voters_outgoing, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_TRUE(joint.conf.learners.empty()) << "3 still votes in the outgoing half";
  EXPECT_EQ(joint.conf.learners_next, (std::vector<NodeId>{3}));

  auto left = apply_conf_change(joint.conf, ConfChange{});
  ASSERT_TRUE(left.ok) << left.error;
  EXPECT_FALSE(left.conf.is_joint());
  EXPECT_EQ(left.conf.voters, (std::vector<NodeId>{1, 2, 4}));
  EXPECT_EQ(left.conf.learners, (std::vector<NodeId>{3}));
  EXPECT_TRUE(left.conf.learners_next.empty());
  EXPECT_FALSE(left.conf.auto_leave);
}

TEST(ApplyConfChange, LeavingAJointConfigurationKeepsTheIncomingVoters) {
  auto joint = apply_conf_change(voters({1, 2, 3}),
                                 change({add_voter(4), add_voter(5), remove(2), remove(3)}));
  ASSERT_TRUE(joint.ok) << joint.error;
  auto left = apply_conf_change(joint.conf, ConfChange{});
  ASSERT_TRUE(left.ok) << left.error;
  EXPECT_EQ(left.conf, voters({1, 4, 5}));
}

TEST(ApplyConfChange, RefusesToEnterAJointConfigurationWhileJoint) {
  auto joint = apply_conf_change(voters({1, 2, 3}), change({add_voter(4), remove(1)}));
  ASSERT_TRUE(joint.ok);
  EXPECT_FALSE(apply_conf_change(joint.conf, change({add_voter(5), remove(2)})).ok);
  EXPECT_FALSE(apply_conf_change(joint.conf, change({add_learner(6)})).ok)
      << "even a simple change must wait for the joint phase to end";
}

TEST(ApplyConfChange, RefusesToLeaveWhenNotJoint) {
  auto r = apply_conf_change(voters({1, 2, 3}), ConfChange{});
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
}

TEST(ApplyConfChange, RefusesToRemoveEveryVoter) {
  EXPECT_FALSE(apply_conf_change(voters({1}), change({remove(1)})).ok);
  EXPECT_FALSE(apply_conf_change(voters({1, 2}, {3}), change({remove(1), remove(2)})).ok);
  EXPECT_FALSE(apply_conf_change(voters({1}), change({add_learner(1)})).ok);
}

TEST(ApplyConfChange, RefusesANodeNamedTwice) {
  EXPECT_FALSE(apply_conf_change(voters({1, 2, 3}), change({add_voter(4), add_learner(4)})).ok);
}

TEST(ApplyConfChange, RefusesTheReservedNodeIdZero) {
  EXPECT_FALSE(apply_conf_change(voters({1, 2, 3}), change({add_learner(kNoNode)})).ok);
  EXPECT_FALSE(apply_conf_change(ConfState{}, change({add_voter(kNoNode)})).ok);
}

TEST(BootstrapEntry, IsTheFirstEntryOfTermOneAndDecodesToTheFoundingMembers) {
  const Entry e = make_bootstrap_entry({1, 2, 3}, {9});
  EXPECT_EQ(e.index, 1u);
  EXPECT_EQ(e.term, 1u);
  EXPECT_EQ(e.type, EntryType::ConfChange);
  auto decoded = decode_conf_change(e.data.view());
  ASSERT_TRUE(decoded.has_value());
  auto applied = apply_conf_change(ConfState{}, *decoded);
  ASSERT_TRUE(applied.ok) << applied.error;
  EXPECT_EQ(applied.conf, voters({1, 2, 3}, {9}));
}

}  // namespace
}  // namespace synod::raft
