// Entries committed per second by a 3-node Raft group whose message passing, persistence
// (MemoryLogStorage) and applying all happen in one thread. This measures the core's own
// cost per entry: no I/O, no threads, no serialization.
//
//   build/bench/raft/synod-raft-bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "synod/raft/testing/cluster.h"

namespace {

using synod::raft::Bytes;
using synod::raft::NodeId;
using synod::raft::Proposal;
using synod::raft::RaftStatus;
using synod::raft::testing::Cluster;
using synod::raft::testing::ClusterOptions;

constexpr std::size_t kPayloadBytes = 256;
// Compact every node's log this often so memory stays flat over long runs.
constexpr std::int64_t kCompactEvery = 4096;

// A 3-node group led by node 1, recording nothing the benchmark does not need.
std::unique_ptr<Cluster> make_led_cluster(benchmark::State& state) {
  ClusterOptions options;
  options.record_applied = false;
  options.record_sent = false;
  options.digest_applied = false;
  auto cluster = std::make_unique<Cluster>(std::vector<NodeId>{1, 2, 3}, options);
  if (!cluster->elect(1)) {
    state.SkipWithError("no leader");
    return nullptr;
  }
  return cluster;
}

void report(benchmark::State& state, std::uint64_t committed, std::uint64_t proposed) {
  if (committed != proposed) {
    state.SkipWithError("not every proposal committed");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(committed));
  state.SetBytesProcessed(static_cast<std::int64_t>(committed * kPayloadBytes));
  state.counters["entries/s"] =
      benchmark::Counter(static_cast<double>(committed), benchmark::Counter::kIsRate);
}

// Proposes `batch` entries per iteration at the leader and runs the group until they are
// committed and applied everywhere.
void BM_CommitThreeNodes(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto cluster_owner = make_led_cluster(state);
  if (!cluster_owner) return;
  Cluster& cluster = *cluster_owner;
  const std::string payload(kPayloadBytes, 'x');
  std::vector<Proposal> proposals(batch);
  std::int64_t iterations = 0;
  const auto start_commit = cluster.node(1).commit_index();
  for (auto _ : state) {
    for (auto& p : proposals) p.data = Bytes(payload);
    if (cluster.node(1).propose(proposals).status != RaftStatus::Ok) {
      state.SkipWithError("proposal refused");
      return;
    }
    cluster.stabilize();
    if (++iterations % kCompactEvery == 0) {
      state.PauseTiming();
      for (NodeId id : {1, 2, 3}) cluster.compact(id);
      state.ResumeTiming();
    }
  }
  report(state, cluster.node(1).commit_index() - start_commit,
         static_cast<std::uint64_t>(iterations) * batch);
}
BENCHMARK(BM_CommitThreeNodes)->Arg(1)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);

// Several batches in flight at once: the leader keeps proposing while earlier Appends are
// still unanswered, exercising the pipelined replicate state.
void BM_CommitThreeNodesPipelined(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  constexpr int kBatchesInFlight = 8;
  auto cluster_owner = make_led_cluster(state);
  if (!cluster_owner) return;
  Cluster& cluster = *cluster_owner;
  const std::string payload(kPayloadBytes, 'x');
  std::vector<Proposal> proposals(batch);
  std::int64_t iterations = 0;
  const auto start_commit = cluster.node(1).commit_index();
  for (auto _ : state) {
    for (int b = 0; b < kBatchesInFlight; ++b) {
      for (auto& p : proposals) p.data = Bytes(payload);
      cluster.node(1).propose(proposals);
      // Send this batch before the next one is proposed.
      cluster.process_ready(1);
    }
    cluster.stabilize();
    if (++iterations % (kCompactEvery / kBatchesInFlight) == 0) {
      state.PauseTiming();
      for (NodeId id : {1, 2, 3}) cluster.compact(id);
      state.ResumeTiming();
    }
  }
  report(state, cluster.node(1).commit_index() - start_commit,
         static_cast<std::uint64_t>(iterations) * batch * kBatchesInFlight);
}
BENCHMARK(BM_CommitThreeNodesPipelined)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
