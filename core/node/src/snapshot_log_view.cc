#include "snapshot_log_view.h"

namespace synod::node {

raft::StorageError SnapshotLogView::snapshot(raft::Snapshot& out) const {
  if (files_) {
    // A follower behind the compacted prefix needs a snapshot at or above its end.
    const auto latest = files_->latest(partition_);
    if (latest && latest->meta.index + 1 >= log_->first_index()) {
      out.meta = latest->meta;
      out.data = {};
      return raft::StorageError::None;
    }
  }
  export_wanted_.store(true);
  return raft::StorageError::SnapshotTemporarilyUnavailable;
}

}  // namespace synod::node
