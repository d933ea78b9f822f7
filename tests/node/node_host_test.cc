#include "synod/node/node_host.h"

#include <gtest/gtest.h>

#include <string>

#include "sim_cluster.h"

namespace synod::node::testing {
namespace {

raft::Bytes bytes(const std::string& s) { return raft::Bytes(s); }

// Proposes at whoever leads `partition` now and records the result.
struct Outcome {
  bool done = false;
  ReplicationResult result;
};

std::shared_ptr<Outcome> propose(SimCluster& cluster, NodeId at, PartitionId partition,
                                 const std::string& data, std::uint32_t type = 1) {
  auto outcome = std::make_shared<Outcome>();
  cluster.host(at).replicate(partition, type, bytes(data), [outcome](const ReplicationResult& r) {
    outcome->done = true;
    outcome->result = r;
  });
  return outcome;
}

std::vector<std::string> payloads(const std::vector<CommittedEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.emplace_back(e.payload.view());
  return out;
}

TEST(NodeHost, ElectsOneLeaderPerPartitionThatEveryNodeAgreesOn) {
  SimCluster cluster({1, 2, 3}, 4);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  for (NodeId id : cluster.members()) {
    EXPECT_EQ(cluster.host(id).partitions(), (std::vector<PartitionId>{0, 1, 2, 3, 4}));
    EXPECT_FALSE(cluster.node(id).leader_changes.empty()) << "leader changes are reported";
  }
}

TEST(NodeHost, ReplicatesAndDeliversEntriesInLogOrderOnEveryNode) {
  SimCluster cluster({1, 2, 3}, 2);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < 50; ++i) {
    const PartitionId partition = 1 + i % 2;
    outcomes.push_back(
        propose(cluster, cluster.agreed_leader(partition), partition, "v" + std::to_string(i)));
  }
  ASSERT_TRUE(cluster.run_until([&] {
    for (const auto& o : outcomes) {
      if (!o->done) return false;
    }
    return true;
  }));
  Index last_index[3] = {0, 0, 0};
  for (int i = 0; i < 50; ++i) {
    const auto& r = outcomes[i]->result;
    ASSERT_EQ(r.status, Status::Ok) << to_string(r.status);
    const PartitionId partition = 1 + i % 2;
    EXPECT_GT(r.index, last_index[partition]) << "indexes grow in proposal order";
    last_index[partition] = r.index;
  }
  ASSERT_TRUE(cluster.run_until([&] {
    for (NodeId id : cluster.members()) {
      if (cluster.node(id).applied[1].size() != 25 || cluster.node(id).applied[2].size() != 25) {
        return false;
      }
    }
    return true;
  }));
  for (NodeId id : cluster.members()) {
    EXPECT_EQ(payloads(cluster.node(id).applied[1]), payloads(cluster.node(1).applied[1]));
    const auto& entries = cluster.node(id).applied[1];
    for (std::size_t i = 1; i < entries.size(); ++i) {
      EXPECT_LT(entries[i - 1].index, entries[i].index);
    }
  }
  EXPECT_EQ(payloads(cluster.node(2).applied[2]).front(), "v1");
}

TEST(NodeHost, AnswersBadRequestsWithAStatus) {
  SimCluster cluster({1, 2, 3}, 1, 1, [](NodeHostConfig& c) { c.max_payload_bytes = 16; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  const NodeId follower = leader == 1 ? 2 : 1;

  auto unknown = propose(cluster, leader, 99, "x");
  auto too_large = propose(cluster, leader, 1, std::string(17, 'x'));
  auto reserved = propose(cluster, leader, 1, "x", 0);
  auto not_leader = propose(cluster, follower, 1, "x");
  cluster.run_for(milliseconds(50));
  ASSERT_TRUE(unknown->done && too_large->done && reserved->done && not_leader->done);
  EXPECT_EQ(unknown->result.status, Status::UnknownPartition);
  EXPECT_EQ(too_large->result.status, Status::PayloadTooLarge);
  EXPECT_EQ(reserved->result.status, Status::InvalidArgument);
  EXPECT_EQ(not_leader->result.status, Status::NotLeader);
  EXPECT_EQ(not_leader->result.leader_hint, leader);
  EXPECT_EQ(cluster.host(leader).transfer_leadership(99, 2), Status::UnknownPartition);
  EXPECT_EQ(cluster.host(follower).transfer_leadership(1, leader), Status::NotLeader);
  // A target that is not a voter, or no node at all: refused at once, not dropped later.
  EXPECT_EQ(cluster.host(leader).transfer_leadership(1, 42), Status::InvalidArgument);
  EXPECT_EQ(cluster.host(leader).transfer_leadership(1, raft::kNoNode), Status::InvalidArgument);
  EXPECT_EQ(cluster.host(leader).transfer_leadership(1, leader), Status::Ok);  // it leads
  EXPECT_EQ(cluster.host(leader).report_applied(99, 1), Status::UnknownPartition);
}

TEST(NodeHost, RefusesRequestsBeyondTheQueueBound) {
  SimCluster cluster({1, 2, 3}, 1, 1, [](NodeHostConfig& c) { c.max_queued_requests = 2; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  std::vector<std::shared_ptr<Outcome>> outcomes;
  // Queued without letting the world run: the third and later find the queue full.
  for (int i = 0; i < 5; ++i) outcomes.push_back(propose(cluster, leader, 1, "x"));
  for (int i = 2; i < 5; ++i) {
    ASSERT_TRUE(outcomes[i]->done);
    EXPECT_EQ(outcomes[i]->result.status, Status::QueueFull);
  }
  ASSERT_TRUE(cluster.run_until([&] { return outcomes[0]->done && outcomes[1]->done; }));
  EXPECT_EQ(outcomes[0]->result.status, Status::Ok);
  EXPECT_EQ(outcomes[1]->result.status, Status::Ok);
}

TEST(NodeHost, ElectsANewLeaderAfterTheLeaderCrashesAndKeepsCommittedEntries) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId old_leader = cluster.agreed_leader(1);
  auto before = propose(cluster, old_leader, 1, "before");
  ASSERT_TRUE(cluster.run_until([&] { return before->done; }));
  ASSERT_EQ(before->result.status, Status::Ok);

  cluster.crash(old_leader);
  NodeId new_leader = raft::kNoNode;
  ASSERT_TRUE(cluster.run_until([&] {
    new_leader = cluster.agreed_leader(1);
    return new_leader != raft::kNoNode;
  }));
  EXPECT_NE(new_leader, old_leader);
  auto after = propose(cluster, new_leader, 1, "after");
  ASSERT_TRUE(cluster.run_until([&] { return after->done; }));
  ASSERT_EQ(after->result.status, Status::Ok);

  cluster.start(old_leader);
  ASSERT_TRUE(cluster.run_until([&] {
    return payloads(cluster.node(old_leader).applied[1]) ==
           std::vector<std::string>{"before", "after"};
  })) << "the restarted node replays its log and catches up";
}

TEST(NodeHost, AfterARestartDeliversOnlyEntriesAboveTheAppliedFloor) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  const NodeId follower = leader == 3 ? 2 : 3;
  for (const char* data : {"a", "b", "c"}) {
    auto o = propose(cluster, leader, 1, data);
    ASSERT_TRUE(cluster.run_until([&] { return o->done; }));
  }
  ASSERT_TRUE(cluster.run_until([&] { return cluster.node(follower).applied[1].size() == 3; }));
  const Index floor = cluster.node(follower).applied[1][1].index;  // "b"
  ASSERT_EQ(cluster.host(follower).report_applied(1, floor), Status::Ok);
  // Let a cycle persist the floor (it rides with the next storage batch, synced or not).
  auto sync = propose(cluster, leader, 1, "d");
  ASSERT_TRUE(cluster.run_until([&] { return sync->done; }));
  ASSERT_TRUE(cluster.run_until([&] { return cluster.node(follower).applied[1].size() == 4; }));
  ASSERT_EQ(cluster.node(follower).store->applied_floor(1), floor);

  cluster.crash(follower);
  cluster.start(follower);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.node(follower).applied[1].size() == 2; }));
  cluster.run_for(milliseconds(200));
  EXPECT_EQ(payloads(cluster.node(follower).applied[1]), (std::vector<std::string>{"c", "d"}));
}

TEST(NodeHost, StopCompletesEveryPendingRequestWithShuttingDown) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  auto queued = propose(cluster, leader, 1, "queued");
  bool read_done = false;
  ReadResult read;
  cluster.host(leader).read_index(1, [&](const ReadResult& r) {
    read_done = true;
    read = r;
  });
  cluster.host(leader).stop();
  ASSERT_TRUE(queued->done);
  EXPECT_EQ(queued->result.status, Status::ShuttingDown);
  ASSERT_TRUE(read_done);
  EXPECT_EQ(read.status, Status::ShuttingDown);
  auto late = propose(cluster, leader, 1, "late");
  ASSERT_TRUE(late->done);
  EXPECT_EQ(late->result.status, Status::ShuttingDown);
  cluster.host(leader).stop();  // idempotent
}

TEST(NodeHost, ReadIndexOnAFollowerCoversEveryAcknowledgedWrite) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  const NodeId follower = leader == 1 ? 2 : 1;
  auto write = propose(cluster, leader, 1, "w");
  ASSERT_TRUE(cluster.run_until([&] { return write->done; }));
  ASSERT_EQ(write->result.status, Status::Ok);
  bool done = false;
  ReadResult read;
  cluster.host(follower).read_index(1, [&](const ReadResult& r) {
    done = true;
    read = r;
  });
  ASSERT_TRUE(cluster.run_until([&] { return done; }));
  ASSERT_EQ(read.status, Status::Ok);
  EXPECT_GE(read.index, write->result.index);
  EXPECT_EQ(payloads(cluster.node(follower).applied[1]).back(), "w")
      << "the follower applied the write before answering";
}

TEST(NodeHost, AProposalThatCannotCommitTimesOut) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  cluster.network().isolate(leader);
  auto stuck = propose(cluster, leader, 1, "stuck");
  ASSERT_TRUE(cluster.run_until([&] { return stuck->done; }, milliseconds(10000)));
  EXPECT_TRUE(stuck->result.status == Status::Timeout || stuck->result.status == Status::Dropped)
      << to_string(stuck->result.status);
}

TEST(NodeHost, HandsLeadershipToAnotherNode) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  const NodeId target = leader == 3 ? 1 : leader + 1;
  ASSERT_EQ(cluster.host(leader).transfer_leadership(1, target), Status::Ok);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.agreed_leader(1) == target; }));
}

TEST(NodeHost, GroupsTheWritesOfManyPartitionsIntoFewSyncs) {
  SimCluster cluster({1, 2, 3}, 16);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  std::vector<std::shared_ptr<Outcome>> outcomes;
  const auto syncs_before = cluster.node(1).store->syncs();
  const auto entries_before = cluster.node(1).store->entries_written();
  for (int round = 0; round < 10; ++round) {
    for (PartitionId p = 1; p <= 16; ++p) {
      outcomes.push_back(propose(cluster, cluster.agreed_leader(p), p, "x"));
    }
  }
  ASSERT_TRUE(cluster.run_until([&] {
    for (const auto& o : outcomes) {
      if (!o->done) return false;
    }
    return true;
  }));
  const auto syncs = cluster.node(1).store->syncs() - syncs_before;
  const auto entries = cluster.node(1).store->entries_written() - entries_before;
  EXPECT_GE(entries, 160u);
  EXPECT_LT(syncs * 4, entries) << syncs << " syncs for " << entries << " entries";
}

TEST(NodeHost, RejectsAnUnusableConfiguration) {
  storage::MemoryLogStore store;
  env::SimulatedWorld world(1);
  transport::InMemoryNetwork network(world, world, world.random());
  transport::InMemoryTransport endpoint(network, 1, 1);
  NodeHostConfig c;
  c.node_id = 1;
  c.initial_members = {2, 3};
  c.store = &store;
  c.transport = &endpoint;
  c.clock = &world;
  c.scheduler = &world;
  c.executor = &world;
  std::string error;
  EXPECT_EQ(NodeHost::create(c, &error), nullptr);
  EXPECT_NE(error.find("initial_members"), std::string::npos) << error;
  c.initial_members = {1, 2, 3};
  c.store = nullptr;
  EXPECT_EQ(NodeHost::create(c, &error), nullptr);
  c.store = &store;
  c.node_id = 0;
  EXPECT_EQ(NodeHost::create(c, &error), nullptr);
}

}  // namespace
}  // namespace synod::node::testing

namespace synod::node::testing {
namespace {

TEST(NodeHostBatch, AnswersEveryEntryOfABatchInOrder) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  std::vector<NodeHost::BatchEntry> entries;
  for (int i = 0; i < 5; ++i) entries.push_back({1, raft::Bytes("b" + std::to_string(i))});
  std::vector<ReplicationResult> results;
  cluster.host(leader).replicate_batch(
      1, std::move(entries), [&](const std::vector<ReplicationResult>& r) { results = r; });
  ASSERT_TRUE(cluster.run_until([&] { return !results.empty(); }));
  ASSERT_EQ(results.size(), 5u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status, Status::Ok);
    if (i > 0) {
      EXPECT_EQ(results[i].index, results[i - 1].index + 1);
    }
  }
  ASSERT_TRUE(cluster.run_until([&] { return cluster.node(leader).applied[1].size() == 5; }));
  EXPECT_EQ(payloads(cluster.node(leader).applied[1]),
            (std::vector<std::string>{"b0", "b1", "b2", "b3", "b4"}));
}

TEST(NodeHostBatch, RefusesAWholeBatchThatDoesNotFitOrIsMalformed) {
  SimCluster cluster({1, 2, 3}, 1, 1, [](NodeHostConfig& c) { c.max_queued_requests = 3; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  auto run = [&](std::vector<NodeHost::BatchEntry> entries, PartitionId partition = 1) {
    std::vector<ReplicationResult> results;
    cluster.host(leader).replicate_batch(
        partition, std::move(entries),
        [&](const std::vector<ReplicationResult>& r) { results = r; });
    return results;
  };
  auto too_many = run(std::vector<NodeHost::BatchEntry>(4, {1, raft::Bytes("x")}));
  ASSERT_EQ(too_many.size(), 4u);
  for (const auto& r : too_many) EXPECT_EQ(r.status, Status::QueueFull);
  auto reserved = run({{1, raft::Bytes("x")}, {0, raft::Bytes("y")}});
  ASSERT_EQ(reserved.size(), 2u);
  EXPECT_EQ(reserved[0].status, Status::InvalidArgument) << "nothing of a bad batch is queued";
  auto unknown = run({{1, raft::Bytes("x")}}, 42);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].status, Status::UnknownPartition);
  cluster.run_for(milliseconds(200));
  EXPECT_TRUE(cluster.node(leader).applied[1].empty());
}

}  // namespace
}  // namespace synod::node::testing
