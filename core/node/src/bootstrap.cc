#include "bootstrap.h"

#include <algorithm>

#include "system_runtime.h"

namespace synod::node {

std::string check_config(const NodeHostConfig& c) {
  if (c.node_id == raft::kNoNode) return "node id 0 is reserved";
  if (!c.store || !c.transport || !c.clock || !c.scheduler || !c.executor) {
    return "store, transport, clock, scheduler and executor are all required";
  }
  if (c.tick_interval.count() <= 0 || c.partitions_per_cycle == 0 || c.max_parallel_cycles == 0 ||
      c.max_queued_requests == 0) {
    return "tick_interval, partitions_per_cycle, max_parallel_cycles and max_queued_requests "
           "must be positive";
  }
  if (c.snapshots.model == StateMachineModel::Durable &&
      (c.snapshots.every_entries != 0 || c.snapshots.every_bytes != 0)) {
    return "the durable state machine model takes no periodic snapshots: every_entries and "
           "every_bytes must be 0";
  }
  return {};
}

std::vector<PartitionId> found_or_list(const NodeHostConfig& c, std::string& error) {
  std::vector<PartitionId> ids = c.store->partitions();
  if (!ids.empty()) return ids;
  if (std::find(c.initial_members.begin(), c.initial_members.end(), c.node_id) ==
      c.initial_members.end()) {
    error = "a new cluster's initial_members must include this node";
    return {};
  }
  storage::WriteBatch batch;
  for (PartitionId id = 0; id <= c.user_partitions; ++id) {
    storage::PartitionWrite write = storage::bootstrap_write(id, c.initial_members);
    if (id == kSystemPartition) {
      // The system state's founding command, committed like the founding configuration:
      // every founder writes the same entry (system_runtime.h), so the map and roster
      // exist before any leader is elected.
      write.entries.push_back(
          bootstrap_entry(c, write.entries.back().index + 1, write.entries.back().term));
      write.hard_state->commit = write.entries.back().index;
    }
    batch.add(std::move(write));
    ids.push_back(id);
  }
  if (auto st = c.store->write(batch, true); !st.ok()) {
    error = "bootstrap write failed: " + st.to_string();
    return {};
  }
  return ids;
}

storage::StorageStatus found_partition(const NodeHostConfig& c, PartitionId id,
                                       const std::vector<NodeId>& voters) {
  storage::WriteBatch batch;
  batch.add(storage::bootstrap_write(id, voters));
  return c.store->write(batch, c.sync);
}

PartitionPtr open_partition(const NodeHostConfig& c, PartitionId id, std::string& error) {
  auto storage = std::make_shared<SnapshotLogView>(c.store->open_partition(id),
                                                   c.snapshot_store, id);
  const raft::SnapshotMeta latest = storage->snapshot_meta();
  const Index floor = c.store->applied_floor(id);
  raft::Config rc;
  rc.id = c.node_id;
  rc.election_ticks = c.election_ticks;
  rc.heartbeat_ticks = c.heartbeat_ticks;
  rc.seed = c.seed ^ (id * 0x9e3779b97f4a7c15ULL);
  // A snapshot above the floor is installed again before any entry (Snapshotter), so Raft
  // hands out only the entries above it.
  rc.applied = std::max(floor, latest.index);
  std::string why;
  auto node = raft::RawNode::create(rc, *storage, &why);
  if (!node) {
    error = "partition " + std::to_string(id) + ": " + why;
    return nullptr;
  }
  auto p = std::make_shared<Partition>(id, std::move(storage), std::move(node),
                                       c.max_queued_requests);
  p->snapshots.latest = latest;
  p->snapshots.floor = floor;
  p->snapshots.compacted_through = p->storage->first_index() - 1;
  if (latest.index > floor) {
    p->snapshots.reinstall = latest;
    p->applied = floor;
    p->delivered.store(floor);
  }
  return p;
}

}  // namespace synod::node
