// The log type encoding (bindings/LOG_TYPES.md) through synod.h, checked against the
// vectors every binding's suite shares (bindings/log_type_vectors.txt).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "synod.h"

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(const std::string& hex) {
  Bytes out;
  if (hex == "-") return out;
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex: " + hex);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// One line of the vectors file; `line` names it in failures.
struct Vector {
  std::string op;
  bool is_string = false;
  std::uint64_t number = 0;
  std::string name;  // the UTF-8 bytes of a string type
  Bytes data;
  std::uint32_t entry_type = 0;
  Bytes payload;
  std::string line;
};

std::vector<Vector> read_vectors() {
  std::ifstream in(SYNOD_LOG_TYPE_VECTORS);
  if (!in) throw std::runtime_error("cannot read " SYNOD_LOG_TYPE_VECTORS);
  std::vector<Vector> vectors;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line.substr(0, line.find('#')));
    Vector v;
    std::string type, data, entry_type, payload;
    if (!(fields >> v.op >> type)) continue;  // blank or comment
    v.line = line;
    if (type.rfind("n:", 0) == 0) {
      v.number = std::stoull(type.substr(2));
    } else if (type.rfind("s:", 0) == 0) {
      v.is_string = true;
      const Bytes utf8 = from_hex(type.size() == 2 ? "-" : type.substr(2));
      v.name.assign(utf8.begin(), utf8.end());
    } else {
      throw std::runtime_error("bad type in: " + line);
    }
    if (v.op != "refuse") {
      if (!(fields >> data >> entry_type >> payload)) throw std::runtime_error("short: " + line);
      v.data = from_hex(data);
      v.entry_type = static_cast<std::uint32_t>(std::stoul(entry_type));
      v.payload = from_hex(payload);
    }
    vectors.push_back(std::move(v));
  }
  return vectors;
}

// The C ABI writes a number as the entry type itself: the rule every binding applies
// before calling synod_node_replicate.
bool number_is_writable(std::uint64_t n) { return n >= 1 && n <= SYNOD_LOG_TYPE_MAX_NUMBER; }

TEST(CapiLogType, EveryVectorEncodesAndDecodesAsSpecified) {
  const auto vectors = read_vectors();
  int both = 0, decode = 0, refuse = 0;
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.line);
    if (v.op == "both") {
      ++both;
      if (v.is_string) {
        Bytes out(v.data.size() + SYNOD_LOG_TYPE_MAX_OVERHEAD);
        std::uint32_t entry_type = 0;
        std::size_t len = 0;
        ASSERT_EQ(synod_log_type_encode(v.name.data(), v.name.size(), v.data.data(), v.data.size(),
                                        &entry_type, out.data(), out.size(), &len),
                  SYNOD_OK)
            << synod_last_error();
        out.resize(len);
        EXPECT_EQ(entry_type, v.entry_type);
        EXPECT_EQ(out, v.payload);
      } else {
        EXPECT_TRUE(number_is_writable(v.number));
        EXPECT_EQ(v.number, v.entry_type);
        EXPECT_EQ(v.data, v.payload);
      }
    } else if (v.op == "decode") {
      ++decode;
    } else if (v.op == "refuse") {
      ++refuse;
      if (v.is_string) {
        Bytes out(SYNOD_LOG_TYPE_MAX_OVERHEAD);
        std::uint32_t entry_type = 0;
        std::size_t len = 0;
        EXPECT_EQ(synod_log_type_encode(v.name.data(), v.name.size(), nullptr, 0, &entry_type,
                                        out.data(), out.size(), &len),
                  SYNOD_E_INVALID_ARGUMENT);
      } else {
        EXPECT_FALSE(number_is_writable(v.number));
      }
      continue;
    } else {
      FAIL() << "unknown op " << v.op;
    }
    const char* name = nullptr;
    std::size_t name_len = 0;
    const std::uint8_t* data = nullptr;
    std::size_t len = 0;
    ASSERT_EQ(synod_log_type_decode(v.entry_type, v.payload.data(), v.payload.size(), &name,
                                    &name_len, &data, &len),
              SYNOD_OK);
    if (v.is_string) {
      ASSERT_NE(name, nullptr);
      EXPECT_EQ(std::string(name, name_len), v.name);
    } else {
      EXPECT_EQ(name, nullptr);
      EXPECT_EQ(name_len, 0u);
      EXPECT_EQ(v.number, v.entry_type);
    }
    EXPECT_EQ(Bytes(data, data + len), v.data);
  }
  // The file is whole: a truncated or misread file fails here, not silently.
  EXPECT_GE(both, 10);
  EXPECT_GE(decode, 8);
  EXPECT_GE(refuse, 8);
}

TEST(CapiLogType, EncodeSaysHowMuchRoomItNeeds) {
  const std::string data = "payload";
  std::uint8_t small[4];
  std::uint32_t entry_type = 0;
  std::size_t len = 0;
  EXPECT_EQ(synod_log_type_encode("Order", 5, reinterpret_cast<const std::uint8_t*>(data.data()),
                                  data.size(), &entry_type, small, sizeof small, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(len, 1u + 5u + data.size());
  EXPECT_NE(std::string(synod_last_error()).find("needs 13 bytes"), std::string::npos)
      << synod_last_error();
  EXPECT_EQ(synod_log_type_encode("Order", 5, nullptr, 0, &entry_type, nullptr, 0, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(len, 6u);
}

TEST(CapiLogType, NullPointersAreRefused) {
  std::uint8_t out[16];
  std::uint32_t entry_type = 0;
  std::size_t len = 0;
  EXPECT_EQ(synod_log_type_encode(nullptr, 1, nullptr, 0, &entry_type, out, sizeof out, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_log_type_encode("a", 1, nullptr, 1, &entry_type, out, sizeof out, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_log_type_encode("a", 1, nullptr, 0, nullptr, out, sizeof out, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_log_type_encode("a", 1, nullptr, 0, &entry_type, out, sizeof out, nullptr),
            SYNOD_E_INVALID_ARGUMENT);
  const char* name = nullptr;
  std::size_t name_len = 0;
  const std::uint8_t* data = nullptr;
  EXPECT_EQ(synod_log_type_decode(1, nullptr, 1, &name, &name_len, &data, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_log_type_decode(1, out, 1, nullptr, &name_len, &data, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_log_type_decode(1, out, 1, &name, &name_len, nullptr, &len),
            SYNOD_E_INVALID_ARGUMENT);
  EXPECT_EQ(synod_log_type_decode(1, nullptr, 0, &name, &name_len, &data, &len), SYNOD_OK);
  EXPECT_EQ(len, 0u);
}

}  // namespace
