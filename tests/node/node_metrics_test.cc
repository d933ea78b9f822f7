// The NodeHost's metrics under real proposals, reads and elections in a simulated cluster:
// the values move as the engine works, and agree with what the host saw.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim_cluster.h"
#include "synod/metrics/registry.h"
#include "synod/node/node_host.h"

namespace synod::node::testing {
namespace {

using metrics::FamilySnapshot;
using metrics::Sample;

// One family of a node's registry, read now; null when it is not registered.
std::unique_ptr<FamilySnapshot> family(NodeHost& host, std::string_view name) {
  for (FamilySnapshot& f : host.metrics().snapshot()) {
    if (f.name == name) return std::make_unique<FamilySnapshot>(std::move(f));
  }
  return nullptr;
}

// The series with these label values: a counter's count, a gauge's value, a histogram's
// number of observations; -1 when the family or the series is missing.
double value(NodeHost& host, std::string_view name, const std::vector<std::string>& labels = {}) {
  const auto f = family(host, name);
  if (!f) return -1;
  for (const Sample& s : f->samples) {
    std::vector<std::string> values;
    for (const auto& l : s.labels) values.push_back(l.value);
    if (values != labels) continue;
    switch (f->type) {
      case metrics::Type::kCounter:
        return static_cast<double>(s.counter);
      case metrics::Type::kGauge:
        return s.gauge;
      case metrics::Type::kHistogram:
        return static_cast<double>(s.count);
    }
  }
  return -1;
}

struct Answers {
  int ok = 0;
  int other = 0;
  int queue_full = 0;
  int total() const { return ok + other + queue_full; }
};

void propose(SimCluster& cluster, NodeId at, PartitionId partition, std::shared_ptr<Answers> a) {
  cluster.host(at).replicate(partition, 1, raft::Bytes(std::string("payload")),
                             [a](const ReplicationResult& r) {
                               if (r.status == Status::Ok) {
                                 ++a->ok;
                               } else if (r.status == Status::QueueFull) {
                                 ++a->queue_full;
                               } else {
                                 ++a->other;
                               }
                             });
}

TEST(NodeMetrics, LatencyHistogramsCountEveryCommittedProposalAndRead) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  NodeHost& host = cluster.host(leader);
  // Every commit then takes at least a round trip of virtual time.
  cluster.network().set_default_faults(transport::LinkFaults{0, 0, milliseconds(2)});
  auto answers = std::make_shared<Answers>();
  constexpr int kProposals = 40;
  for (int i = 0; i < kProposals; ++i) {
    propose(cluster, leader, 1, answers);
    // Spread over several cycles, so that batches of several sizes are written.
    if (i % 8 == 7) cluster.run_for(milliseconds(10));
  }
  int reads_ok = 0;
  constexpr int kReads = 5;
  for (int i = 0; i < kReads; ++i) {
    host.read_index(1, [&reads_ok](const ReadResult& r) { reads_ok += r.status == Status::Ok; });
  }
  ASSERT_TRUE(
      cluster.run_until([&] { return answers->total() == kProposals && reads_ok == kReads; }));
  ASSERT_EQ(answers->ok, kProposals);
  ASSERT_EQ(cluster.agreed_leader(1), leader) << "the test needs one stable leader";

  EXPECT_EQ(value(host, "synod_proposal_commit_latency_seconds"), kProposals);
  EXPECT_EQ(value(host, "synod_proposal_apply_latency_seconds"), kProposals);
  EXPECT_EQ(value(host, "synod_read_index_latency_seconds"), kReads);
  // The latencies are the durations: each proposal waited at least a round trip (4 ms).
  EXPECT_GE(family(host, "synod_proposal_commit_latency_seconds")->samples.at(0).sum,
            kProposals * 0.004);
  EXPECT_GE(family(host, "synod_proposal_apply_latency_seconds")->samples.at(0).sum,
            family(host, "synod_proposal_commit_latency_seconds")->samples.at(0).sum);
  EXPECT_GE(family(host, "synod_read_index_latency_seconds")->samples.at(0).sum, kReads * 0.004);
  // Followers answer no proposal of their own.
  for (NodeId id : {1, 2, 3}) {
    if (id == leader) continue;
    EXPECT_EQ(value(cluster.host(id), "synod_proposal_commit_latency_seconds"), 0);
  }

  // What the cycles wrote and sent.
  EXPECT_GT(value(host, "synod_cycle_duration_seconds"), 0);
  EXPECT_GT(value(host, "synod_storage_batch_entries"), 0);
  EXPECT_GE(value(host, "synod_storage_entries_total"), kProposals);
  EXPECT_GE(value(host, "synod_storage_written_bytes_total"), kProposals * 7.0);
  EXPECT_GT(value(host, "synod_network_batch_messages"), 0);
  EXPECT_GT(value(host, "synod_transport_messages_sent_total"), 0);
  EXPECT_GT(value(host, "synod_heartbeats_sent_total"), 0);
  EXPECT_EQ(value(host, "synod_requests_queue_full_total", {"proposal"}), 0);
  // Nothing waits any more.
  EXPECT_EQ(value(host, "synod_proposal_queue_depth", {"1"}), 0);
  EXPECT_EQ(value(host, "synod_read_queue_depth", {"1"}), 0);

  // The partition's state, as status() reports it.
  for (const PartitionStatus& s : host.status()) {
    const std::string id = std::to_string(s.partition);
    EXPECT_EQ(value(host, "synod_partition_term", {id}), s.raft.hard_state.term);
    EXPECT_EQ(value(host, "synod_partition_leader", {id}), s.raft.soft_state.leader);
  }
  EXPECT_GE(value(host, "synod_elections_won_total", {"1"}), 1);
  EXPECT_GE(value(host, "synod_elections_started_total", {"1"}), 1);
  EXPECT_EQ(value(host, "synod_partitions", {"damaged"}), 0);
  EXPECT_EQ(
      value(host, "synod_partitions", {"active"}) + value(host, "synod_partitions", {"quiescent"}),
      2);
  // The leader knows how far each follower is behind: both are caught up within a tick.
  ASSERT_TRUE(cluster.run_until([&] {
    const auto lag = family(host, "synod_follower_match_lag");
    if (!lag || lag->samples.size() != 2) return false;
    for (const Sample& s : lag->samples) {
      if (s.labels.at(0).value != "1" || s.gauge != 0) return false;
    }
    return true;
  }));
}

TEST(NodeMetrics, AFailoverCountsAnElectionAndALeaderChangeOnTheSurvivors) {
  SimCluster cluster({1, 2, 3}, 1);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId old_leader = cluster.agreed_leader(1);
  std::map<NodeId, double> changes_before;
  double survivors_campaigns = 0;
  for (NodeId id : {1, 2, 3}) {
    changes_before[id] = value(cluster.host(id), "synod_leader_changes_total", {"1"});
    EXPECT_GE(changes_before[id], 1) << "every node learned of the first leader";
    if (id != old_leader) {
      survivors_campaigns += value(cluster.host(id), "synod_elections_started_total", {"1"});
    }
  }
  cluster.crash(old_leader);
  NodeId new_leader = raft::kNoNode;
  ASSERT_TRUE(cluster.run_until([&] {
    new_leader = cluster.agreed_leader(1);
    return new_leader != raft::kNoNode;
  }));
  double survivors_campaigns_after = 0;
  for (NodeId id : {1, 2, 3}) {
    if (id == old_leader) continue;
    EXPECT_GT(value(cluster.host(id), "synod_leader_changes_total", {"1"}), changes_before[id]);
    survivors_campaigns_after += value(cluster.host(id), "synod_elections_started_total", {"1"});
  }
  EXPECT_GT(survivors_campaigns_after, survivors_campaigns) << "a survivor campaigned";
  EXPECT_GE(value(cluster.host(new_leader), "synod_elections_won_total", {"1"}), 1);
  EXPECT_EQ(value(cluster.host(new_leader), "synod_partition_leader", {"1"}), new_leader);
}

TEST(NodeMetrics, RequestsRefusedForAFullQueueAreCounted) {
  SimCluster cluster({1, 2, 3}, 1, 1, [](NodeHostConfig& c) { c.max_queued_requests = 2; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  NodeHost& host = cluster.host(leader);
  auto answers = std::make_shared<Answers>();
  // Queued without letting the world run: all but two find the queue full.
  for (int i = 0; i < 7; ++i) propose(cluster, leader, 1, answers);
  ASSERT_EQ(answers->queue_full, 5);
  EXPECT_EQ(value(host, "synod_requests_queue_full_total", {"proposal"}), 5);
  EXPECT_EQ(value(host, "synod_proposal_queue_depth", {"1"}), 2);
  // A batch is refused whole: each of its entries counts.
  host.replicate_batch(1, {{1, raft::Bytes(std::string("a"))}, {1, raft::Bytes(std::string("b"))}},
                       {});
  EXPECT_EQ(value(host, "synod_requests_queue_full_total", {"proposal"}), 7);
  EXPECT_EQ(value(host, "synod_requests_queue_full_total", {"read"}), 0);
  ASSERT_TRUE(cluster.run_until([&] { return answers->ok == 2; }));
  EXPECT_EQ(value(host, "synod_proposal_queue_depth", {"1"}), 0);
}

TEST(NodeMetrics, ProposalsAnsweredTimeoutThatCommitLaterAreStaleCompletions) {
  // Replication takes longer than a request may wait: every proposal times out first and
  // commits after.
  SimCluster cluster({1, 2, 3}, 1, 1, [](NodeHostConfig& c) {
    c.election_ticks = 100;
    c.request_timeout = milliseconds(30);
  });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  NodeHost& host = cluster.host(leader);
  for (NodeId a : {1, 2, 3}) {
    for (NodeId b : {1, 2, 3}) {
      if (a != b) cluster.network().set_link(a, b, transport::LinkFaults{0, 0, milliseconds(100)});
    }
  }
  auto answers = std::make_shared<Answers>();
  constexpr int kProposals = 3;
  for (int i = 0; i < kProposals; ++i) propose(cluster, leader, 1, answers);
  ASSERT_TRUE(cluster.run_until([&] { return answers->total() == kProposals; }));
  EXPECT_EQ(answers->ok, 0);
  EXPECT_EQ(value(host, "synod_requests_timed_out_total", {"proposal"}), kProposals);
  ASSERT_TRUE(cluster.run_until([&] {
    return value(host, "synod_stale_completions_total") == kProposals;
  })) << value(host, "synod_stale_completions_total");
  EXPECT_EQ(value(host, "synod_proposals_dropped_total"), 0);
  EXPECT_EQ(value(host, "synod_proposal_apply_latency_seconds"), 0);
}

TEST(NodeMetrics, ASnapshotSentToAFollowerBehindTheCompactedLogIsCountedOnBothSides) {
  SimCluster cluster({1, 2, 3}, 1, 2, [](NodeHostConfig& c) {
    c.snapshots.model = StateMachineModel::InMemory;
    c.snapshots.every_entries = 8;
    c.snapshots.keep_entries = 2;
  });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  const NodeId leader = cluster.agreed_leader(1);
  const NodeId behind = leader == 3 ? 2 : 3;
  cluster.crash(behind);
  auto answers = std::make_shared<Answers>();
  for (int i = 0; i < 40; ++i) {
    propose(cluster, leader, 1, answers);
    cluster.run_for(milliseconds(10));
  }
  ASSERT_TRUE(cluster.run_until([&] { return answers->ok == 40; }));
  cluster.start(behind);
  NodeHost& sender = cluster.host(leader);
  ASSERT_TRUE(cluster.run_until(
      [&] { return value(sender, "synod_snapshots_sent_total", {"delivered"}) >= 1; }));
  EXPECT_GE(value(cluster.host(behind), "synod_snapshots_received_total"), 1);
  EXPECT_GE(value(sender, "synod_snapshot_send_duration_seconds"), 1);
  EXPECT_EQ(value(sender, "synod_snapshots_sent_total", {"failed"}), 0);
}

TEST(NodeMetrics, OffLeavesOnlyWhatCostsNothingUntilRead) {
  SimCluster cluster({1}, 1, 1, [](NodeHostConfig& c) { c.metrics = false; });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.all_partitions_led(); }));
  auto answers = std::make_shared<Answers>();
  propose(cluster, 1, 1, answers);
  ASSERT_TRUE(cluster.run_until([&] { return answers->ok == 1; }));
  NodeHost& host = cluster.host(1);
  EXPECT_EQ(family(host, "synod_proposal_apply_latency_seconds"), nullptr);
  EXPECT_EQ(family(host, "synod_requests_queue_full_total"), nullptr);
  EXPECT_GE(value(host, "synod_storage_entries_total"), 1);
  EXPECT_GE(value(host, "synod_elections_won_total", {"1"}), 1);
  EXPECT_NE(host.metrics().prometheus_text().find("synod_partition_term{partition=\"1\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace synod::node::testing
