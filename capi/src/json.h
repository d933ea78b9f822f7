// Writing JSON, for the functions that hand the host a document (status, metrics), and
// handing a text out as a malloc'ed, NUL-terminated copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace synod::capi {

// Appends `text` as a JSON string literal.
void append_json_string(std::string& out, std::string_view text);
// Appends `value` in the shortest form that reads back exactly; null when not finite
// (JSON has no NaN or infinity).
void append_json_number(std::string& out, double value);

// Writes `{`, then members separated by commas, and `}` when it goes out of scope.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  ~JsonObject() { out_ += '}'; }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  // Writes the member's name; the caller appends its value to what is returned.
  std::string& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, name);
    out_ += ':';
    return out_;
  }
  void number(std::string_view name, std::uint64_t value) { key(name) += std::to_string(value); }
  void real(std::string_view name, double value) { append_json_number(key(name), value); }
  void boolean(std::string_view name, bool value) { key(name) += value ? "true" : "false"; }
  void string(std::string_view name, std::string_view value) {
    append_json_string(key(name), value);
  }

 private:
  std::string& out_;
  bool first_ = true;
};

// Copies `text` into a malloc'ed NUL-terminated buffer (freed with synod_free) in *out,
// its length without the NUL in *out_len when out_len is not NULL. SYNOD_OK, or
// SYNOD_E_NOMEM naming `function`.
int hand_out(const char* function, const std::string& text, char** out, std::size_t* out_len);

}  // namespace synod::capi
