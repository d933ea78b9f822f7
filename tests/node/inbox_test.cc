// The partition inbox (core/node/src/inbox.h): bounded requests, one unreachable report
// per peer however many envelopes were lost, and closing.
#include <gtest/gtest.h>

#include <vector>

#include "pending_requests.h"

namespace synod::node {
namespace {

QueuedProposal proposal(Status* answer = nullptr) {
  QueuedProposal q;
  q.type = 1;
  q.done = [answer](const ReplicationResult& r) {
    if (answer) *answer = r.status;
  };
  return q;
}

TEST(Inbox, ReportsEachUnreachablePeerOnceHoweverManyEnvelopesWereLost) {
  Inbox inbox(16);
  for (int i = 0; i < 1000; ++i) inbox.note_unreachable(2);
  inbox.note_unreachable(3);
  const InboxContents drained = inbox.drain();
  EXPECT_EQ(drained.unreachable, (std::set<NodeId>{2, 3}));
  EXPECT_TRUE(inbox.empty());
}

TEST(Inbox, QueuesABatchWholeOrRefusesItWhole) {
  Inbox inbox(3);
  std::vector<QueuedProposal> two = {proposal(), proposal()};
  ASSERT_EQ(inbox.push(two), Status::Ok);
  std::vector<QueuedProposal> another_two = {proposal(), proposal()};
  EXPECT_EQ(inbox.push(another_two), Status::QueueFull);
  EXPECT_TRUE(another_two[0].done);  // left for the caller to answer
  QueuedRead read;
  EXPECT_EQ(inbox.push(read), Status::Ok);
  QueuedRead one_too_many;
  EXPECT_EQ(inbox.push(one_too_many), Status::QueueFull);
  EXPECT_EQ(inbox.drain().proposals.size(), 2u);
}

TEST(Inbox, ARetiredInboxHandsBackItsRequestsAndRefusesLaterOnes) {
  Inbox inbox(8);
  Status answered = Status::Ok;
  QueuedProposal queued = proposal(&answered);
  ASSERT_EQ(inbox.push(queued), Status::Ok);
  bool retired = false;
  ClosedInbox closed = inbox.retire([&](Status) { retired = true; });
  answer_all(closed, Status::UnknownPartition);
  EXPECT_EQ(answered, Status::UnknownPartition);
  QueuedProposal later = proposal();
  EXPECT_EQ(inbox.push(later), Status::UnknownPartition);
  EXPECT_EQ(inbox.report_applied(1, 5), Status::UnknownPartition);
  inbox.note_unreachable(2);
  InboxContents drained = inbox.drain();
  EXPECT_TRUE(drained.unreachable.empty());
  ASSERT_TRUE(drained.retire);
  drained.retire(Status::Ok);
  EXPECT_TRUE(retired);
}

TEST(Inbox, AnAppliedReportAboveWhatWasDeliveredIsRefused) {
  Inbox inbox(8);
  EXPECT_EQ(inbox.report_applied(6, 5), Status::InvalidArgument);
  EXPECT_EQ(inbox.report_applied(4, 5), Status::Ok);
  EXPECT_EQ(inbox.report_applied(2, 5), Status::Ok);  // never lowered
  EXPECT_EQ(inbox.take_applied_report(), Index{4});
}

}  // namespace
}  // namespace synod::node
