// What batch_decode_fuzzer and its seed corpus writer share: the secret and the clock of
// the authenticator that checks frames, so that seed frames verify and their mutations
// reach the refusals.
//
// An input is the bytes of one protobuf message, read both as a wire Batch and as a Frame
// (whose batch bytes are then read as a Batch too).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "batch_authenticator.h"

namespace synod::transport::fuzz {

inline constexpr std::string_view kSecret = "synod fuzzing secret, 32 bytes..";
// The fixed wall clock of every run, in ms since the epoch (2023-11-14).
inline constexpr std::int64_t kNowMs = 1'700'000'000'000;

// A fresh authenticator per input keeps runs independent of one another.
inline BatchAuthenticator make_authenticator() {
  return BatchAuthenticator(kSecret, std::chrono::seconds(30), 64, [] { return kNowMs; });
}

}  // namespace synod::transport::fuzz
