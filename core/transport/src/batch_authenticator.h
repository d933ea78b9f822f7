// Signs and verifies encoded batches for the SharedSecret mode (security.h); shared by
// every network transport, which only moves the Signature next to the bytes it covers.
//
// Usage: the sender encodes its batch to bytes, calls sign(bytes, self) and sends the bytes
// with the Signature. The receiver calls verify(bytes, claimed sender, signature) on the
// bytes exactly as received, before parsing them, and handles the batch only on Ok. After
// Ok, the batch header must name the same sender that was verified.
//
// The MAC is HMAC-SHA256, keyed with the shared secret, over this byte string (integers
// big-endian, every field of fixed width or length-prefixed, so that no two different
// inputs share an encoding):
//   u8 14 · "synod-batch-v1" · u64 sender · i64 timestamp_ms · u8 16 · nonce (16 bytes)
//   · u64 body length · body
//
// verify() answers, checked in this order:
//   BadSignature  nonce or MAC of the wrong size, or a MAC that does not match (compared
//                 in constant time);
//   Stale         timestamp more than max_skew away from the receiver's clock, or older
//                 than nonces this authenticator has already forgotten (see below);
//   Replayed      (sender, nonce) already accepted while its timestamp was in the window;
//   CacheFull     the replay cache holds `capacity` unexpired nonces: refused, since
//                 accepting a batch it cannot remember would let it be replayed;
//   Ok            otherwise; the nonce is now remembered.
//
// Replay cache: a nonce is remembered until its timestamp is older than now - max_skew,
// after which a copy would be Stale anyway. Entries are grouped by timestamp into buckets,
// and whole buckets are dropped once all their timestamps left the window, so expiry is
// cheap and memory is bounded by `capacity`. The forgotten horizon only moves forward, so
// a receiver whose wall clock steps back does not accept a copy of a batch it forgot.
//
// Clocks: timestamps are wall-clock milliseconds since the Unix epoch, because they are
// compared across machines; nodes need clocks within max_skew of one another.
//
// Thread-safe: sign() and verify() may run concurrently from any threads.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "synod/transport/transport.h"

// OpenSSL's EVP_MAC, kept out of this header.
struct evp_mac_st;

namespace synod::transport {

struct Signature {
  std::int64_t timestamp_ms = 0;
  std::string nonce;  // kNonceBytes random bytes
  std::string mac;    // kMacBytes: HMAC-SHA256
};

class BatchAuthenticator {
 public:
  static constexpr std::size_t kNonceBytes = 16;
  static constexpr std::size_t kMacBytes = 32;
  static constexpr std::string_view kDomain = "synod-batch-v1";

  enum class Verdict : std::uint8_t { Ok, BadSignature, Stale, Replayed, CacheFull };

  // Wall-clock milliseconds since the Unix epoch.
  using WallClock = std::function<std::int64_t()>;
  static std::int64_t system_clock_ms();

  // `secret` should have at least kMinSharedSecretBytes (validate() checks the options);
  // max_skew must be positive, capacity at least 1.
  BatchAuthenticator(std::string_view secret, std::chrono::milliseconds max_skew,
                     std::size_t capacity, WallClock clock = system_clock_ms);
  ~BatchAuthenticator();
  BatchAuthenticator(const BatchAuthenticator&) = delete;
  BatchAuthenticator& operator=(const BatchAuthenticator&) = delete;

  // Signs `body` as sent by `sender` at the clock's now, with a fresh nonce from OpenSSL's
  // CSPRNG. nullopt only if the CSPRNG or HMAC fails; then nothing may be sent.
  std::optional<Signature> sign(std::string_view body, NodeId sender) const;

  Verdict verify(std::string_view body, NodeId sender, const Signature& signature);

  // Nonces remembered now (for tests and metrics).
  std::size_t remembered() const;

 private:
  struct Seen {
    NodeId sender;
    std::array<unsigned char, kNonceBytes> nonce;
    friend bool operator==(const Seen&, const Seen&) = default;
  };
  struct SeenHash {
    std::size_t operator()(const Seen& seen) const;
  };
  using Bucket = std::unordered_set<Seen, SeenHash>;

  bool mac(std::string_view body, NodeId sender, std::int64_t timestamp_ms,
           std::string_view nonce, unsigned char (&out)[kMacBytes]) const;
  // Drops buckets whose timestamps all lie before `horizon`. Needs mu_.
  void forget_before(std::int64_t horizon);

  std::string secret_;
  evp_mac_st* hmac_;
  const std::int64_t max_skew_ms_;
  const std::int64_t bucket_ms_;
  const std::size_t capacity_;
  const WallClock clock_;

  mutable std::mutex mu_;
  // Bucket number (timestamp / bucket_ms_) -> nonces with a timestamp in it.
  std::map<std::int64_t, Bucket> buckets_;
  std::size_t size_ = 0;
  // Every timestamp before it has been forgotten; never decreases.
  std::int64_t horizon_ms_ = std::numeric_limits<std::int64_t>::min();
};

const char* to_string(BatchAuthenticator::Verdict verdict);

}  // namespace synod::transport
