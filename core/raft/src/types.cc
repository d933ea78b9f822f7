#include "synod/raft/types.h"

namespace synod::raft {

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::PreVote:
      return "PreVote";
    case MessageType::PreVoteResp:
      return "PreVoteResp";
    case MessageType::Vote:
      return "Vote";
    case MessageType::VoteResp:
      return "VoteResp";
    case MessageType::Append:
      return "Append";
    case MessageType::AppendResp:
      return "AppendResp";
    case MessageType::Heartbeat:
      return "Heartbeat";
    case MessageType::HeartbeatResp:
      return "HeartbeatResp";
    case MessageType::InstallSnapshot:
      return "InstallSnapshot";
    case MessageType::ReadIndex:
      return "ReadIndex";
    case MessageType::ReadIndexResp:
      return "ReadIndexResp";
    case MessageType::TimeoutNow:
      return "TimeoutNow";
  }
  return "Unknown";
}

bool is_response(MessageType type) {
  return type == MessageType::PreVoteResp || type == MessageType::VoteResp ||
         type == MessageType::AppendResp || type == MessageType::HeartbeatResp ||
         type == MessageType::ReadIndexResp;
}

}  // namespace synod::raft
