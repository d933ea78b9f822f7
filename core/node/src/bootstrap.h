// Bootstrap: checking a configuration, founding a new cluster's partitions in an empty
// store, and building a partition from what the store holds.
#pragma once

#include <string>
#include <vector>

#include "partition.h"

namespace synod::node {

// Empty when the configuration is usable, otherwise why not.
std::string check_config(const NodeHostConfig& config);

// With an empty store, writes the founding state of partitions 0..user_partitions (the
// voters are config.initial_members). Returns the stored partitions, or sets `error`.
std::vector<PartitionId> found_or_list(const NodeHostConfig& config, std::string& error);

// Writes the founding state of one partition with `voters` (durable when config.sync).
storage::StorageStatus found_partition(const NodeHostConfig& config, PartitionId id,
                                       const std::vector<NodeId>& voters);

// Builds the partition from its stored state; null with `error` when Raft refuses it.
PartitionPtr open_partition(const NodeHostConfig& config, PartitionId id, std::string& error);

}  // namespace synod::node
