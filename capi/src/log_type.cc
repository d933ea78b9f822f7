// Log types: the one encoding of number and string types (bindings/LOG_TYPES.md).
#include <cstring>
#include <string>

#include "errors.h"
#include "synod.h"

namespace {

using synod::capi::fail;

uint32_t fnv1a(const uint8_t* bytes, size_t len) {
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    hash ^= bytes[i];
    hash *= 16777619u;
  }
  return hash;
}

uint32_t string_entry_type(const uint8_t* name, size_t len) {
  return SYNOD_LOG_TYPE_STRING_FLAG | fnv1a(name, len);
}

// Strict UTF-8 (RFC 3629): shortest forms only, no surrogates, nothing above U+10FFFF,
// the same bytes Python, .NET and Java accept when they decode strictly.
bool valid_utf8(const uint8_t* s, size_t len) {
  size_t i = 0;
  while (i < len) {
    const uint8_t b = s[i];
    size_t extra;
    uint8_t lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      extra = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      extra = 2;
      if (b == 0xE0) lo = 0xA0;  // overlong
      if (b == 0xED) hi = 0x9F;  // surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      extra = 3;
      if (b == 0xF0) lo = 0x90;  // overlong
      if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (len - i <= extra) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k <= extra; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

int invalid(const char* function, const std::string& what) {
  return fail(SYNOD_E_INVALID_ARGUMENT, std::string(function) + ": " + what);
}

}  // namespace

extern "C" {

SYNOD_API int synod_log_type_encode(const char* name, size_t name_len, const uint8_t* data,
                                    size_t len, uint32_t* out_type, uint8_t* out, size_t out_cap,
                                    size_t* out_len) {
  constexpr const char* fn = "synod_log_type_encode";
  return synod::capi::guarded(fn, [&]() -> int {
    if (!out_type || !out_len) return invalid(fn, "an out pointer is NULL");
    if (!name && name_len != 0) return invalid(fn, "name is NULL but name_len is not 0");
    if (!data && len != 0) return invalid(fn, "data is NULL but len is not 0");
    if (name_len == 0) return invalid(fn, "a string type must not be empty");
    if (name_len > SYNOD_LOG_TYPE_MAX_STRING) {
      return invalid(fn, "the type is " + std::to_string(name_len) + " bytes; at most " +
                             std::to_string(SYNOD_LOG_TYPE_MAX_STRING) + " fit");
    }
    const auto* utf8 = reinterpret_cast<const uint8_t*>(name);
    if (!valid_utf8(utf8, name_len)) return invalid(fn, "the type is not valid UTF-8");
    // name_len <= 255, so the sum overflows only for a len no buffer can hold.
    if (len > SIZE_MAX - 1 - name_len) return invalid(fn, "len is too large");
    const size_t needed = 1 + name_len + len;
    *out_len = needed;
    if (!out || out_cap < needed) {
      return invalid(fn, "the output needs " + std::to_string(needed) + " bytes, has " +
                             std::to_string(out ? out_cap : 0));
    }
    out[0] = static_cast<uint8_t>(name_len);
    std::memcpy(out + 1, utf8, name_len);
    if (len > 0) std::memcpy(out + 1 + name_len, data, len);
    *out_type = string_entry_type(utf8, name_len);
    return SYNOD_OK;
  });
}

SYNOD_API int synod_log_type_decode(uint32_t entry_type, const uint8_t* payload, size_t len,
                                    const char** out_name, size_t* out_name_len,
                                    const uint8_t** out_data, size_t* out_len) {
  constexpr const char* fn = "synod_log_type_decode";
  if (!out_name || !out_name_len || !out_data || !out_len) {
    return invalid(fn, "an out pointer is NULL");
  }
  if (!payload && len != 0) return invalid(fn, "payload is NULL but len is not 0");
  *out_name = nullptr;
  *out_name_len = 0;
  *out_data = payload;
  *out_len = len;
  if ((entry_type & SYNOD_LOG_TYPE_STRING_FLAG) == 0 || len == 0) return SYNOD_OK;
  const size_t n = payload[0];
  if (n == 0 || 1 + n > len) return SYNOD_OK;
  const uint8_t* name = payload + 1;
  if (string_entry_type(name, n) != entry_type || !valid_utf8(name, n)) return SYNOD_OK;
  *out_name = reinterpret_cast<const char*>(name);
  *out_name_len = n;
  *out_data = payload + 1 + n;
  *out_len = len - 1 - n;
  return SYNOD_OK;
}

}  // extern "C"
