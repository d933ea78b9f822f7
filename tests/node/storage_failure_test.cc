// A log store that fails a write: the node stops itself, since it may acknowledge nothing
// more. Pending requests complete with StorageFailure, the failure handler hears why
// once, later requests are refused, and a stop() by the host still returns.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

  storage::StorageStatus write(const storage::WriteBatch& batch, bool sync) override {
    if (failing_) return storage::StorageStatus::io_error("disk full (injected)");
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
  storage::MemoryLogStore inner_;
  std::atomic<bool> failing_{false};
};

class StorageFailure : public ::testing::Test {
 protected:
  StorageFailure() : world_(11), network_(world_, world_, world_.random()), transport_(network_, 1, 1) {
    NodeHostConfig c;
    c.node_id = 1;
    c.initial_members = {1};
    c.user_partitions = 2;
    c.seed = 11;
    c.store = &store_;
    c.transport = &transport_;
    c.clock = &world_;
    c.scheduler = &world_;
    c.executor = &world_;
    std::string error;
    host_ = NodeHost::create(c, &error);
    EXPECT_TRUE(host_) << error;
    host_->set_failure_handler([this](const std::string& why) { failures_.push_back(why); });
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
  std::vector<std::string> failures_;
  std::unique_ptr<NodeHost> host_;
};

TEST_F(StorageFailure, AFailedWriteStopsTheNodeAndTellsWhyOnce) {
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

TEST_F(StorageFailure, AStopByTheHostIsNotAFailure) {
  ASSERT_TRUE(run_until([&] { return host_->is_leader(1); }));
  ASSERT_EQ(put(1)->status, Status::Ok);
  host_->stop();
  EXPECT_TRUE(failures_.empty());
}

}  // namespace
}  // namespace synod::node::testing
