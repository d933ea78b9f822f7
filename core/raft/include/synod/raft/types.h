// Basic value types of the Raft state machine: entries, hard state, configuration
// state, snapshots and messages. Everything here is a plain value; nothing performs I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace synod::raft {

using NodeId = std::uint64_t;
using Term = std::uint64_t;
using Index = std::uint64_t;

// "No node": no vote cast, no leader known.
inline constexpr NodeId kNoNode = 0;

// An immutable, cheaply copyable byte buffer. Entries travel from a proposal into the
// leader's log, several outgoing messages, followers' logs and the apply stream; sharing
// one buffer keeps that a reference count instead of a copy per hop.
class Bytes {
 public:
  Bytes() = default;
  explicit Bytes(std::string data)
      : data_(data.empty() ? nullptr : std::make_shared<const std::string>(std::move(data))) {}
  static Bytes copy_of(std::span<const std::uint8_t> data) {
    return Bytes(std::string(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  static Bytes copy_of(std::string_view data) { return Bytes(std::string(data)); }

  std::size_t size() const { return data_ ? data_->size() : 0; }
  bool empty() const { return size() == 0; }
  std::string_view view() const { return data_ ? std::string_view(*data_) : std::string_view(); }
  std::span<const std::uint8_t> span() const {
    auto v = view();
    return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()};
  }
  friend bool operator==(const Bytes& a, const Bytes& b) { return a.view() == b.view(); }

 private:
  std::shared_ptr<const std::string> data_;
};

enum class EntryType : std::uint8_t {
  // Host data. The core never looks inside.
  Normal = 0,
  // Membership change; payload is an encoded ConfChange (see conf_change.h). The new
  // configuration takes effect as soon as the entry is appended to a log.
  ConfChange = 1,
};

struct Entry {
  Index index = 0;
  Term term = 0;
  EntryType type = EntryType::Normal;
  // Host-chosen tag carried with Normal entries (for example a command kind).
  std::uint32_t tag = 0;
  Bytes data;

  // Bytes counted against size limits (payload plus a fixed header estimate).
  std::size_t byte_size() const { return data.size() + 24; }
  friend bool operator==(const Entry&, const Entry&) = default;
};

// State that must be durable before any message that depends on it is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;
  friend bool operator==(const HardState&, const HardState&) = default;
  bool is_empty() const { return term == 0 && vote == kNoNode && commit == 0; }
};

// Membership. While `voters_outgoing` is non-empty the group is in a joint configuration
// and every decision needs a majority of both `voters` and `voters_outgoing`.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> voters_outgoing;
  std::vector<NodeId> learners;
  // Voters of the outgoing configuration that become learners when the joint phase ends.
  std::vector<NodeId> learners_next;
  // Leave the joint configuration automatically once it is committed.
  bool auto_leave = false;

  bool is_joint() const { return !voters_outgoing.empty(); }
  friend bool operator==(const ConfState&, const ConfState&) = default;
};

struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  ConfState conf_state;
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// A state-machine snapshot: the host's serialized state at `meta.index`.
struct Snapshot {
  SnapshotMeta meta;
  Bytes data;
  bool is_empty() const { return meta.index == 0; }
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

enum class MessageType : std::uint8_t {
  PreVote,
  PreVoteResp,
  Vote,
  VoteResp,
  Append,
  AppendResp,
  Heartbeat,
  HeartbeatResp,
  InstallSnapshot,
  ReadIndex,      // follower asks the leader for a read index
  ReadIndexResp,  // leader answers a forwarded read index
  TimeoutNow,     // leadership transfer: campaign now, skipping pre-vote
};

const char* to_string(MessageType type);
bool is_response(MessageType type);

// One Raft message. Field meaning by type:
//   Append:        index/log_term = entry preceding `entries`; commit = leader commit.
//   AppendResp:    index = highest index known to match (or rejected index when `reject`);
//                  reject_hint/log_term = follower's hint for where to retry.
//   (Pre)Vote:     index/log_term = candidate's last entry; context "transfer" when the
//                  campaign was started by a leadership transfer.
//   Heartbeat:     commit = min(leader commit, follower match); context = read-index round.
//   HeartbeatResp: context echoed; `reject` when the follower holds less than that commit
//                  (it lost its log), reject_hint = its last index.
//   InstallSnapshot: snapshot set.
//   ReadIndex(Resp): context = the caller's request id; index = the read index.
struct Message {
  MessageType type = MessageType::Append;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Index index = 0;
  Term log_term = 0;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;
  std::vector<Entry> entries;
  std::shared_ptr<const Snapshot> snapshot;
  std::string context;
};

}  // namespace synod::raft
