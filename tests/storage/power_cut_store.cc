#include "power_cut_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "durable_store_kinds.h"

namespace synod::storage::testing {

namespace fs = std::filesystem;

PowerCutStore::PowerCutStore(std::string kind, std::string dir)
    : kind_(std::move(kind)), dir_(std::move(dir)), image_dir_(dir_ + ".synced") {}

PowerCutStore::~PowerCutStore() {
  store_.reset();
  std::error_code ec;
  fs::remove_all(image_dir_, ec);
}

std::unique_ptr<PowerCutStore> PowerCutStore::open(const std::string& kind,
                                                   const std::string& dir) {
  std::unique_ptr<PowerCutStore> s(new PowerCutStore(kind, dir));
  if (!s->reopen()) return nullptr;
  s->save_image();
  return s;
}

bool PowerCutStore::reopen() {
  store_ = open_durable(kind_, dir_);
  return store_ != nullptr;
}

void PowerCutStore::save_image() {
  unsynced_writes_ = 0;
  std::error_code ec;
  fs::remove_all(image_dir_, ec);
  fs::create_directories(image_dir_);
  for (const auto& f : fs::recursive_directory_iterator(dir_)) {
    const fs::path to = image_dir_ / fs::relative(f.path(), dir_);
    if (f.is_directory()) {
      fs::create_directories(to);
    } else if (f.is_regular_file()) {
      fs::copy_file(f.path(), to, fs::copy_options::overwrite_existing, ec);
      // A file deleted between listing and copying (RocksDB drops obsolete logs) was not
      // part of the durable state the copy needs.
      ec.clear();
    }
  }
}

bool PowerCutStore::cut_power() {
  store_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::copy(image_dir_, dir_, fs::copy_options::recursive, ec);
  EXPECT_FALSE(ec) << "cannot restore " << image_dir_ << ": " << ec.message();
  return reopen();
}

bool PowerCutStore::restart() {
  store_.reset();
  if (!reopen()) return false;
  save_image();
  return true;
}

StorageStatus PowerCutStore::write(const WriteBatch& batch, bool sync) {
  std::lock_guard lock(write_mu_);
  StorageStatus st = store_->write(batch, sync);
  if (st.ok()) {
    count_write(batch, sync);
    if (sync) {
      save_image();
    } else {
      for (const PartitionWrite& w : batch.writes()) unsynced_writes_ += !w.empty();
    }
  }
  return st;
}

std::shared_ptr<raft::LogStorage> PowerCutStore::open_partition(PartitionId partition) {
  return store_->open_partition(partition);
}

std::vector<PartitionId> PowerCutStore::partitions() const { return store_->partitions(); }

raft::Index PowerCutStore::applied_floor(PartitionId partition) const {
  return store_->applied_floor(partition);
}

StorageStatus PowerCutStore::create_snapshot(PartitionId partition, raft::Index index,
                                             const raft::ConfState& conf, raft::Bytes data) {
  std::lock_guard lock(write_mu_);
  StorageStatus st = store_->create_snapshot(partition, index, conf, std::move(data));
  if (st.ok()) {
    count_sync();
    save_image();
  }
  return st;
}

StorageStatus PowerCutStore::remove_partition(PartitionId partition) {
  std::lock_guard lock(write_mu_);
  StorageStatus st = store_->remove_partition(partition);
  if (st.ok()) {
    count_sync();
    save_image();
  }
  return st;
}

StorageStatus PowerCutStore::partition_error(PartitionId partition) const {
  return store_->partition_error(partition);
}

}  // namespace synod::storage::testing
