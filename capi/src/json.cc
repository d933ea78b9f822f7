#include "json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "errors.h"

namespace synod::capi {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

int hand_out(const char* function, const std::string& text, char** out, std::size_t* out_len) {
  // malloc, so that synod_free (free) releases it whatever allocator C++ uses.
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (!copy) return fail(SYNOD_E_NOMEM, std::string(function) + ": out of memory");
  std::memcpy(copy, text.c_str(), text.size() + 1);
  *out = copy;
  if (out_len) *out_len = text.size();
  return SYNOD_OK;
}

}  // namespace synod::capi
