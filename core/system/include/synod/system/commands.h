// The commands of the system partition and the one function that applies them.
//
// Every change to the partition map and the roster is a command proposed on partition 0
// and applied, in log order, on every replica by apply(). apply() is a pure function of
// the state and the command, so all replicas reach the same state and the same result.
// A refused command changes nothing and says why with a Status.
//
// Split and merge take several commands (begin, then complete or abort); the state in
// between is recorded in the map (PartitionState and Partition::peer), so whichever node
// leads partition 0 next can finish or roll back what another began. Every successful
// map command bumps the map version; every step of a split or merge also bumps the
// generation of each partition it touches, fencing callers that routed before it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "synod/system/types.h"

namespace synod::system {

// Why a command was refused (or Ok). A closed set: a new refusal is a new value here.
enum class Status : std::uint8_t {
  Ok = 0,
  // Bootstrap has not been applied yet (every other command waits for it).
  NotBootstrapped,
  AlreadyBootstrapped,
  // A field is out of its domain: a member id of 0, an empty or oversized address, a
  // hash range with lo > hi, a bootstrap with more partitions than kMaxPartitions.
  InvalidArgument,
  // The state would exceed kMaxPartitions, kMaxMembers or kMaxRetiredMembers, or a
  // version, id or generation would pass kMaxCounter.
  LimitReached,
  // The command's expected map (roster) version is not the current one.
  StaleMapVersion,
  StaleRosterVersion,
  // Partition 0 cannot be removed, split or merged.
  SystemPartition,
  UnknownPartition,
  PartitionRemoved,
  // Split or merge of a partition addressed by id only.
  UnroutedPartition,
  // Remove of a hash-range partition: its keys would route nowhere; merge it instead.
  RoutedPartition,
  // The partition takes part in a split or merge that has not finished.
  OperationInProgress,
  // Complete or abort named a partition that is not in the step it expects.
  NoOperationInProgress,
  // The split boundary is not inside the partition's range (or the range is one hash).
  BoundaryOutsideRange,
  // The ranges overlap: a created range over an existing one, or a merge of a partition
  // with itself.
  Overlapping,
  // The two partitions of a merge do not share a range boundary.
  NotAdjacent,
  UnknownMember,
  MemberExists,
  // The id belonged to a removed member; ids are never admitted twice.
  MemberRetired,
  // The member's role does not allow the change (promote a non-learner, remove a voter
  // that was not marked leaving first, mark leaving a member already leaving).
  WrongRole,
  // No voter would remain.
  NoQuorum,
  // Another voter change (a member leaving) has not finished.
  ChangeInProgress,
};
const char* to_string(Status status);

// Creates the first state: user partitions 1..partitions, hash-range, splitting the hash
// space evenly (bootstrap_range() in routing.h), and the founding members as voters.
// Map and roster versions become 1.
struct Bootstrap {
  std::uint32_t partitions = 0;
  struct Founder {
    NodeId id = 0;
    std::string address;
    friend bool operator==(const Founder&, const Founder&) = default;
  };
  std::vector<Founder> members;
  friend bool operator==(const Bootstrap&, const Bootstrap&) = default;
};

// In every map command: the map version the proposer saw, or 0 to apply regardless.
// Create: a new active partition, unrouted or owning `range` (which must overlap no live
// partition's range). Result: its id.
struct CreatePartition {
  Version expected_version = 0;
  RoutingMode mode = RoutingMode::Unrouted;
  HashRange range;  // HashRange mode only; zero otherwise
  friend bool operator==(const CreatePartition&, const CreatePartition&) = default;
};

// Removes an unrouted, active partition with no operation in progress.
struct RemovePartition {
  Version expected_version = 0;
  PartitionId partition = 0;
  friend bool operator==(const RemovePartition&, const RemovePartition&) = default;
};

// Begins splitting `partition` [lo, hi] at `boundary` (lo < boundary <= hi; when absent,
// the midpoint lo + (hi - lo) / 2 + 1): a new partition is created in Splitting state,
// to own [boundary, hi] once the split completes. Result: the new partition's id.
struct SplitBegin {
  Version expected_version = 0;
  PartitionId partition = 0;
  std::optional<std::uint64_t> boundary;
  friend bool operator==(const SplitBegin&, const SplitBegin&) = default;
};

// Completes the split whose new partition is `partition`: the source now owns
// [lo, boundary - 1], the new partition [boundary, hi] and becomes active.
struct SplitComplete {
  Version expected_version = 0;
  PartitionId partition = 0;
  friend bool operator==(const SplitComplete&, const SplitComplete&) = default;
};

// Abandons the split whose new partition is `partition`: it is removed (its id is not
// reused) and the source keeps its whole range.
struct SplitAbort {
  Version expected_version = 0;
  PartitionId partition = 0;
  friend bool operator==(const SplitAbort&, const SplitAbort&) = default;
};

// Begins merging `source` into `target`, two active hash-range partitions whose ranges
// touch: the source becomes Draining.
struct MergeBegin {
  Version expected_version = 0;
  PartitionId source = 0;
  PartitionId target = 0;
  friend bool operator==(const MergeBegin&, const MergeBegin&) = default;
};

// Completes the merge whose draining source is `source`: the target owns both ranges,
// the source is removed.
struct MergeComplete {
  Version expected_version = 0;
  PartitionId source = 0;
  friend bool operator==(const MergeComplete&, const MergeComplete&) = default;
};

// Abandons the merge whose draining source is `source`: it is active again.
struct MergeAbort {
  Version expected_version = 0;
  PartitionId source = 0;
  friend bool operator==(const MergeAbort&, const MergeAbort&) = default;
};

// In every roster command: the roster version the proposer saw (compare-and-set).
// Adds a new member as a learner.
struct AddLearner {
  Version expected_version = 0;
  NodeId id = 0;
  std::string address;
  friend bool operator==(const AddLearner&, const AddLearner&) = default;
};

// Makes a learner a voter. Refused while a member is leaving (one voter change at a time).
struct PromoteMember {
  Version expected_version = 0;
  NodeId id = 0;
  friend bool operator==(const PromoteMember&, const PromoteMember&) = default;
};

// Starts a member's departure (graceful leave or forced removal of a dead one). Refused
// when it would leave no voter, or while another member is leaving.
struct MarkLeaving {
  Version expected_version = 0;
  NodeId id = 0;
  friend bool operator==(const MarkLeaving&, const MarkLeaving&) = default;
};

// Removes a leaving member, or a learner, from the roster; its id is retired.
struct RemoveMember {
  Version expected_version = 0;
  NodeId id = 0;
  friend bool operator==(const RemoveMember&, const RemoveMember&) = default;
};

using Command = std::variant<Bootstrap, CreatePartition, RemovePartition, SplitBegin, SplitComplete,
                             SplitAbort, MergeBegin, MergeComplete, MergeAbort, AddLearner,
                             PromoteMember, MarkLeaving, RemoveMember>;

struct ApplyResult {
  Status status = Status::Ok;
  // The partition a CreatePartition or SplitBegin created; 0 otherwise.
  PartitionId created = 0;
  // The version of the map (map commands) or roster (roster commands) after the command,
  // or, when refused, the current one: a refusal for a stale version tells the proposer
  // what to read again.
  Version version = 0;
  bool ok() const { return status == Status::Ok; }
  friend bool operator==(const ApplyResult&, const ApplyResult&) = default;
};

// Applies `command` to `state`. On refusal `state` is unchanged.
ApplyResult apply(SystemState& state, const Command& command);

// The rules every state reached by apply() keeps (and that a decoded state must keep):
// ids are non-zero and below next_id; live hash ranges never overlap (a splitting
// partition's range is the upper part of its source's); peers name each other in the
// states of one split or merge; no more than the k* limits; member ids are non-zero and
// not retired; at most one member is leaving; joined_at is within 1..version.
// Returns an empty string, or the first rule broken, in words.
std::string check_invariants(const SystemState& state);

}  // namespace synod::system
