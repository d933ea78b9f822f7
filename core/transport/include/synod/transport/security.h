// Transport security, shared by the network transports (gRPC, REST).
//
// Modes:
// - Plain: no encryption, no authentication. The transport reports a warning through
//   on_warning when it is created, because anyone who can reach the port can talk Raft.
// - Tls: the server presents cert_file/key_file; clients verify it against ca_file.
// - MutualTls: as Tls, and the server also requires a client certificate signed by
//   ca_file, so only holders of a cluster certificate can connect.
// - SharedSecret: plain-text connections, but every batch is signed with HMAC-SHA256
//   over its encoded body, sender, timestamp and nonce (BatchAuthenticator). A receiver
//   refuses a bad signature, a timestamp outside max_clock_skew, and a nonce it has seen
//   within that window (a replay), counting each. It authenticates, it does not encrypt:
//   anyone on the path can read the traffic.
//
// Certificates identify a cluster, not a node: any holder of a certificate signed by
// ca_file (or of the shared secret) may claim any node id in a batch header.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace synod::transport {

enum class SecurityMode : std::uint8_t { Plain, Tls, MutualTls, SharedSecret };
const char* to_string(SecurityMode mode);

inline constexpr std::size_t kMinSharedSecretBytes = 16;

struct TransportSecurity {
  SecurityMode mode = SecurityMode::Plain;
  // Tls and MutualTls: PEM files. ca_file verifies the peer; cert_file and key_file are
  // this node's identity (a node is both server and client).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // SharedSecret: the key of every node of the cluster (at least 16 bytes).
  std::string shared_secret;
  // SharedSecret: how far a batch's timestamp may be from the receiver's clock.
  // At most 1 hour: a receiver remembers each nonce for up to twice this long.
  std::chrono::milliseconds max_clock_skew{30'000};
  // SharedSecret: how many (sender, nonce) pairs a receiver remembers at most. When it is
  // full of unexpired nonces, batches are refused (refused_replay_cache_full) rather than
  // accepted unchecked. Size it above (batches per second from all peers) x 2 x skew; an
  // entry costs about 64 bytes.
  std::size_t replay_cache_capacity = std::size_t{1} << 20;
};

// Checks `security` for use: for the TLS modes, that the three files are readable PEM, the
// CA file holds a certificate and the key belongs to the certificate; for SharedSecret,
// that the secret has at least kMinSharedSecretBytes, the skew lies in (0, 1 h] and the
// replay cache can hold something. Returns false with the reason in *error.
bool validate(const TransportSecurity& security, std::string* error);

// Where transports report conditions an operator should see (the plain-mode warning).
using WarningSink = std::function<void(std::string_view message)>;

}  // namespace synod::transport
