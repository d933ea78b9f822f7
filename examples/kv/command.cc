#include "command.h"

namespace synod_kv {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

bool get_u32(std::string_view& in, std::uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(4);
  return true;
}

void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

bool get_string(std::string_view& in, std::string& s) {
  std::uint32_t n = 0;
  if (!get_u32(in, n) || in.size() < n) return false;
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

}  // namespace

// Layout: op (1 byte), key, value, then for CompareAndSet a presence byte and the
// expected value; strings are a 4-byte big-endian length and the bytes.
std::string encode(const Command& command) {
  std::string out;
  out += static_cast<char>(command.op);
  put_string(out, command.key);
  put_string(out, command.value);
  if (command.op == Op::CompareAndSet) {
    out += static_cast<char>(command.expected ? 1 : 0);
    if (command.expected) put_string(out, *command.expected);
  }
  return out;
}

std::optional<Command> decode(std::string_view in) {
  if (in.empty()) return std::nullopt;
  Command c;
  const auto op = static_cast<std::uint8_t>(in[0]);
  if (op < 1 || op > 4) return std::nullopt;
  c.op = static_cast<Op>(op);
  in.remove_prefix(1);
  if (!get_string(in, c.key) || !get_string(in, c.value)) return std::nullopt;
  if (c.op == Op::CompareAndSet) {
    if (in.empty()) return std::nullopt;
    const bool present = in[0] == 1;
    in.remove_prefix(1);
    if (present) {
      std::string expected;
      if (!get_string(in, expected)) return std::nullopt;
      c.expected = std::move(expected);
    }
  }
  if (!in.empty()) return std::nullopt;
  return c;
}

std::uint64_t partition_of(std::string_view key, std::uint32_t partitions) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char ch : key) {
    hash ^= static_cast<unsigned char>(ch);
    hash *= 1099511628211ull;
  }
  return hash % partitions + 1;
}

}  // namespace synod_kv
