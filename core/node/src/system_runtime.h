// The runtime side of the system partition (partition 0): the engine, not the host, owns
// its state machine. Every committed entry of partition 0 is decoded as a
// system::Command and applied to one SystemState (core/system), in log order, identically
// on every replica; nothing of partition 0 reaches the host's apply handler. Its snapshots
// carry the encoded SystemState (engine-internal, see system_snapshot_handler()).
//
// The map drives this node's user partitions: when a CreatePartition applies, every node
// the roster lists as a voter creates the new partition locally (founded with the
// roster's voters); when a RemovePartition applies, every node stops it and deletes its
// storage. While a restart replays partition 0's log (up to the last index stored at
// open: a RemovePartition this node applied, and so deleted the storage for, is in its
// durable log, committed or not yet known to be), creations wait: a partition created
// and later removed must not be founded again with an empty log (it would have forgotten
// its votes); once replay is over, those the map still holds live are created.
//
// Threads: apply(), applied_through() and the snapshot handler run on the cycle that has
// claimed partition 0 (one at a time); map() and route_hash() may be called from any
// thread (the state is read under a mutex; the router is rebuilt once per map change).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "synod/node/node_host.h"
#include "synod/node/snapshots.h"
#include "synod/raft/types.h"
#include "synod/system/commands.h"
#include "synod/system/routing.h"
#include "synod/system/types.h"

namespace synod::node {

// The tag of partition 0's entries that carry an encoded system::Command.
inline constexpr std::uint32_t kSystemCommandTag = 1;
// Partition 0 saves a snapshot of the SystemState after this many entries (when the node
// has a snapshot store); the host's SnapshotPolicy does not apply to it.
inline constexpr std::uint64_t kSystemSnapshotEntries = 1024;

// The address the roster records for a founding member until the runtime knows real ones
// (identical on every founder, so that their founding logs are identical).
std::string founder_address(NodeId id);

// The entry that bootstraps the system state of a new cluster, written at index 2 of
// partition 0's founding log on every founder (see bootstrap.cc).
raft::Entry bootstrap_entry(const NodeHostConfig& config, raft::Index index, raft::Term term);

// The node status for a refusal of system::apply().
Status from_system(system::Status status);

class SystemRuntime {
 public:
  struct Hooks {
    // Founds and runs a user partition on this node with `voters` (nothing when it runs
    // already).
    std::function<void(PartitionId, const std::vector<NodeId>& voters)> create;
    // Stops a user partition on this node and deletes its storage (nothing when it does
    // not run here).
    std::function<void(PartitionId)> remove;
    // Whether this node runs the partition (or holds it damaged, or is removing it).
    std::function<bool(PartitionId)> hosted;
  };

  // `founded`: the user partitions founded with the cluster (1..founded), which every
  // founder's store holds from the start.
  SystemRuntime(NodeId self, std::uint32_t founded, Hooks hooks);

  // At open: partition 0's log ends at `last`; entries up to it may replay what this node
  // applied before.
  void set_replay_until(raft::Index last);

  // Partition 0's cycle. Applies one committed entry (anything that is not a system
  // command, the founding configuration entry or a leader's empty entry, changes
  // nothing).
  void apply(const raft::Entry& entry);
  // Everything through `index` is applied (after a batch of apply()).
  void applied_through(raft::Index index);
  // The result of the system command applied at (index, term), when it is the last one
  // applied: how a proposer's answer learns it.
  std::optional<system::ApplyResult> result_at(raft::Index index, raft::Term term) const;

  // Partition 0's snapshots: the encoded state, and installing one.
  std::string encode() const;
  // `index`: the snapshot's index (everything through it is then applied).
  bool install(std::string_view bytes, raft::Index index, std::string& why);

  // Any thread.
  system::SystemState state() const;
  std::optional<system::Route> route_hash(std::uint64_t hash) const;

 private:
  void created(system::PartitionId id);
  void removed(system::PartitionId id);
  // Makes local partitions follow the whole map: after an install and after replay.
  void reconcile();
  std::vector<NodeId> voters() const;
  bool replaying() const { return !replay_done_; }
  // Ends the replay (and reconciles) once everything held at open is applied.
  void maybe_end_replay();
  void publish();

  const NodeId self_;
  const std::uint32_t founded_;
  const Hooks hooks_;
  mutable std::mutex mu_;
  system::SystemState state_;
  std::shared_ptr<const system::Router> router_;

  // Partition 0's cycle only.
  raft::Index applied_ = 0;
  raft::Index replay_until_ = 0;
  bool replay_done_ = false;
  std::set<system::PartitionId> deferred_;
  struct Last {
    raft::Index index = 0;
    raft::Term term = 0;
    system::ApplyResult result;
  };
  Last last_;
};

// A snapshot handler for partition 0 over `system`: a save writes the encoded state at
// once, an install reads and decodes it.
SnapshotHandler system_snapshot_handler(std::shared_ptr<SystemRuntime> system);

}  // namespace synod::node
