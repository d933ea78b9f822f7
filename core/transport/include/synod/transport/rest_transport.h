// The REST transport: HTTP/1.1 with protobuf bodies, for hosts where HTTP/2 (gRPC) is not
// available or not allowed through.
//
// Each batch is one `POST /synod/v1/batches` whose body is the serialized wire Batch
// (synod/wire.proto, Content-Type application/x-protobuf). The receiver answers 200 once it
// has handed the batch over, 4xx when it refuses it (foreign cluster, unknown sender, wrong
// destination, malformed, too large, bad signature, a snapshot it cannot store) and 503
// while it is not running.
//
// Per peer, one sender thread posts the batches in order over one keep-alive connection
// (closed after 5 s idle), waiting for each answer before the next. A 200 counts a batch
// (or snapshot) delivered. A failed request (no connection, broken connection, 5xx) is a
// broken link: queues, back-off and loss reporting are the shared link layer's
// (network_transport.h). A refused batch (4xx) is gone and the link goes on.
//
// A snapshot is posted from its file as a series of chunk batches (SnapshotChunk), taking
// turns with the peer's other batches; the receiver writes them, per sender, into a file
// (SnapshotFiles) and hands the InstallSnapshot over once the file is committed. HTTP
// does not tell the receiver that a sender's link broke: an unfinished transfer is given
// up when the sender begins another one, or when the endpoint stops. See
// core/transport/README.md.
//
// Threads: one per peer (sending), one that runs the unreachable and snapshot status
// handlers, the HTTP server's accept thread and its pool of connection threads, which run
// the receiver.
//
// Security (security.h): Plain; Tls (the server presents its certificate, senders verify
// it against the CA, host name or IP included); MutualTls (the server also requires a
// client certificate signed by the CA); SharedSecret (plain HTTP, each POST signed with
// HMAC-SHA256 in the X-Synod-Sender, X-Synod-Timestamp, X-Synod-Nonce and
// X-Synod-Signature headers).
#pragma once

#include <memory>
#include <string>

#include "synod/transport/network_transport.h"

namespace synod::transport {

struct RestTransportOptions : NetworkTransportOptions {};

class RestTransport final : public detail::LinkTransport {
 public:
  // The path batches are posted to.
  static constexpr const char* kBatchPath = "/synod/v1/batches";
  static constexpr const char* kContentType = "application/x-protobuf";

  // Binds the listening socket now (so the port is known before start()); nullptr and
  // *error on failure (address in use, bad address, invalid options or security files).
  static std::unique_ptr<RestTransport> create(RestTransportOptions options, std::string* error);

 private:
  using LinkTransport::LinkTransport;
};

}  // namespace synod::transport
