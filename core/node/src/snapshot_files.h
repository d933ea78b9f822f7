// The transport's view of this node's snapshot files (transport::SnapshotFiles over
// storage::SnapshotStore): a snapshot this node sends is read from its file, and one it
// receives is written into a file checked before the message that names it is delivered.
#pragma once

#include <cstdint>

#include "synod/storage/snapshot_store.h"
#include "synod/transport/snapshot_files.h"

namespace synod::node {

class StoreSnapshotFiles final : public transport::SnapshotFiles {
 public:
  // The transport enforces its own limit on a snapshot's size before asking for a writer.
  explicit StoreSnapshotFiles(storage::SnapshotStore& store) : store_(store) {}

  std::unique_ptr<transport::SnapshotFileReader> open(std::uint64_t partition,
                                                      const raft::SnapshotMeta& meta,
                                                      std::string* why) override;
  std::unique_ptr<transport::SnapshotFileWriter> receive(std::uint64_t partition,
                                                         const raft::SnapshotMeta& meta,
                                                         std::uint64_t file_bytes,
                                                         std::string* why) override;

 private:
  storage::SnapshotStore& store_;
};

}  // namespace synod::node
