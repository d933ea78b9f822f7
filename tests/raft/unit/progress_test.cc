// The leader's per-follower flow control: the in-flight window and the
// probe / replicate / snapshot states.
#include "progress.h"

#include <gtest/gtest.h>

namespace synod::raft {
namespace {

TEST(Inflights, BecomeFullAtTheMessageBound) {
  Inflights in(3, 0);
  in.add(5, 10);
  in.add(6, 10);
  EXPECT_FALSE(in.full());
  in.add(7, 10);
  EXPECT_TRUE(in.full());
  EXPECT_EQ(in.count(), 3u);
  EXPECT_EQ(in.bytes(), 30u);
}

TEST(Inflights, BecomeFullOnceTheirBytesReachTheByteBound) {
  Inflights in(100, 100);
  in.add(1, 40);
  in.add(2, 40);
  EXPECT_FALSE(in.full());
  in.add(3, 20);
  EXPECT_TRUE(in.full()) << "exactly at the bound counts as full";
  EXPECT_EQ(in.count(), 3u);
}

TEST(Inflights, WithAZeroByteBoundAreLimitedOnlyByMessages) {
  Inflights in(2, 0);
  in.add(1, 1 << 30);
  EXPECT_FALSE(in.full());
  in.add(2, 1 << 30);
  EXPECT_TRUE(in.full());
}

TEST(Inflights, FreeEveryMessageAtOrBelowTheAcknowledgedIndex) {
  Inflights in(3, 100);
  in.add(4, 30);
  in.add(8, 30);
  in.add(12, 40);
  ASSERT_TRUE(in.full());
  in.free_to(8);
  EXPECT_EQ(in.count(), 1u);
  EXPECT_EQ(in.bytes(), 40u);
  EXPECT_FALSE(in.full());
  // An acknowledgement inside a message's range frees nothing: the message is not done.
  in.free_to(11);
  EXPECT_EQ(in.count(), 1u);
  in.free_to(12);
  EXPECT_EQ(in.count(), 0u);
  EXPECT_EQ(in.bytes(), 0u);
}

TEST(Inflights, ResetForgetsEverything) {
  Inflights in(1, 0);
  in.add(3, 9);
  ASSERT_TRUE(in.full());
  in.reset();
  EXPECT_FALSE(in.full());
  EXPECT_EQ(in.bytes(), 0u);
}

Progress make_progress(Index next, std::size_t max_messages = 4, std::size_t max_bytes = 0) {
  return Progress(next, max_messages, max_bytes, false);
}

TEST(ProgressProbe, AllowsOneAppendUntilItIsAnswered) {
  Progress pr = make_progress(6);
  EXPECT_EQ(pr.state, ProgressState::Probe);
  EXPECT_FALSE(pr.paused());
  pr.sent_append(8, 20, true);
  EXPECT_TRUE(pr.paused());
  EXPECT_EQ(pr.next, 6u) << "probe does not advance next optimistically";
  EXPECT_TRUE(pr.maybe_update(8));
  EXPECT_FALSE(pr.paused());
}

TEST(ProgressProbe, PausesAfterAnEmptyProbeToo) {
  Progress pr = make_progress(6);
  pr.sent_append(5, 0, false);
  EXPECT_TRUE(pr.paused());
}

TEST(ProgressReplicate, AdvancesNextOptimisticallyAndPausesWhenTheWindowIsFull) {
  Progress pr = make_progress(6, 2);
  pr.match = 5;
  pr.become_replicate();
  EXPECT_EQ(pr.next, 6u);
  pr.sent_append(7, 10, true);
  EXPECT_EQ(pr.next, 8u);
  EXPECT_FALSE(pr.paused());
  pr.sent_append(9, 10, true);
  EXPECT_EQ(pr.next, 10u);
  EXPECT_TRUE(pr.paused());
  EXPECT_TRUE(pr.maybe_update(7));
  pr.inflights.free_to(7);
  EXPECT_FALSE(pr.paused());
}

TEST(ProgressReplicate, PausesOnTheByteBoundBeforeTheMessageBound) {
  Progress pr = make_progress(1, 100, 50);
  pr.become_replicate();
  pr.sent_append(3, 30, true);
  EXPECT_FALSE(pr.paused());
  pr.sent_append(5, 30, true);
  EXPECT_TRUE(pr.paused());
  EXPECT_EQ(pr.inflights.count(), 2u);
}

TEST(ProgressReplicate, DoesNotSpendTheWindowOnEmptyAppends) {
  Progress pr = make_progress(6, 1);
  pr.match = 5;
  pr.become_replicate();
  pr.sent_append(5, 0, false);
  pr.sent_append(5, 0, false);
  EXPECT_FALSE(pr.paused());
  EXPECT_EQ(pr.next, 6u);
}

TEST(ProgressTransitions, BecomeReplicateRestartsRightAfterTheMatch) {
  Progress pr = make_progress(20);
  pr.match = 9;
  pr.become_replicate();
  EXPECT_EQ(pr.state, ProgressState::Replicate);
  EXPECT_EQ(pr.next, 10u);
}

TEST(ProgressTransitions, BecomeProbeFromReplicateDropsTheWindowAndRestartsAfterTheMatch) {
  Progress pr = make_progress(1, 2);
  pr.match = 3;
  pr.become_replicate();
  pr.sent_append(6, 10, true);
  pr.sent_append(9, 10, true);
  ASSERT_TRUE(pr.paused());
  pr.become_probe();
  EXPECT_EQ(pr.state, ProgressState::Probe);
  EXPECT_EQ(pr.next, 4u);
  EXPECT_EQ(pr.inflights.count(), 0u);
  EXPECT_FALSE(pr.paused());
}

TEST(ProgressTransitions, BecomeSnapshotPausesUntilTheSnapshotIsDone) {
  Progress pr = make_progress(3);
  pr.become_snapshot(50);
  EXPECT_EQ(pr.state, ProgressState::Snapshot);
  EXPECT_EQ(pr.pending_snapshot, 50u);
  EXPECT_TRUE(pr.paused());
}

TEST(ProgressTransitions, BecomeProbeFromSnapshotResumesAfterThePendingSnapshot) {
  Progress pr = make_progress(3);
  pr.match = 2;
  pr.become_snapshot(50);
  pr.become_probe();
  EXPECT_EQ(pr.state, ProgressState::Probe);
  EXPECT_EQ(pr.next, 51u);
  EXPECT_EQ(pr.pending_snapshot, 0u);
}

TEST(ProgressTransitions, BecomeProbeAfterAFailedSnapshotResumesAfterTheMatch) {
  Progress pr = make_progress(3);
  pr.match = 2;
  pr.become_snapshot(50);
  pr.pending_snapshot = 0;  // what report_snapshot(failure) does
  pr.become_probe();
  EXPECT_EQ(pr.next, 3u);
}

TEST(ProgressMaybeUpdate, MovesTheMatchOnlyForward) {
  Progress pr = make_progress(10);
  EXPECT_TRUE(pr.maybe_update(7));
  EXPECT_EQ(pr.match, 7u);
  EXPECT_EQ(pr.next, 10u) << "next never moves back on an acknowledgement";
  EXPECT_FALSE(pr.maybe_update(5));
  EXPECT_EQ(pr.match, 7u);
  EXPECT_TRUE(pr.maybe_update(12));
  EXPECT_EQ(pr.next, 13u);
}

TEST(ProgressMaybeDecrease, InReplicateIgnoresARejectionAtOrBelowTheMatch) {
  Progress pr = make_progress(1);
  pr.match = 8;
  pr.become_replicate();
  pr.sent_append(12, 10, true);
  EXPECT_FALSE(pr.maybe_decrease(8, 3));
  EXPECT_FALSE(pr.maybe_decrease(5, 3));
  EXPECT_EQ(pr.next, 13u);
}

TEST(ProgressMaybeDecrease, InReplicateFallsBackToRightAfterTheMatch) {
  Progress pr = make_progress(1);
  pr.match = 8;
  pr.become_replicate();
  pr.sent_append(12, 10, true);
  EXPECT_TRUE(pr.maybe_decrease(10, 2));
  EXPECT_EQ(pr.next, 9u) << "the hint cannot move next below match + 1";
}

TEST(ProgressMaybeDecrease, InProbeIgnoresARejectionOfAnAppendItDidNotJustSend) {
  Progress pr = make_progress(10);
  pr.sent_append(9, 0, false);
  // The outstanding probe was for index 9; an answer about 7 is from an older probe.
  EXPECT_FALSE(pr.maybe_decrease(7, 2));
  EXPECT_EQ(pr.next, 10u);
  EXPECT_TRUE(pr.paused());
}

TEST(ProgressMaybeDecrease, InProbeJumpsToTheHintAndUnpauses) {
  Progress pr = make_progress(10);
  pr.match = 1;
  pr.sent_append(9, 0, false);
  EXPECT_TRUE(pr.maybe_decrease(9, 4));
  EXPECT_EQ(pr.next, 5u);
  EXPECT_FALSE(pr.paused());
}

TEST(ProgressMaybeDecrease, InProbeNeverGoesBelowMatchNorAboveTheRejectedIndex) {
  Progress low = make_progress(10);
  low.match = 6;
  EXPECT_TRUE(low.maybe_decrease(9, 2));
  EXPECT_EQ(low.next, 7u);

  Progress high = make_progress(10);
  EXPECT_TRUE(high.maybe_decrease(9, 40));
  EXPECT_EQ(high.next, 9u);
}

}  // namespace
}  // namespace synod::raft
