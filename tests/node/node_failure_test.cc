// A node that cannot go on stops itself: when its log store fails a write (it may
// acknowledge nothing more), or when a host handler throws on an engine thread (the
// process lives on). Pending requests complete, the failure handler hears why once, later
// requests are refused, and a stop() by the host still returns.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim_cluster.h"
#include "synod/env/simulated_world.h"
#include "synod/node/node_host.h"
#include "synod/storage/memory_log_store.h"
#include "synod/transport/in_memory.h"

namespace synod::node::testing {
namespace {

using std::chrono::milliseconds;

// A memory store whose writes fail, once armed, with an I/O error.
class FailingLogStore final : public storage::LogStore {
 public:
  void fail_writes() { failing_ = true; }
  // Fails only the batches that carry nothing but applied floors (as stop() writes).
  void fail_floor_writes() { failing_floors_ = true; }
  // Writes attempted since fail_writes().
  int writes_while_failing() const { return writes_while_failing_; }

  storage::StorageStatus write(const storage::WriteBatch& batch, bool sync) override {
    if (failing_) {
      ++writes_while_failing_;
      return storage::StorageStatus::io_error("disk full (injected)");
    }
    if (failing_floors_ && !batch.empty() && only_floors(batch)) {
      return storage::StorageStatus::io_error("floor write refused (injected)");
    }
    return inner_.write(batch, sync);
  }
  std::shared_ptr<raft::LogStorage> open_partition(PartitionId partition) override {
    return inner_.open_partition(partition);
  }
  std::vector<PartitionId> partitions() const override { return inner_.partitions(); }
  raft::Index applied_floor(PartitionId partition) const override {
    return inner_.applied_floor(partition);
  }
  storage::StorageStatus create_snapshot(PartitionId partition, raft::Index index,
                                         const raft::ConfState& conf, raft::Bytes data) override {
    return inner_.create_snapshot(partition, index, conf, std::move(data));
  }
  storage::StorageStatus remove_partition(PartitionId partition) override {
    return inner_.remove_partition(partition);
  }

 private:
  static bool only_floors(const storage::WriteBatch& batch) {
    for (const auto& w : batch.writes()) {
      if (!w.applied_floor || w.hard_state || w.snapshot || !w.entries.empty()) return false;
    }
    return true;
  }

  storage::MemoryLogStore inner_;
  std::atomic<bool> failing_{false};
  std::atomic<bool> failing_floors_{false};
  std::atomic<int> writes_while_failing_{0};
};

class NodeFailure : public ::testing::Test {
 protected:
  NodeFailure() : world_(11), network_(world_, world_, world_.random()), transport_(network_, 1, 1) {
    NodeHostConfig c = simulated_config(world_, &store_, &transport_);
    // One partition per cycle, one cycle at a time: the tests order the cycles.
    c.partitions_per_cycle = 1;
    c.max_parallel_cycles = 1;
    c.user_partitions = 2;
    c.seed = 11;
    // Snapshots only on request; the host's save is what the test makes it.
    c.snapshot_store = snapshots_.get();
    std::string error;
    host_ = NodeHost::create(c, &error);
    EXPECT_TRUE(host_) << error;
    host_->set_failure_handler([this](const std::string& why) { failures_.push_back(why); });
    host_->set_apply_handler([this](const CommittedEntry& e) {
      if (on_apply_) on_apply_(e);
    });
    host_->set_leader_handler([this](const LeaderChange& c) {
      if (on_leader_) on_leader_(c);
    });
    host_->set_snapshot_handler({[this](SaveRequest r) {
                                   if (on_save_) on_save_(r);
                                   r.done(Status::Ok, "");
                                 },
                                 [](InstallRequest r) { r.done(Status::Ok, ""); }});
    host_->start();
  }

  bool run_until(const std::function<bool()>& done) {
    for (int step = 0; step < 2000 && !done(); ++step) world_.run_for(milliseconds(10));
    return done();
  }

  std::optional<ReplicationResult> put(PartitionId p) {
    std::optional<ReplicationResult> result;
    host_->replicate(p, 1, raft::Bytes("x"), [&](const ReplicationResult& r) { result = r; });
    run_until([&] { return result.has_value(); });
    return result;
  }

  env::SimulatedWorld world_;
  transport::InMemoryNetwork network_;
  transport::InMemoryTransport transport_;
  FailingLogStore store_;
  std::unique_ptr<storage::SnapshotStore> snapshots_ = storage::make_memory_snapshot_store();
  std::vector<std::string> failures_;
  std::function<void(const CommittedEntry&)> on_apply_;
  std::function<void(const LeaderChange&)> on_leader_;
  std::function<void(SaveRequest&)> on_save_;
  std::unique_ptr<NodeHost> host_;
};

TEST_F(NodeFailure, AFailedWriteStopsTheNodeAndTellsWhyOnce) {
  ASSERT_TRUE(run_until([&] { return host_->is_leader(1) && host_->is_leader(2); }));
  ASSERT_EQ(put(1)->status, Status::Ok);

  store_.fail_writes();
  // Several requests in flight when the write fails: each completes, none acknowledged.
  std::vector<std::optional<ReplicationResult>> results(5);
  for (auto& result : results) {
    host_->replicate(1, 1, raft::Bytes("y"), [&result](const ReplicationResult& r) { result = r; });
  }
  ASSERT_TRUE(run_until([&] { return !failures_.empty(); }));
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->status, Status::StorageFailure);
  }

  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("node 1 stopped"), std::string::npos) << failures_[0];
  EXPECT_NE(failures_[0].find("disk full (injected)"), std::string::npos) << failures_[0];

  // Stopped: nothing more is taken, and the host's own stop returns.
  const auto later = put(2);
  ASSERT_TRUE(later.has_value());
  EXPECT_NE(later->status, Status::Ok);
  host_->stop();
  world_.run_for(milliseconds(100));
  EXPECT_EQ(failures_.size(), 1u);
}

TEST_F(NodeFailure, AStopByTheHostIsNotAFailure) {
  ASSERT_TRUE(run_until([&] { return host_->is_leader(1); }));
  ASSERT_EQ(put(1)->status, Status::Ok);
  host_->stop();
  EXPECT_TRUE(failures_.empty());
}

TEST_F(NodeFailure, AFailedStoreIsNotWrittenAgainWhenTheNodeStops) {
  ASSERT_TRUE(run_until([&] { return host_->is_leader(1) && host_->is_leader(2); }));
  // While partition 1 applies an entry, the disk fails and the host reports the entry
  // applied: the floor waits in the inbox behind partition 2's cycle, whose write fails.
  bool armed = false;
  on_apply_ = [&](const CommittedEntry& e) {
    if (e.partition != 1 || armed) return;
    armed = true;
    store_.fail_writes();
    host_->replicate(2, 1, raft::Bytes("z"), nullptr);
    EXPECT_EQ(host_->report_applied(1, e.index), Status::Ok);
  };
  ASSERT_EQ(put(1)->status, Status::Ok);
  ASSERT_TRUE(run_until([&] { return !failures_.empty(); }));
  // The write that failed, and not the floor that stop() would once have added.
  EXPECT_EQ(store_.writes_while_failing(), 1);
}

TEST_F(NodeFailure, AFloorThatCannotBeRecordedAtStopIsReported) {
  ASSERT_TRUE(run_until([&] { return host_->is_leader(1); }));
  const auto written = put(1);
  ASSERT_EQ(written->status, Status::Ok);
  store_.fail_floor_writes();
  ASSERT_EQ(host_->report_applied(1, written->index), Status::Ok);
  host_->stop();
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("could not record the applied floors"), std::string::npos)
      << failures_[0];
  EXPECT_NE(failures_[0].find("floor write refused (injected)"), std::string::npos) << failures_[0];
}

TEST_F(NodeFailure, AThrowingApplyHandlerFailsTheNodeAndTheProcessLives) {
  ASSERT_TRUE(run_until([&] { return host_->is_leader(1); }));
  ASSERT_EQ(put(1)->status, Status::Ok);
  on_apply_ = [](const CommittedEntry& e) {
    if (e.payload == raft::Bytes("boom")) throw std::runtime_error("the host's state machine broke");
  };
  std::vector<std::optional<ReplicationResult>> results(4);
  host_->replicate(1, 1, raft::Bytes("boom"),
                   [&](const ReplicationResult& r) { results[0] = r; });
  for (std::size_t i = 1; i < results.size(); ++i) {
    host_->replicate(2, 1, raft::Bytes("y"), [&results, i](const ReplicationResult& r) {
      results[i] = r;
    });
  }
  ASSERT_TRUE(run_until([&] { return !failures_.empty(); }));
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("node 1 stopped"), std::string::npos) << failures_[0];
  EXPECT_NE(failures_[0].find("the host's state machine broke"), std::string::npos)
      << failures_[0];
  // The entry that was being applied is not acknowledged; every request is answered.
  for (const auto& result : results) ASSERT_TRUE(result.has_value());
  EXPECT_NE(results[0]->status, Status::Ok);
  const auto later = put(2);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->status, Status::ShuttingDown);
}

TEST_F(NodeFailure, AThrowingLeaderHandlerFailsTheNode) {
  on_leader_ = [](const LeaderChange&) { throw std::bad_alloc(); };
  ASSERT_TRUE(run_until([&] { return !failures_.empty(); }));
  EXPECT_NE(failures_[0].find("an engine task failed"), std::string::npos) << failures_[0];
  host_->stop();
  EXPECT_EQ(failures_.size(), 1u);
}

TEST_F(NodeFailure, AThrowingSnapshotHandlerFailsTheNodeAndAnswersTheRequest) {
  ASSERT_TRUE(run_until([&] { return host_->is_leader(1); }));
  ASSERT_EQ(put(1)->status, Status::Ok);
  on_save_ = [](SaveRequest&) { throw std::runtime_error("the host could not serialize its state"); };
  std::optional<Status> requested;
  host_->request_snapshot(1, [&](Status st, Index) { requested = st; });
  ASSERT_TRUE(run_until([&] { return !failures_.empty() && requested.has_value(); }));
  EXPECT_NE(failures_[0].find("the host could not serialize its state"), std::string::npos)
      << failures_[0];
  EXPECT_NE(*requested, Status::Ok);
  EXPECT_EQ(put(2)->status, Status::ShuttingDown);
}

}  // namespace
}  // namespace synod::node::testing
