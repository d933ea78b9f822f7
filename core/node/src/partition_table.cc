#include "partition_table.h"

namespace synod::node {

PartitionPtr PartitionTable::find(PartitionId id) const {
  std::shared_lock lock(mu_);
  auto it = map_->find(id);
  return it == map_->end() ? nullptr : it->second;
}

std::shared_ptr<const PartitionTable::Map> PartitionTable::snapshot() const {
  std::shared_lock lock(mu_);
  return map_;
}

Status PartitionTable::missing(PartitionId id) const {
  std::shared_lock lock(mu_);
  return damaged_.count(id) ? Status::StorageFailure : Status::UnknownPartition;
}

bool PartitionTable::add(PartitionPtr partition) {
  std::lock_guard lock(mu_);
  const PartitionId id = partition->id;
  if (map_->count(id) || damaged_.count(id)) return false;
  auto next = std::make_shared<Map>(*map_);
  next->emplace(id, std::move(partition));
  map_ = std::move(next);
  return true;
}

PartitionPtr PartitionTable::remove(PartitionId id) {
  std::lock_guard lock(mu_);
  auto it = map_->find(id);
  if (it == map_->end()) return nullptr;
  PartitionPtr removed = it->second;
  auto next = std::make_shared<Map>(*map_);
  next->erase(id);
  map_ = std::move(next);
  return removed;
}

void PartitionTable::add_damaged(PartitionId id, std::string why) {
  std::lock_guard lock(mu_);
  damaged_.emplace(id, std::move(why));
}

bool PartitionTable::remove_damaged(PartitionId id) {
  std::lock_guard lock(mu_);
  return damaged_.erase(id) > 0;
}

std::map<PartitionId, std::string> PartitionTable::damaged() const {
  std::shared_lock lock(mu_);
  return damaged_;
}

}  // namespace synod::node
