#include "batch_authenticator.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace synod::transport {
namespace {

void put_u64(unsigned char (&out)[8], std::uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value);
    value >>= 8;
  }
}

// Rounds towards negative infinity, so that buckets of negative timestamps line up too.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// |a - b| without overflow, whatever a timestamp from the wire holds.
std::uint64_t distance(std::int64_t a, std::int64_t b) {
  const auto ua = static_cast<std::uint64_t>(a);
  const auto ub = static_cast<std::uint64_t>(b);
  return a < b ? ub - ua : ua - ub;
}

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

}  // namespace

std::int64_t BatchAuthenticator::system_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

BatchAuthenticator::BatchAuthenticator(std::string_view secret,
                                       std::chrono::milliseconds max_skew,
                                       std::size_t capacity, WallClock clock)
    : secret_(secret),
      hmac_(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr)),
      max_skew_ms_(std::max<std::int64_t>(max_skew.count(), 1)),
      // About 8 buckets per skew: dropping whole buckets keeps entries at most an eighth of
      // the window longer than needed.
      bucket_ms_(std::max<std::int64_t>(max_skew_ms_ / 8, 1)),
      capacity_(std::max<std::size_t>(capacity, 1)),
      clock_(std::move(clock)) {}

BatchAuthenticator::~BatchAuthenticator() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
  EVP_MAC_free(hmac_);
}

bool BatchAuthenticator::mac(std::string_view body, NodeId sender, std::int64_t timestamp_ms,
                             std::string_view nonce, unsigned char (&out)[kMacBytes]) const {
  if (!hmac_) return false;
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(hmac_));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret_.data()),
                           secret_.size(), params) != 1) {
    return false;
  }
  const auto domain_length = static_cast<unsigned char>(kDomain.size());
  const unsigned char nonce_length = static_cast<unsigned char>(nonce.size());
  unsigned char sender_bytes[8];
  unsigned char timestamp_bytes[8];
  unsigned char body_length[8];
  put_u64(sender_bytes, sender);
  put_u64(timestamp_bytes, static_cast<std::uint64_t>(timestamp_ms));
  put_u64(body_length, body.size());
  auto update = [&](const void* data, std::size_t size) {
    return EVP_MAC_update(ctx.get(), static_cast<const unsigned char*>(data), size) == 1;
  };
  std::size_t written = 0;
  return update(&domain_length, 1) && update(kDomain.data(), kDomain.size()) &&
         update(sender_bytes, 8) && update(timestamp_bytes, 8) && update(&nonce_length, 1) &&
         update(nonce.data(), nonce.size()) && update(body_length, 8) &&
         update(body.data(), body.size()) &&
         EVP_MAC_final(ctx.get(), out, &written, kMacBytes) == 1 && written == kMacBytes;
}

std::optional<Signature> BatchAuthenticator::sign(std::string_view body, NodeId sender) const {
  Signature signature;
  signature.timestamp_ms = clock_();
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, kNonceBytes) != 1) return std::nullopt;
  signature.nonce.assign(reinterpret_cast<const char*>(nonce), kNonceBytes);
  unsigned char out[kMacBytes];
  if (!mac(body, sender, signature.timestamp_ms, signature.nonce, out)) return std::nullopt;
  signature.mac.assign(reinterpret_cast<const char*>(out), kMacBytes);
  return signature;
}

BatchAuthenticator::Verdict BatchAuthenticator::verify(std::string_view body, NodeId sender,
                                                       const Signature& signature) {
  if (signature.nonce.size() != kNonceBytes || signature.mac.size() != kMacBytes) {
    return Verdict::BadSignature;
  }
  unsigned char expected[kMacBytes];
  if (!mac(body, sender, signature.timestamp_ms, signature.nonce, expected) ||
      CRYPTO_memcmp(expected, signature.mac.data(), kMacBytes) != 0) {
    return Verdict::BadSignature;
  }

  const std::int64_t now = clock_();
  if (distance(signature.timestamp_ms, now) > static_cast<std::uint64_t>(max_skew_ms_)) {
    return Verdict::Stale;
  }
  Seen seen{sender, {}};
  std::memcpy(seen.nonce.data(), signature.nonce.data(), kNonceBytes);

  std::lock_guard lock(mu_);
  forget_before(now - max_skew_ms_);
  if (signature.timestamp_ms < horizon_ms_) return Verdict::Stale;
  // A copy carries the same timestamp (the MAC covers it), so it sits in the same bucket.
  const std::int64_t number = floor_div(signature.timestamp_ms, bucket_ms_);
  const auto it = buckets_.find(number);
  if (it != buckets_.end() && it->second.contains(seen)) return Verdict::Replayed;
  if (size_ >= capacity_) return Verdict::CacheFull;
  (it != buckets_.end() ? it->second : buckets_[number]).insert(seen);
  ++size_;
  return Verdict::Ok;
}

void BatchAuthenticator::forget_before(std::int64_t horizon) {
  // The bucket holding `horizon` stays; everything before it goes.
  const std::int64_t first_kept = floor_div(horizon, bucket_ms_);
  const auto end = buckets_.lower_bound(first_kept);
  for (auto it = buckets_.begin(); it != end; ++it) size_ -= it->second.size();
  buckets_.erase(buckets_.begin(), end);
  horizon_ms_ = std::max(horizon_ms_, first_kept * bucket_ms_);
}

std::size_t BatchAuthenticator::remembered() const {
  std::lock_guard lock(mu_);
  return size_;
}

// Unkeyed: only holders of the secret get a nonce into the cache, and they could do worse
// than choose colliding ones.
std::size_t BatchAuthenticator::SeenHash::operator()(const Seen& seen) const {
  static_assert(sizeof seen.sender == 8);
  char bytes[8 + kNonceBytes];
  std::memcpy(bytes, &seen.sender, 8);
  std::memcpy(bytes + 8, seen.nonce.data(), kNonceBytes);
  return std::hash<std::string_view>{}(std::string_view(bytes, sizeof bytes));
}

const char* to_string(BatchAuthenticator::Verdict verdict) {
  switch (verdict) {
    case BatchAuthenticator::Verdict::Ok: return "ok";
    case BatchAuthenticator::Verdict::BadSignature: return "bad signature";
    case BatchAuthenticator::Verdict::Stale: return "stale";
    case BatchAuthenticator::Verdict::Replayed: return "replayed";
    case BatchAuthenticator::Verdict::CacheFull: return "replay cache full";
  }
  return "unknown";
}

}  // namespace synod::transport
