// NodeHost over a durable store: a restart from the data directory, and a partition
// whose stored state is damaged.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include "durable_store_kinds.h"
#include "sim_cluster.h"
#include "synod/env/simulated_world.h"
#include "synod/node/node_host.h"
#include "synod/transport/in_memory.h"

namespace synod::node::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// One node on a RocksDB store, in a simulated world.
class DurableNode {
 public:
  DurableNode(const std::string& dir, std::uint64_t seed)
      : world_(seed), network_(world_, world_, world_.random()), transport_(network_, 1, 1) {
    store_ = storage::testing::open_durable("RocksDB", dir);
    if (!store_) return;
    NodeHostConfig c = simulated_config(world_, store_.get(), &transport_);
    c.user_partitions = 3;
    c.seed = seed;
    std::string error;
    host_ = NodeHost::create(c, &error);
    EXPECT_TRUE(host_) << error;
    if (!host_) return;
    host_->set_apply_handler([this](const CommittedEntry& e) {
      applied_[e.partition].push_back(std::string(e.payload.view()));
      // Reporting from inside the handler: the host applied the entry it was just given.
      EXPECT_EQ(host_->report_applied(e.partition, e.index), Status::Ok);
    });
    host_->start();
  }
  ~DurableNode() {
    host_.reset();
    store_.reset();
  }

  bool run_until(const std::function<bool()>& done) {
    for (int step = 0; step < 2000 && !done(); ++step) world_.run_for(milliseconds(10));
    return done();
  }

  // Waits for the partition's leader (this node, or never for a damaged partition),
  // then proposes.
  ReplicationResult put(PartitionId p, const std::string& value) {
    bool damaged = false;
    for (const PartitionStatus& s : host_->status())
      damaged |= s.partition == p && !s.storage_error.empty();
    if (!damaged) {
      EXPECT_TRUE(run_until([&] { return host_->is_leader(p); }));
    }
    std::optional<ReplicationResult> result;
    host_->replicate(p, 1, raft::Bytes(value), [&](const ReplicationResult& r) { result = r; });
    EXPECT_TRUE(run_until([&] { return result.has_value(); }));
    return result.value_or(ReplicationResult{Status::Timeout, 0, 0, raft::kNoNode});
  }

  NodeHost& host() { return *host_; }
  bool ok() const { return host_ != nullptr; }
  std::map<PartitionId, std::vector<std::string>>& applied() { return applied_; }

 private:
  env::SimulatedWorld world_;
  transport::InMemoryNetwork network_;
  transport::InMemoryTransport transport_;
  std::unique_ptr<storage::DurableLogStore> store_;
  std::unique_ptr<NodeHost> host_;
  std::map<PartitionId, std::vector<std::string>> applied_;
};

class DurableRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "synod-node-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(DurableRestart, ARestartRecoversEveryPartitionAndDeliversOnlyAboveTheFloor) {
  std::map<PartitionId, Index> indexes;
  {
    DurableNode node(dir_, 1);
    ASSERT_TRUE(node.ok());
    for (PartitionId p = 1; p <= 3; ++p) {
      for (int i = 0; i < 5; ++i) {
        ReplicationResult r = node.put(p, "v" + std::to_string(p) + "-" + std::to_string(i));
        ASSERT_EQ(r.status, Status::Ok) << to_string(r.status);
        indexes[p] = r.index;
      }
    }
    ASSERT_TRUE(node.run_until([&] { return node.applied()[3].size() == 5; }));
  }
  DurableNode node(dir_, 2);
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE(node.run_until([&] { return node.host().is_leader(1); }));
  // Everything was reported applied from the handler; at most the entries whose floor
  // had not reached the store yet come again, never the ones below the floor.
  for (PartitionId p = 1; p <= 3; ++p) {
    EXPECT_LE(node.applied()[p].size(), 1u) << "partition " << p;
    ReplicationResult r = node.put(p, "after");
    ASSERT_EQ(r.status, Status::Ok);
    EXPECT_GT(r.index, indexes[p]);
  }
}

TEST_F(DurableRestart, ADamagedPartitionIsNotRunAndTheOthersAre) {
  Index damaged_index = 0;
  {
    DurableNode node(dir_, 1);
    ASSERT_TRUE(node.ok());
    for (PartitionId p = 1; p <= 3; ++p) {
      ReplicationResult r = node.put(p, "before");
      ASSERT_EQ(r.status, Status::Ok);
      if (p == 2) damaged_index = r.index;
    }
  }
  storage::testing::tamper_entry("RocksDB", dir_, 2, damaged_index,
                                 [](std::string& v) { v.back() ^= 1; });

  DurableNode node(dir_, 2);
  ASSERT_TRUE(node.ok()) << "the node starts with its healthy partitions";
  ASSERT_TRUE(node.run_until([&] { return node.host().is_leader(1) && node.host().is_leader(3); }));
  EXPECT_EQ(node.put(1, "after").status, Status::Ok);
  EXPECT_EQ(node.put(3, "after").status, Status::Ok);
  EXPECT_EQ(node.put(2, "after").status, Status::StorageFailure);
  EXPECT_FALSE(node.host().is_leader(2));

  bool listed = false;
  for (const PartitionStatus& s : node.host().status()) {
    if (s.partition != 2) {
      EXPECT_TRUE(s.storage_error.empty());
      continue;
    }
    listed = true;
    EXPECT_NE(s.storage_error.find("partition 2"), std::string::npos) << s.storage_error;
    EXPECT_NE(s.storage_error.find("entry " + std::to_string(damaged_index)), std::string::npos)
        << s.storage_error;
  }
  EXPECT_TRUE(listed);
}

}  // namespace
}  // namespace synod::node::testing
