// BatchAuthenticator: what it accepts and refuses, on a clock the tests move by hand.
#include "batch_authenticator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace synod::transport {
namespace {

using namespace std::chrono_literals;
using Verdict = BatchAuthenticator::Verdict;

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::chrono::milliseconds kSkew = 30s;
constexpr std::int64_t kStart = 1'700'000'000'000;  // ms since the epoch, in 2023

struct Fixture {
  std::atomic<std::int64_t> now{kStart};
  BatchAuthenticator::WallClock clock() {
    return [this] { return now.load(); };
  }
};

class BatchAuthenticatorTest : public ::testing::Test {
 protected:
  BatchAuthenticator make(std::string_view secret = kSecret, std::size_t capacity = 1024) {
    return BatchAuthenticator(secret, kSkew, capacity, time.clock());
  }
  Fixture time;
};

Signature signed_by(const BatchAuthenticator& a, std::string_view body, NodeId sender) {
  auto signature = a.sign(body, sender);
  EXPECT_TRUE(signature.has_value());
  return signature.value_or(Signature{});
}

TEST_F(BatchAuthenticatorTest, SignatureVerifies) {
  auto a = make();
  const Signature s = signed_by(a, "body", 1);
  EXPECT_EQ(s.timestamp_ms, kStart);
  EXPECT_EQ(s.nonce.size(), BatchAuthenticator::kNonceBytes);
  EXPECT_EQ(s.mac.size(), BatchAuthenticator::kMacBytes);
  EXPECT_EQ(a.verify("body", 1, s), Verdict::Ok);
  // Another endpoint with the same secret agrees.
  auto b = make();
  EXPECT_EQ(b.verify("body", 1, s), Verdict::Ok);
  EXPECT_EQ(b.verify("", 1, signed_by(b, "", 1)), Verdict::Ok);
}

TEST_F(BatchAuthenticatorTest, NoncesAreFresh) {
  auto a = make();
  std::set<std::string> nonces;
  for (int i = 0; i < 1000; ++i) nonces.insert(signed_by(a, "body", 1).nonce);
  EXPECT_EQ(nonces.size(), 1000u);
}

TEST_F(BatchAuthenticatorTest, AnyChangeBreaksTheSignature) {
  auto a = make();
  const std::string body = "a batch of raft messages";
  const Signature s = signed_by(a, body, 1);

  for (std::size_t bit = 0; bit < body.size() * 8; bit += 7) {
    std::string flipped = body;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(a.verify(flipped, 1, s), Verdict::BadSignature) << "body bit " << bit;
  }
  EXPECT_EQ(a.verify(body + "x", 1, s), Verdict::BadSignature);
  EXPECT_EQ(a.verify(body.substr(1), 1, s), Verdict::BadSignature);
  for (std::size_t bit = 0; bit < BatchAuthenticator::kMacBytes * 8; bit += 5) {
    Signature t = s;
    t.mac[bit / 8] = static_cast<char>(t.mac[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(a.verify(body, 1, t), Verdict::BadSignature) << "mac bit " << bit;
  }
  for (std::size_t bit = 0; bit < BatchAuthenticator::kNonceBytes * 8; bit += 3) {
    Signature t = s;
    t.nonce[bit / 8] = static_cast<char>(t.nonce[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(a.verify(body, 1, t), Verdict::BadSignature) << "nonce bit " << bit;
  }
  EXPECT_EQ(a.verify(body, 2, s), Verdict::BadSignature);
  EXPECT_EQ(a.verify(body, 1ull << 32 | 1, s), Verdict::BadSignature);
  Signature later = s;
  later.timestamp_ms += 1;
  EXPECT_EQ(a.verify(body, 1, later), Verdict::BadSignature);
  // None of those was remembered; the original still verifies once.
  EXPECT_EQ(a.remembered(), 0u);
  EXPECT_EQ(a.verify(body, 1, s), Verdict::Ok);
}

TEST_F(BatchAuthenticatorTest, WrongSizesAreBadSignatures) {
  auto a = make();
  const Signature s = signed_by(a, "body", 1);
  Signature t = s;
  t.nonce.pop_back();
  EXPECT_EQ(a.verify("body", 1, t), Verdict::BadSignature);
  t = s;
  t.nonce.push_back('\0');
  EXPECT_EQ(a.verify("body", 1, t), Verdict::BadSignature);
  t = s;
  t.mac.resize(16);
  EXPECT_EQ(a.verify("body", 1, t), Verdict::BadSignature);
  EXPECT_EQ(a.verify("body", 1, Signature{}), Verdict::BadSignature);
}

TEST_F(BatchAuthenticatorTest, WrongSecretIsABadSignature) {
  auto a = make();
  auto other = make("another secret of 32 bytes......");
  EXPECT_EQ(a.verify("body", 1, signed_by(other, "body", 1)), Verdict::BadSignature);
  // A secret that is a prefix of the right one is as wrong.
  auto prefix = make(kSecret.substr(0, 31));
  EXPECT_EQ(a.verify("body", 1, signed_by(prefix, "body", 1)), Verdict::BadSignature);
}

TEST_F(BatchAuthenticatorTest, TimestampsOutsideTheSkewAreStale) {
  auto a = make();
  const Signature now = signed_by(a, "body", 1);
  time.now = kStart - kSkew.count() - 1;
  const Signature old = signed_by(a, "body", 1);
  time.now = kStart + kSkew.count() + 1;
  const Signature future = signed_by(a, "body", 1);
  time.now = kStart - kSkew.count();
  const Signature oldest_fresh = signed_by(a, "body", 1);
  time.now = kStart + kSkew.count();
  const Signature newest_fresh = signed_by(a, "body", 1);

  time.now = kStart;
  EXPECT_EQ(a.verify("body", 1, old), Verdict::Stale);
  EXPECT_EQ(a.verify("body", 1, future), Verdict::Stale);
  EXPECT_EQ(a.verify("body", 1, oldest_fresh), Verdict::Ok);
  EXPECT_EQ(a.verify("body", 1, newest_fresh), Verdict::Ok);
  EXPECT_EQ(a.verify("body", 1, now), Verdict::Ok);
}

TEST_F(BatchAuthenticatorTest, ExtremeTimestampsAreStaleNotOverflows) {
  time.now = std::numeric_limits<std::int64_t>::min();
  auto a = make();
  const Signature min = signed_by(a, "body", 1);
  time.now = std::numeric_limits<std::int64_t>::max();
  const Signature max = signed_by(a, "body", 1);
  time.now = kStart;
  EXPECT_EQ(a.verify("body", 1, min), Verdict::Stale);
  EXPECT_EQ(a.verify("body", 1, max), Verdict::Stale);
}

TEST_F(BatchAuthenticatorTest, ASecondCopyIsAReplay) {
  auto a = make();
  const Signature s = signed_by(a, "body", 1);
  EXPECT_EQ(a.verify("body", 1, s), Verdict::Ok);
  EXPECT_EQ(a.verify("body", 1, s), Verdict::Replayed);
  time.now += kSkew.count();
  EXPECT_EQ(a.verify("body", 1, s), Verdict::Replayed);
  // Once the copy would be stale, the nonce is forgotten; the copy stays refused.
  time.now += 1;
  EXPECT_EQ(a.verify("body", 1, s), Verdict::Stale);
  // Forgotten a bucket (an eighth of the skew) later at the latest.
  time.now += kSkew.count() / 8;
  EXPECT_EQ(a.verify("body", 1, signed_by(a, "body", 1)), Verdict::Ok);
  EXPECT_EQ(a.remembered(), 1u);
}

TEST_F(BatchAuthenticatorTest, AForgottenBatchStaysRefusedWhenTheClockStepsBack) {
  auto a = make();
  const Signature s = signed_by(a, "body", 1);
  EXPECT_EQ(a.verify("body", 1, s), Verdict::Ok);
  // Far ahead: everything remembered is dropped.
  time.now = kStart + 10 * kSkew.count();
  EXPECT_EQ(a.verify("body", 1, signed_by(a, "body", 1)), Verdict::Ok);
  EXPECT_EQ(a.remembered(), 1u);
  // The wall clock is set back: the copy's timestamp is in the window again, but it is
  // older than what was forgotten.
  time.now = kStart;
  EXPECT_EQ(a.verify("body", 1, s), Verdict::Stale);
}

TEST_F(BatchAuthenticatorTest, AFullCacheRefusesUntilEntriesExpire) {
  auto a = make(kSecret, 4);
  const Signature first = signed_by(a, "body", 1);
  EXPECT_EQ(a.verify("body", 1, first), Verdict::Ok);
  for (int i = 0; i < 3; ++i) {
    time.now += 1000;
    EXPECT_EQ(a.verify("body", 1, signed_by(a, "body", 1)), Verdict::Ok);
  }
  EXPECT_EQ(a.remembered(), 4u);
  const Signature refused = signed_by(a, "body", 1);
  EXPECT_EQ(a.verify("body", 1, refused), Verdict::CacheFull);
  // Full, and a replay is still recognised as one.
  EXPECT_EQ(a.verify("body", 1, first), Verdict::Replayed);
  EXPECT_EQ(a.remembered(), 4u);
  // Once the first one's timestamp has left the window (by a bucket, at most an eighth of
  // the skew), there is room again.
  time.now = kStart + kSkew.count() + kSkew.count() / 8;
  EXPECT_EQ(a.verify("body", 1, signed_by(a, "body", 1)), Verdict::Ok);
  EXPECT_LT(a.remembered(), 5u);
}

TEST_F(BatchAuthenticatorTest, SendersHaveSeparateNonces) {
  auto a = make();
  // Only a holder of the secret could sign the same nonce for two senders; each verifies.
  const Signature s1 = signed_by(a, "body", 1);
  EXPECT_EQ(a.verify("body", 1, s1), Verdict::Ok);
  EXPECT_EQ(a.verify("body", 2, s1), Verdict::BadSignature);
}

TEST_F(BatchAuthenticatorTest, ConcurrentCopiesAreAcceptedOnce) {
  auto a = make();
  std::vector<Signature> signatures;
  for (int i = 0; i < 200; ++i) signatures.push_back(signed_by(a, "body", 1 + i % 3));
  std::atomic<int> ok{0};
  std::atomic<int> replayed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const Verdict v = a.verify("body", 1 + i % 3, signatures[i]);
        if (v == Verdict::Ok) ++ok;
        if (v == Verdict::Replayed) ++replayed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(replayed.load(), 600);
}

TEST(BatchAuthenticatorVerdict, HasNames) {
  EXPECT_STREQ(to_string(Verdict::Ok), "ok");
  EXPECT_STREQ(to_string(Verdict::BadSignature), "bad signature");
  EXPECT_STREQ(to_string(Verdict::Stale), "stale");
  EXPECT_STREQ(to_string(Verdict::Replayed), "replayed");
  EXPECT_STREQ(to_string(Verdict::CacheFull), "replay cache full");
}

}  // namespace
}  // namespace synod::transport
