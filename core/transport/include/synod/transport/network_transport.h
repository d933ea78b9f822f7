// Network transports: endpoints that listen on an address and dial their peers over TCP
// (GrpcTransport, RestTransport).
//
// NetworkTransport adds to Transport what membership changes need while a node runs: the
// port it listens on, and its peers, which may be added, moved and removed at any time.
//
// Both network transports share one link layer (core/transport/src: peer_link, link_set,
// inbound, notifier, endpoint_state); each supplies only how one batch goes over the
// wire (its session) and its server side. What that layer guarantees, per peer:
// - A bounded queue (max_queued_batches_per_peer counts queued batches and those written
//   but not yet acknowledged); beyond it, send() drops (dropped_queue_full).
// - One thread and one lock of its own: a slow or unreachable peer never delays sends to
//   another, nor send() itself.
// - In-order delivery: batches to one peer arrive in the order send() took them, one at
//   a time.
// - Losses are counted and reported: when a dial fails or a connection breaks, the
//   batches queued and unacknowledged are dropped (dropped_peer_down) and handed to the
//   unreachable handler; the link then waits out an exponential back-off
//   (reconnect_min .. reconnect_max, reset by a new address or by an answer from the
//   peer), during which send() drops at once.
// - Every snapshot streams from its file in chunks of snapshot_chunk_bytes, read one at a
//   time as the peer takes them (at most a few chunks ahead), taking turns with the
//   peer's other batches; the receiver writes them into a file and commits it before it
//   hands the InstallSnapshot over. A snapshot the receiver refuses or cannot store is
//   reported not delivered.
// - Every InstallSnapshot envelope gets one snapshot status report (transport.h).
// On arrival: batches of another cluster, from a node that is not a peer, or for another
// node are refused and counted; batches from one sender are handed over one at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "synod/transport/security.h"
#include "synod/transport/transport.h"

namespace synod::transport {

// The options both network transports take.
struct NetworkTransportOptions {
  ClusterId cluster = 0;
  NodeId self = raft::kNoNode;
  // "host:port"; "127.0.0.1:0" binds an ephemeral port, which listen_port() tells. IPv6
  // hosts in brackets.
  std::string listen_address;
  // Known peers: node id -> "host:port". Batches from nodes not listed are refused and
  // counted. See NetworkTransport::set_peer() and remove_peer() to change them later.
  std::map<NodeId, std::string> peers;
  // Batches queued, in flight or awaiting acknowledgement per peer; beyond:
  // dropped_queue_full.
  std::size_t max_queued_batches_per_peer = 1024;
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  // Largest encoded batch sent or accepted; a bigger one is dropped (dropped_too_large) or
  // refused on arrival.
  std::size_t max_message_bytes = 64 << 20;  // at least 4096
  // Snapshots leave their batch and stream from their files in chunks of this size
  // (smaller if max_message_bytes requires), sent in order and interleaved with the
  // peer's other batches.
  std::size_t snapshot_chunk_bytes = 1 << 20;
  // Largest snapshot file streamed or accepted; a bigger one is dropped
  // (dropped_too_large) or refused on arrival.
  std::uint64_t max_snapshot_bytes = std::uint64_t{1} << 30;
  // How peers authenticate and whether traffic is encrypted (security.h); create() checks
  // it with validate(). Plain text by default, which create() reports through on_warning.
  TransportSecurity security;
  // Receives create()'s warning about plain text; nothing is reported when unset.
  WarningSink on_warning;
};

// A transport that listens on a TCP port and dials its peers. Every method is
// thread-safe and may be called while the transport runs.
class NetworkTransport : public Transport {
 public:
  // The port bound at creation (so known before start()).
  virtual int listen_port() const = 0;
  // Adds a peer, or gives a known one a new address. A new peer can be sent to and is
  // accepted as a sender at once. A new address closes the connection to the old one:
  // the batches written there and not yet acknowledged are lost (dropped_peer_down,
  // reported), the queued ones go to the new address, which is dialled at once.
  virtual void set_peer(NodeId peer, std::string address) = 0;
  // Forgets a peer: its connection is closed, the batches queued or unacknowledged for it
  // are lost (counted dropped_peer_unknown and reported to the unreachable and snapshot
  // status handlers), later sends to it are dropped as dropped_peer_unknown, and batches
  // from it are refused as from an unknown sender. No effect for an unknown peer.
  virtual void remove_peer(NodeId peer) = 0;
};

namespace detail {

class LinkEndpoint;

// The implementation the network transports of this library share (the link layer
// above); each derives from it and adds only its create(). Not meant to be derived from
// elsewhere.
class LinkTransport : public NetworkTransport {
 public:
  // Stops first. Must not run inside one of this transport's own handlers.
  ~LinkTransport() override;
  LinkTransport(const LinkTransport&) = delete;
  LinkTransport& operator=(const LinkTransport&) = delete;

  int listen_port() const final;
  void set_peer(NodeId peer, std::string address) final;
  void remove_peer(NodeId peer) final;

  void set_receiver(Receiver receiver) final;
  void set_unreachable_handler(UnreachableHandler handler) final;
  void set_snapshot_status_handler(SnapshotStatusHandler handler) final;
  void set_snapshot_files(SnapshotFiles* files) final;
  void start() final;
  void stop() final;
  void send(Batch batch) final;
  TransportStats stats() const final;

 protected:
  explicit LinkTransport(std::unique_ptr<LinkEndpoint> endpoint);

 private:
  std::unique_ptr<LinkEndpoint> endpoint_;
};

}  // namespace detail
}  // namespace synod::transport
