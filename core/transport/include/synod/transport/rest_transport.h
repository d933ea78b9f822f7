// The REST transport: HTTP/1.1 with protobuf bodies, for hosts where HTTP/2 (gRPC) is not
// available or not allowed through.
//
// Each batch is one `POST /synod/v1/batches` whose body is the serialized wire Batch
// (synod/wire.proto, Content-Type application/x-protobuf). The receiver answers 200 once it
// has handed the batch over, 4xx when it refuses it (foreign cluster, unknown sender, wrong
// destination, malformed, too large, bad signature) and 503 while it is not running.
//
// Per peer, one sender thread posts the batches in order over one keep-alive connection,
// waiting for each answer before the next, so batches to one peer arrive in order and one
// at a time. A failed request (no connection, broken connection, 5xx) drops the batch in
// flight and those queued as dropped_peer_down and hands them to the unreachable handler;
// the thread then reconnects with exponential back-off, and while it waits, send() drops
// batches for that peer at once. A refused batch (4xx) is gone and the link goes on.
//
// A snapshot of more than snapshot_chunk_bytes is posted as a series of chunk batches
// (SnapshotChunk, wire 1.2), taking turns with the peer's other batches; the receiver
// reassembles it per sender and hands it over whole. See core/transport/README.md.
//
// Threads: one per peer (sending), one that runs the unreachable handler, the HTTP
// server's accept thread and its pool of connection threads, which run the receiver.
//
// Security (security.h): Plain; Tls (the server presents its certificate, senders verify
// it against the CA, host name or IP included); MutualTls (the server also requires a
// client certificate signed by the CA); SharedSecret (plain HTTP, each POST signed with
// HMAC-SHA256 in the X-Synod-Sender, X-Synod-Timestamp, X-Synod-Nonce and
// X-Synod-Signature headers).
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

struct RestTransportOptions {
  ClusterId cluster = 0;
  NodeId self = raft::kNoNode;
  // "127.0.0.1:0" binds an ephemeral port; listen_port() tells which. IPv6 in brackets.
  std::string listen_address;
  // Known peers: node id -> "host:port". Batches from nodes not listed are refused and
  // counted.
  std::map<NodeId, std::string> peers;
  // Batches queued or in flight per peer; beyond: dropped_queue_full.
  std::size_t max_queued_batches_per_peer = 1024;
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  // Largest encoded batch sent or accepted; a bigger one is dropped (dropped_too_large) or
  // refused on arrival (413).
  std::size_t max_message_bytes = 64 << 20;  // at least 4096
  // A snapshot with more data than this leaves its batch and streams in chunks of this
  // size (smaller if max_message_bytes requires), sent in order and interleaved with the
  // peer's other batches; the receiver puts it back together before handing it over.
  std::size_t snapshot_chunk_bytes = 1 << 20;
  // Largest snapshot streamed or accepted; a bigger one is dropped (dropped_too_large) or
  // refused on arrival. The receiver holds a snapshot whole in memory.
  std::uint64_t max_snapshot_bytes = std::uint64_t{1} << 30;
  TransportSecurity security;
  // Receives the warning about plain text; nothing is reported when unset.
  WarningSink on_warning;
};

class RestTransport final : public Transport {
 public:
  // The path batches are posted to.
  static constexpr const char* kBatchPath = "/synod/v1/batches";
  static constexpr const char* kContentType = "application/x-protobuf";

  // Binds the listening socket now (so the port is known before start()); nullptr and
  // *error on failure (address in use, bad address, invalid options or security files).
  static std::unique_ptr<RestTransport> create(RestTransportOptions options, std::string* error);
  // Stops first. Must not run inside one of this transport's own handlers.
  ~RestTransport() override;
  RestTransport(const RestTransport&) = delete;
  RestTransport& operator=(const RestTransport&) = delete;

  int listen_port() const;
  // Adds or changes a peer's address, at any time (also after start()). A request already
  // on its way to the old address finishes there; the next one goes to the new address.
  void set_peer(NodeId peer, std::string address);

  void set_receiver(Receiver receiver) override;
  void set_unreachable_handler(UnreachableHandler handler) override;
  void start() override;
  void stop() override;
  void send(Batch batch) override;
  TransportStats stats() const override;

 private:
  struct Impl;
  explicit RestTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::transport
