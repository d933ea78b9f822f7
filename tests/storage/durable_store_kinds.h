// The durable stores as StoreKinds for the conformance suite and the durable-store
// tests: open, reopen (a process restart) and, where a store can model one, crash.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "log_store_conformance.h"
#include "synod/storage/durable_log_store.h"

namespace synod::storage::testing {

// Opens a durable store of the kind named "RocksDB" or "SQLite"; `warnings` (when given)
// collects what the store reports. Fails the current test when the open fails.
std::unique_ptr<DurableLogStore> open_durable(const std::string& kind, const std::string& dir,
                                              std::vector<StorageWarning>* warnings = nullptr);
// The status of opening a store of `kind` in `dir` (the store is closed again).
StorageStatus try_open_durable(const std::string& kind, const std::string& dir,
                               std::unique_ptr<DurableLogStore>* out = nullptr,
                               std::vector<StorageWarning>* warnings = nullptr);

// Rewrites entry `index` of `partition` through the database itself, bypassing the
// store (which must be closed), so that only the store's own checksum can notice.
// `change` edits the stored value in place.
void tamper_entry(const std::string& kind, const std::string& dir, PartitionId partition,
                  raft::Index index, const std::function<void(std::string&)>& change);

// The store on a PowerCutStore: a restart closes the store and opens the directory
// again; a crash also puts back the directory as it was at the last sync.
StoreKind durable_kind(const std::string& kind);

}  // namespace synod::storage::testing
