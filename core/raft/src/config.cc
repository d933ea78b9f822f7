#include "synod/raft/config.h"

namespace synod::raft {

const char* Config::validate() const {
  if (id == kNoNode) return "node id 0 is reserved";
  if (heartbeat_ticks <= 0) return "heartbeat_ticks must be positive";
  if (election_ticks <= heartbeat_ticks) return "election_ticks must exceed heartbeat_ticks";
  if (lease_reads && !check_quorum) return "lease_reads requires check_quorum";
  if (max_append_bytes == 0) return "max_append_bytes must be positive";
  if (max_inflight_messages == 0) return "max_inflight_messages must be positive";
  if (max_pending_reads == 0) return "max_pending_reads must be positive";
  if (max_committed_bytes_per_ready == 0) return "max_committed_bytes_per_ready must be positive";
  return "";
}

}  // namespace synod::raft
