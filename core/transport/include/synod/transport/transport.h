// The Transport interface: how the runtime moves Raft messages between nodes.
//
// The runtime collects the messages of one cycle per destination node into a Batch and
// hands it to send(). Transports are lossy by contract: a batch that cannot be sent
// (unknown or unreachable peer, full queue, cut link) is dropped and counted, never
// retried and never blocked on. Raft already copes with lost messages; what it needs is
// to hear about unreachable peers, which the unreachable handler reports.
//
// Snapshots never travel inline: an InstallSnapshot envelope names its snapshot by
// (partition, meta), and the transport moves the snapshot's file from the sender's
// SnapshotFiles to the receiver's (snapshot_files.h) before it hands the envelope over.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "synod/raft/types.h"
#include "synod/transport/snapshot_files.h"

namespace synod::transport {

using raft::NodeId;
using PartitionId = std::uint64_t;
// Identifies one cluster. Nodes refuse traffic from another cluster, so a misconfigured
// node cannot disturb a cluster it was never part of.
using ClusterId = std::uint64_t;

// One Raft message of one partition; message.from and message.to are node ids. An
// InstallSnapshot's snapshot carries its metadata only; data set in it is not carried.
struct Envelope {
  PartitionId partition = 0;
  raft::Message message;
};

// The unit of sending: every envelope of one cycle from one node to another.
// The header (cluster, from, to) is carried as given; receivers check it, so a header
// naming another cluster or an unknown sender is refused on arrival.
struct Batch {
  ClusterId cluster = 0;
  NodeId from = raft::kNoNode;
  NodeId to = raft::kNoNode;
  std::vector<Envelope> envelopes;
};

// Counters of one transport endpoint since it was created. Counts are of batches unless
// named otherwise. Every send() ends in exactly one of batches_sent or a dropped_*
// counter; a sent batch may still be dropped later (dropped_peer_down) or refused by the
// receiver.
struct TransportStats {
  // Accepted by send() and handed to the network.
  std::uint64_t batches_sent = 0;
  std::uint64_t messages_sent = 0;
  // Handed to the receiver.
  std::uint64_t batches_received = 0;
  std::uint64_t messages_received = 0;
  // Network transports: encoded wire bytes (batches and snapshot chunks, before any
  // signature or framing) written to a session, and taken from one by the inbound side
  // (accepted batches and chunks). The in-memory transport encodes nothing and leaves
  // them at zero.
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  // Network transports: dials of a peer that follow a broken link or a failed dial (each
  // attempt counts; the first dial of a link does not).
  std::uint64_t reconnects = 0;

  // Lost on the way out, by reason.
  std::uint64_t dropped_peer_unknown = 0;  // no such node
  std::uint64_t dropped_peer_down = 0;     // known, but stopped, gone or disconnected
  std::uint64_t dropped_queue_full = 0;    // the bounded queue towards the peer was full
  std::uint64_t dropped_link_cut = 0;      // the link is cut (partition)
  std::uint64_t dropped_fault = 0;         // lost by injected faults (simulated loss)
  std::uint64_t dropped_stopped = 0;       // sent while this endpoint was not running
  std::uint64_t dropped_too_large = 0;     // beyond the message (or snapshot) size limit
  // An InstallSnapshot whose file this endpoint cannot send: no SnapshotFiles is set, or
  // (network transports) SnapshotFiles::open() found no file. Also reported not delivered.
  std::uint64_t dropped_snapshot_unavailable = 0;
  // Messages inside every batch counted by the dropped_* fields above.
  std::uint64_t messages_dropped = 0;

  // Refused on arrival, by reason.
  std::uint64_t refused_foreign_cluster = 0;
  std::uint64_t refused_unknown_sender = 0;
  std::uint64_t refused_wrong_destination = 0;  // the header names another node
  std::uint64_t refused_malformed = 0;  // undecodable header or unknown wire version
  // Shared-secret mode (security.h): refused before decoding, by reason.
  std::uint64_t refused_unauthenticated = 0;    // no signature
  std::uint64_t refused_bad_signature = 0;      // signature does not match (wrong secret)
  std::uint64_t refused_stale = 0;              // timestamp outside max_clock_skew
  std::uint64_t refused_replayed = 0;           // a copy of a batch already accepted
  std::uint64_t refused_replay_cache_full = 0;  // too many recent batches to remember
  // Messages skipped alone, inside batches otherwise handed over, because they could not
  // be decoded (unknown message type, inconsistent fields); not in messages_received.
  std::uint64_t messages_malformed = 0;

  // Network transports stream every snapshot in chunks (SnapshotChunk in wire.proto): the
  // snapshot's batch counts once as sent or received, its chunks here.
  std::uint64_t snapshot_chunks_sent = 0;
  std::uint64_t snapshot_chunks_received = 0;
  // Bytes of snapshot files read and sent, and received and written (every transport).
  std::uint64_t snapshot_bytes_sent = 0;
  std::uint64_t snapshot_bytes_received = 0;
  // Sender: snapshots under way that did not arrive because their file could not be read
  // (or ended early), or because the peer refused them (see snapshot_transfers_refused,
  // and a chunk it could not use); each is reported not delivered.
  std::uint64_t snapshot_transfers_failed = 0;
  // Receiver: snapshots refused for where they would be stored: no SnapshotFiles set,
  // SnapshotFiles::receive() refused, or a write or the commit failed. Nothing is handed
  // over, and the writer is destroyed without a commit.
  std::uint64_t snapshot_transfers_refused = 0;
  // Streamed snapshots begun on arrival and never completed: the link broke, the sender
  // began another one, or a chunk did not continue it. A chunk that cannot be used
  // (malformed, not continuing its transfer, announcing more than the receiver's
  // max_snapshot_bytes) counts in messages_malformed.
  std::uint64_t snapshot_transfers_abandoned = 0;

  // Extra copies delivered by injected duplication.
  std::uint64_t batches_duplicated = 0;
};

// One node's endpoint. Every method is thread-safe.
//
// Lifecycle: set the handlers, start(), send and receive, stop(). A stopped transport
// stays stopped; make a new one to come back.
class Transport {
 public:
  // Receives one inbound batch. May run on any thread of the transport, concurrently for
  // batches from different senders; batches from one sender arrive one at a time.
  using Receiver = std::function<void(Batch&&)>;
  // Learns that a batch to `peer` was dropped because the peer could not be reached, with
  // the envelopes that were lost, so the runtime can report the peer unreachable to Raft
  // (and a lost snapshot as failed). Never called from inside send(). Losses injected to
  // simulate an unreliable network are silent, as they would be on a real one.
  using UnreachableHandler = std::function<void(NodeId peer, std::vector<Envelope>&& lost)>;
  // Learns what became of one InstallSnapshot envelope sent to `peer` for `partition`, so
  // the runtime can tell Raft whether the snapshot arrived (and a follower stuck waiting
  // for a lost one gets another). The contract, the same for every transport:
  // - Exactly one report per InstallSnapshot envelope handed to send() while the
  //   transport runs (between start() and stop()); one sent before start() or after
  //   stop() is dropped as dropped_stopped and not reported.
  // - delivered=true once the peer took it: its file written and committed on the peer,
  //   then acknowledged (gRPC), answered 200 (REST), handed to the receiver (in-memory).
  // - delivered=false for every loss: dropped by send() (unknown peer, full queue, too
  //   large, peer down or cut off, no SnapshotFiles or no file), a failed or cancelled
  //   transfer (a read error, a broken link), refused by the peer (its writer refused, a
  //   write or the commit failed), remove_peer(), injected loss (in-memory), or stop().
  //   Envelopes still under way when
  //   stop() is called are reported before stop() returns (when stop() is called from
  //   inside a handler, before the transport's destructor returns).
  // - Never called from inside send().
  using SnapshotStatusHandler =
      std::function<void(NodeId peer, std::uint64_t partition, bool delivered)>;

  virtual ~Transport() = default;

  // Handlers may be replaced at any time; a batch already being handed over still goes to
  // the handler it started with.
  virtual void set_receiver(Receiver receiver) = 0;
  virtual void set_unreachable_handler(UnreachableHandler handler) = 0;
  virtual void set_snapshot_status_handler(SnapshotStatusHandler handler) = 0;
  // Where this endpoint reads the snapshots it sends and writes those it receives. Set it
  // before start(); `files` must stay valid until stop() has returned (called from inside
  // a handler: until the transport is destroyed), after which the transport holds none
  // of its readers or writers. Without it, InstallSnapshot envelopes
  // sent are dropped (dropped_snapshot_unavailable) and reported not delivered, and those
  // arriving are refused (snapshot_transfers_refused).
  virtual void set_snapshot_files(SnapshotFiles* files) = 0;

  // Begins sending and receiving. No effect when running or after stop().
  virtual void start() = 0;
  // Ends sending and receiving. When it returns, no handler of this transport runs any
  // more and none will run again. Called from one of this transport's own handlers, it
  // returns without waiting for handlers already running. Idempotent.
  virtual void stop() = 0;

  // Queues `batch` for batch.to. Never blocks on the network and never throws: a batch
  // that cannot be sent is dropped and counted in stats().
  virtual void send(Batch batch) = 0;

  virtual TransportStats stats() const = 0;
};

}  // namespace synod::transport
