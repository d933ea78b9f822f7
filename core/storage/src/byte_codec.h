// Little-endian fixed-width encoding and a bounds-checked reader, shared by the stored
// records (records.cc) and the snapshot file header (snapshot_file_format.cc), so both
// encode numbers and configurations one way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synod/raft/types.h"

namespace synod::storage {

inline void put_le32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(v >> shift));
}

inline void put_le64(std::string& out, std::uint64_t v) {
  for (int shift = 0; shift < 64; shift += 8) out.push_back(static_cast<char>(v >> shift));
}

// `in` holds at least 4 (8) bytes.
inline std::uint32_t get_le32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

inline std::uint64_t get_le64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

// Reads an encoding front to back; any read past the end marks it failed, so a length
// read from damaged bytes is never trusted beyond the bytes present.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v) {
    if (in_.size() < 1) return fail();
    v = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (in_.size() < 4) return fail();
    v = get_le32(in_);
    in_.remove_prefix(4);
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (in_.size() < 8) return fail();
    v = get_le64(in_);
    in_.remove_prefix(8);
    return true;
  }
  // A count (u32) then that many node ids (u64 each).
  bool ids(std::vector<raft::NodeId>& out) {
    std::uint32_t n = 0;
    if (!u32(n) || in_.size() / 8 < n) return fail();
    out.resize(n);
    for (auto& id : out) u64(id);
    return ok_;
  }
  std::string_view rest() {
    std::string_view r = in_;
    in_ = {};
    return r;
  }
  bool done() const { return ok_ && in_.empty(); }
  bool ok() const { return ok_; }

 private:
  bool fail() {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace synod::storage
