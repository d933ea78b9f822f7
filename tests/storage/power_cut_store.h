// PowerCutStore: a durable store (RocksDB or SQLite) on a "disk" that loses every
// unsynced write when the power is cut.
//
// After each operation that syncs, it copies the store's directory aside: that copy is
// exactly what a disk holds once every write before the sync is durable. cut_power()
// closes the store, puts the copy back (dropping whatever the process wrote since) and
// opens it again, so the real recovery code runs on a real power-loss image. Copying is
// cheap for the small stores of tests and the simulator; it is a test device only.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "synod/storage/durable_log_store.h"

namespace synod::storage::testing {

class PowerCutStore final : public LogStore {
 public:
  // Opens a store of `kind` ("RocksDB" or "SQLite") in `dir`; nullptr (and a test
  // failure) when it cannot.
  static std::unique_ptr<PowerCutStore> open(const std::string& kind, const std::string& dir);
  ~PowerCutStore() override;

  StorageStatus write(const WriteBatch& batch, bool sync) override;
  std::shared_ptr<raft::LogStorage> open_partition(PartitionId partition) override;
  std::vector<PartitionId> partitions() const override;
  raft::Index applied_floor(PartitionId partition) const override;
  StorageStatus create_snapshot(PartitionId partition, raft::Index index,
                                const raft::ConfState& conf, raft::Bytes data) override;
  StorageStatus remove_partition(PartitionId partition) override;
  StorageStatus partition_error(PartitionId partition) const override;

  // Power failure and restart. Views opened before stay on the closed store: a restarted
  // node opens new ones. Returns false (with a test failure) when the reopen fails.
  bool cut_power();
  // A clean restart: close and reopen, keeping every write.
  bool restart();
  // Partition writes accepted since the last sync: what cut_power() would lose.
  std::size_t unsynced_writes() const { return unsynced_writes_.load(); }

 private:
  PowerCutStore(std::string kind, std::string dir);
  void save_image();
  bool reopen();

  std::string kind_;
  std::string dir_;
  std::string image_dir_;
  std::unique_ptr<DurableLogStore> store_;
  // Serializes the operations that write, so that each image is taken whole.
  std::mutex write_mu_;
  std::atomic<std::size_t> unsynced_writes_{0};
};

}  // namespace synod::storage::testing
