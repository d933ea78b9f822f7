// The gRPC transport: the default way nodes talk to each other.
//
// Each endpoint listens on one address and dials each peer it sends to, holding one
// long-lived bidirectional stream per peer (so one stream per direction between two
// nodes) that carries the batches of every partition. The receiver acknowledges each
// batch it has handled; when a stream breaks, the batches it had not acknowledged and
// those still queued are dropped as dropped_peer_down and handed to the unreachable
// handler. The endpoint then redials with exponential back-off, and while it waits,
// send() drops batches for that peer at once.
//
// A snapshot of more than snapshot_chunk_bytes streams as a series of chunk batches
// (SnapshotChunk, wire 1.2) on the same stream, taking turns with the peer's other batches;
// the receiver reassembles it and hands it over whole. See core/transport/README.md.
//
// Security (options.security): TLS or mutual TLS on every connection, or in shared-secret
// mode an HMAC on every batch, which the receiver checks before it decodes the batch and
// counts when it refuses one (TransportStats::refused_*). A failed TLS handshake is a
// failed connection: the sender counts its batches as dropped_peer_down.
//
// Threads: one per peer (dialling and writing, plus a reader of acknowledgements while a
// stream is open), one that runs the unreachable handler, and gRPC's server threads,
// which run the receiver (one stream at a time per sender, so batches from one sender
// arrive one at a time).
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

struct GrpcTransportOptions {
  ClusterId cluster = 0;
  NodeId self = raft::kNoNode;
  // "127.0.0.1:0" binds an ephemeral port; listen_port() tells which.
  std::string listen_address;
  // Known peers: node id -> "host:port". Batches from nodes not listed are refused and
  // counted.
  std::map<NodeId, std::string> peers;
  // Batches queued or awaiting acknowledgement per peer; beyond: dropped_queue_full.
  std::size_t max_queued_batches_per_peer = 1024;
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  // Largest encoded batch sent or accepted; a bigger one is dropped (dropped_too_large).
  std::size_t max_message_bytes = 64 << 20;  // at least 4096
  // A snapshot with more data than this leaves its batch and streams in chunks of this
  // size (smaller if max_message_bytes requires), sent in order and interleaved with the
  // peer's other batches; the receiver puts it back together before handing it over.
  std::size_t snapshot_chunk_bytes = 1 << 20;
  // Largest snapshot streamed or accepted; a bigger one is dropped (dropped_too_large) or
  // refused on arrival. The receiver holds a snapshot whole in memory.
  std::uint64_t max_snapshot_bytes = std::uint64_t{1} << 30;
  // How peers authenticate and whether traffic is encrypted (security.h); create() checks
  // it with validate(). Plain text by default, which create() reports through on_warning.
  // TLS: peers are dialled at the address given, and the certificate each presents must
  // name that host (a subjectAltName IP entry for an IP address, DNS for a name).
  // SharedSecret: batches travel signed on the SignedStream call (wire.proto).
  TransportSecurity security;
  WarningSink on_warning;
};

class GrpcTransport final : public Transport {
 public:
  // Binds the listening socket now (so the port is known before start()); nullptr and
  // *error on failure (address in use, bad address, invalid options).
  static std::unique_ptr<GrpcTransport> create(GrpcTransportOptions options, std::string* error);
  // Stops first. Must not run inside one of this transport's own handlers.
  ~GrpcTransport() override;
  GrpcTransport(const GrpcTransport&) = delete;
  GrpcTransport& operator=(const GrpcTransport&) = delete;

  int listen_port() const;
  // Adds or changes a peer's address, at any time (also after start()). A stream open to
  // the old address is closed, which counts its unacknowledged batches as dropped.
  void set_peer(NodeId peer, std::string address);

  void set_receiver(Receiver receiver) override;
  void set_unreachable_handler(UnreachableHandler handler) override;
  void start() override;
  void stop() override;
  void send(Batch batch) override;
  TransportStats stats() const override;

 private:
  struct Impl;
  explicit GrpcTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::transport
