// Helpers shared by the transport tests: a recording receiver and batch builders.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "synod/transport/transport.h"

namespace synod::transport::testing {

// Records inbound batches and unreachable reports; its handlers may run on any thread.
class Inbox {
 public:
  struct Lost {
    NodeId peer;
    std::vector<Envelope> envelopes;
  };

  Transport::Receiver receiver() {
    return [this](Batch&& batch) {
      std::lock_guard lock(mu_);
      batches_.push_back(std::move(batch));
    };
  }
  Transport::UnreachableHandler unreachable_handler() {
    return [this](NodeId peer, std::vector<Envelope>&& lost) {
      std::lock_guard lock(mu_);
      lost_.push_back({peer, std::move(lost)});
    };
  }

  // What the snapshot status handler was told.
  struct SnapshotStatus {
    NodeId peer;
    PartitionId partition;
    bool delivered;
  };
  Transport::SnapshotStatusHandler snapshot_status_handler() {
    return [this](NodeId peer, PartitionId partition, bool delivered) {
      std::lock_guard lock(mu_);
      statuses_.push_back({peer, partition, delivered});
    };
  }
  // Sets all three handlers of `transport` to record here.
  void attach(Transport& transport) {
    transport.set_receiver(receiver());
    transport.set_unreachable_handler(unreachable_handler());
    transport.set_snapshot_status_handler(snapshot_status_handler());
  }

  std::size_t batch_count() const {
    std::lock_guard lock(mu_);
    return batches_.size();
  }
  std::vector<Batch> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::size_t lost_count() const {
    std::lock_guard lock(mu_);
    return lost_.size();
  }
  std::vector<Lost> lost() const {
    std::lock_guard lock(mu_);
    return lost_;
  }
  std::vector<SnapshotStatus> statuses() const {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  std::size_t status_count() const {
    std::lock_guard lock(mu_);
    return statuses_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Batch> batches_;
  std::vector<Lost> lost_;
  std::vector<SnapshotStatus> statuses_;
};

// A batch of `envelopes` heartbeats of partitions 0, 1, ...; each message's index is
// `seq`, so tests can follow a batch through the network.
inline Batch numbered_batch(ClusterId cluster, NodeId from, NodeId to, std::uint64_t seq,
                            std::size_t envelopes = 1) {
  Batch batch{cluster, from, to, {}};
  for (std::size_t i = 0; i < envelopes; ++i) {
    raft::Message m;
    m.type = raft::MessageType::Heartbeat;
    m.from = from;
    m.to = to;
    m.term = 3;
    m.index = seq;
    batch.envelopes.push_back({i, std::move(m)});
  }
  return batch;
}

// `size` bytes whose value depends on their position and `salt`, so that a shifted,
// truncated or mixed-up buffer shows.
inline std::string patterned(std::size_t size, std::uint64_t salt) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + salt) % 251);
  return data;
}
inline raft::Bytes patterned_bytes(std::size_t size, std::uint64_t salt) {
  return raft::Bytes(patterned(size, salt));
}

// An InstallSnapshot envelope of `partition` naming the snapshot at index 1000 + `salt`
// (its file is the sender's SnapshotFiles' business), with a configuration of three
// voters and a learner.
inline Envelope install_snapshot(NodeId from, NodeId to, PartitionId partition,
                                 std::uint64_t salt = 0) {
  auto snapshot = std::make_shared<raft::Snapshot>();
  snapshot->meta.index = 1000 + salt;
  snapshot->meta.term = 6;
  snapshot->meta.conf_state.voters = {1, 2, 3};
  snapshot->meta.conf_state.learners = {4};
  raft::Message m;
  m.type = raft::MessageType::InstallSnapshot;
  m.from = from;
  m.to = to;
  m.term = 6;
  m.snapshot = std::move(snapshot);
  return {partition, std::move(m)};
}

// Whether `batch` carries one InstallSnapshot, alone.
inline bool is_snapshot_batch(const Batch& batch) {
  return batch.envelopes.size() == 1 &&
         batch.envelopes[0].message.type == raft::MessageType::InstallSnapshot;
}

// The sequence number numbered_batch() gave `batch`.
inline std::uint64_t seq_of(const Batch& batch) { return batch.envelopes.at(0).message.index; }

inline void expect_same_message(const raft::Message& a, const raft::Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.log_term, b.log_term);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.reject, b.reject);
  EXPECT_EQ(a.reject_hint, b.reject_hint);
  EXPECT_EQ(a.context, b.context);
  EXPECT_EQ(a.entries, b.entries);
  ASSERT_EQ(a.snapshot == nullptr, b.snapshot == nullptr);
  if (a.snapshot) {
    EXPECT_EQ(*a.snapshot, *b.snapshot);
  }
}

inline void expect_same_batch(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.cluster, b.cluster);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  ASSERT_EQ(a.envelopes.size(), b.envelopes.size());
  for (std::size_t i = 0; i < a.envelopes.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a.envelopes[i].partition, b.envelopes[i].partition);
    expect_same_message(a.envelopes[i].message, b.envelopes[i].message);
  }
}

// Polls `done` until it holds, within a bound generous enough for a loaded machine (and
// the sanitizers): the endpoints cannot tell a test when its condition changes.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::nanoseconds bound = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Every dropped_* counter together.
inline std::uint64_t dropped_total(const TransportStats& s) {
  return s.dropped_peer_unknown + s.dropped_peer_down + s.dropped_queue_full + s.dropped_link_cut +
         s.dropped_fault + s.dropped_stopped + s.dropped_too_large + s.dropped_snapshot_unavailable;
}

}  // namespace synod::transport::testing
