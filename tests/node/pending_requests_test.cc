// Waiting proposals (core/node/src/pending_requests.h) answered by a snapshot the host
// installed instead of by their entries: the answer must follow from the snapshot's last
// term, never "Dropped" for a proposal that may have committed.
#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "pending_requests.h"

namespace synod::node {
namespace {

struct Answers {
  std::vector<ReplicationResult> results;
};

// Proposals of `term` at consecutive indexes from `first`, each answering into `answers`.
void propose(PendingRequests& pending, Index first, Term term, int count, Answers& answers) {
  std::deque<QueuedProposal> proposals;
  for (int i = 0; i < count; ++i) {
    QueuedProposal q;
    q.type = 1;
    q.deadline = env::TimePoint::max();
    q.done = [&answers](const ReplicationResult& r) { answers.results.push_back(r); };
    proposals.push_back(std::move(q));
  }
  pending.add_proposals(first, term, proposals);
}

raft::SnapshotMeta snapshot_at(Index index, Term term) {
  raft::SnapshotMeta meta;
  meta.index = index;
  meta.term = term;
  return meta;
}

TEST(PendingRequests, ASnapshotOfTheProposalsTermCommitsThem) {
  PendingRequests pending;
  Answers answers;
  propose(pending, 5, 3, 3, answers);  // 5, 6, 7 in term 3
  pending.on_snapshot_installed(snapshot_at(9, 3));
  ASSERT_EQ(answers.results.size(), 3u);
  for (const auto& r : answers.results) EXPECT_EQ(r.status, Status::Ok) << r.index;
  EXPECT_EQ(answers.results[2].index, 7u);
  EXPECT_EQ(answers.results[2].term, 3u);
}

// The answers of two proposals of `term` at 5 and 6 once a snapshot through 9 of
// `snapshot_term` is installed.
std::vector<Status> answers_after_snapshot(Term term, Term snapshot_term) {
  PendingRequests pending;
  Answers answers;
  propose(pending, 5, term, 2, answers);
  pending.on_snapshot_installed(snapshot_at(9, snapshot_term));
  std::vector<Status> statuses;
  for (const auto& r : answers.results) statuses.push_back(r.status);
  return statuses;
}

TEST(PendingRequests, ASnapshotOfAnEarlierTermDropsLaterProposals) {
  EXPECT_EQ(answers_after_snapshot(4, 3), (std::vector<Status>{Status::Dropped, Status::Dropped}));
}

TEST(PendingRequests, ASnapshotOfALaterTermLeavesTheOutcomeUnknown) {
  // The new leader may have kept them or not: never "Dropped", which promises they did not
  // commit and invites a retry that would apply them twice.
  EXPECT_EQ(answers_after_snapshot(2, 3), (std::vector<Status>{Status::Timeout, Status::Timeout}));
}

TEST(PendingRequests, ProposalsAboveTheSnapshotWaitForTheirEntries) {
  PendingRequests pending;
  Answers answers;
  propose(pending, 8, 3, 3, answers);  // 8, 9, 10
  pending.on_snapshot_installed(snapshot_at(9, 3));
  ASSERT_EQ(answers.results.size(), 2u);
  pending.on_committed(10, 3, nullptr);
  ASSERT_EQ(answers.results.size(), 3u);
  EXPECT_EQ(answers.results[2].status, Status::Ok);
  EXPECT_EQ(answers.results[2].index, 10u);
}

}  // namespace
}  // namespace synod::node
