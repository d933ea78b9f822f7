// The gRPC transport: the default way nodes talk to each other.
//
// Each endpoint listens on one address and dials each peer it sends to, holding one
// long-lived bidirectional stream per peer (so one stream per direction between two
// nodes) that carries the batches of every partition. The receiver acknowledges each
// batch it has handled, and an acknowledgement is what counts a batch (or snapshot)
// delivered, unless it says the batch was refused (wire 1.3). Queues, back-off, loss reporting and admission are the shared link layer's
// (network_transport.h).
//
// A snapshot streams from its file as a series of chunk batches (SnapshotChunk) on the
// same stream, taking turns with the peer's other batches; the receiver writes them into a
// file (SnapshotFiles) and hands the InstallSnapshot over once the file is committed. A
// stream that ends mid-transfer gives the transfer up. See core/transport/README.md.
//
// Security (options.security): TLS or mutual TLS on every connection, or in shared-secret
// mode an HMAC on every batch, which the receiver checks before it decodes the batch and
// counts when it refuses one (TransportStats::refused_*). A failed TLS handshake is a
// failed connection: the sender counts its batches as dropped_peer_down.
//
// Threads: one per peer (dialling and writing, plus a reader of acknowledgements while a
// stream is open), one that runs the unreachable and snapshot status handlers, and gRPC's
// server threads, which run the receiver (batches from one sender one at a time).
#pragma once

#include <memory>
#include <string>

#include "synod/transport/network_transport.h"

namespace synod::transport {

// TLS (security): peers are dialled at the address given, and the certificate each
// presents must name that host (a subjectAltName IP entry for an IP address, DNS for a
// name). SharedSecret: batches travel signed on the SignedStream call (wire.proto).
// max_message_bytes must be below 2^31.
struct GrpcTransportOptions : NetworkTransportOptions {};

class GrpcTransport final : public detail::LinkTransport {
 public:
  // Binds the listening socket now (so the port is known before start()); nullptr and
  // *error on failure (address in use, bad address, invalid options).
  static std::unique_ptr<GrpcTransport> create(GrpcTransportOptions options, std::string* error);

 private:
  using LinkTransport::LinkTransport;
};

}  // namespace synod::transport
