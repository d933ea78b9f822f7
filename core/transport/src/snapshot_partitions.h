// Which envelopes of a batch the snapshot status handler (transport.h) hears about.
#pragma once

#include <vector>

#include "synod/transport/transport.h"

namespace synod::transport {

// The partitions of the InstallSnapshot envelopes in `batch`, in order.
inline std::vector<PartitionId> snapshot_partitions(const Batch& batch) {
  std::vector<PartitionId> partitions;
  for (const Envelope& e : batch.envelopes) {
    if (e.message.type == raft::MessageType::InstallSnapshot) partitions.push_back(e.partition);
  }
  return partitions;
}

}  // namespace synod::transport
