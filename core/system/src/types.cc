// Names of the enums, for messages and test output.
#include "synod/system/types.h"

#include "synod/system/commands.h"

namespace synod::system {

const char* to_string(PartitionState state) {
  switch (state) {
    case PartitionState::Active:
      return "active";
    case PartitionState::Splitting:
      return "splitting";
    case PartitionState::Draining:
      return "draining";
    case PartitionState::Removed:
      return "removed";
  }
  return "?";
}

const char* to_string(RoutingMode mode) {
  switch (mode) {
    case RoutingMode::Unrouted:
      return "unrouted";
    case RoutingMode::HashRange:
      return "hash-range";
  }
  return "?";
}

const char* to_string(MemberRole role) {
  switch (role) {
    case MemberRole::Learner:
      return "learner";
    case MemberRole::Voter:
      return "voter";
    case MemberRole::Leaving:
      return "leaving";
  }
  return "?";
}

const char* to_string(Status status) {
  switch (status) {
    case Status::Ok:
      return "ok";
    case Status::NotBootstrapped:
      return "not bootstrapped";
    case Status::AlreadyBootstrapped:
      return "already bootstrapped";
    case Status::InvalidArgument:
      return "invalid argument";
    case Status::LimitReached:
      return "limit reached";
    case Status::StaleMapVersion:
      return "stale map version";
    case Status::StaleRosterVersion:
      return "stale roster version";
    case Status::SystemPartition:
      return "system partition";
    case Status::UnknownPartition:
      return "unknown partition";
    case Status::PartitionRemoved:
      return "partition removed";
    case Status::UnroutedPartition:
      return "unrouted partition";
    case Status::RoutedPartition:
      return "routed partition (merge it instead)";
    case Status::OperationInProgress:
      return "operation in progress";
    case Status::NoOperationInProgress:
      return "no operation in progress";
    case Status::BoundaryOutsideRange:
      return "boundary outside the range";
    case Status::Overlapping:
      return "overlapping ranges";
    case Status::NotAdjacent:
      return "ranges not adjacent";
    case Status::UnknownMember:
      return "unknown member";
    case Status::MemberExists:
      return "member exists";
    case Status::MemberRetired:
      return "member id retired";
    case Status::WrongRole:
      return "wrong role";
    case Status::NoQuorum:
      return "no voter would remain";
    case Status::ChangeInProgress:
      return "another member change in progress";
  }
  return "?";
}

}  // namespace synod::system
