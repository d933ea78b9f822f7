// The binary encoding of commands (the payload of a system partition entry) and of the
// whole state (the system partition's snapshot).
//
// Both start with a format version byte; numbers are fixed-width little-endian; strings
// and lists are a u32 count then the items. The encoding is canonical: a value has one
// encoding, and decoding accepts only that one (so decode then encode gives back the
// same bytes). Decoding reads untrusted bytes: it never trusts a count beyond the bytes
// present or the k* limits of types.h, and refuses with a status rather than crashing.
// The layout is specified beside the code, in codec.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "synod/system/commands.h"
#include "synod/system/types.h"

namespace synod::system {

// The format versions written; a decoder refuses any other.
inline constexpr std::uint8_t kCommandFormat = 1;
inline constexpr std::uint8_t kStateFormat = 1;

enum class CodecStatus : std::uint8_t {
  Ok = 0,
  // Empty input, or a format version this code does not know.
  UnknownVersion,
  // The bytes end inside a value.
  Truncated,
  // Bytes remain after the value.
  TrailingBytes,
  // A count or string length beyond its limit (kMaxPartitions, kMaxAddressSize, ...).
  Oversized,
  // A command kind, enum value or flag byte outside its domain.
  BadValue,
  // A state that decodes but breaks a rule of check_invariants(), or lists ids out of
  // order.
  Invalid,
};
const char* to_string(CodecStatus status);

std::string encode_command(const Command& command);
// On anything but Ok, `out` is unspecified.
CodecStatus decode_command(std::string_view bytes, Command& out);

std::string encode_state(const SystemState& state);
// On Ok, `out` also keeps every rule of check_invariants(); otherwise it is unspecified.
CodecStatus decode_state(std::string_view bytes, SystemState& out);

}  // namespace synod::system
