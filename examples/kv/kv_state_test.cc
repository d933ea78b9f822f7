// The synod-kv state machine and its command encoding: the list append the fault harness's
// log-append workload uses, beside the register commands, and snapshots of both.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "command.h"
#include "kv_state.h"

namespace synod_kv {
namespace {

TEST(KvCommand, AppendRoundTrips) {
  Command c;
  c.op = Op::Append;
  c.key = "list";
  c.value = "v1";
  const auto decoded = decode(encode(c));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->op, Op::Append);
  EXPECT_EQ(decoded->key, "list");
  EXPECT_EQ(decoded->value, "v1");
}

TEST(KvCommand, UnknownOpIsNotACommand) {
  Command c;
  c.op = Op::Append;
  std::string bytes = encode(c);
  bytes[0] = 5;
  EXPECT_FALSE(decode(bytes).has_value());
}

TEST(KvState, AppendsTakeSuccessivePositionsApartFromValues) {
  KvState state;
  auto append = [](const std::string& value) {
    Command c;
    c.op = Op::Append;
    c.key = "k";
    c.value = value;
    return encode(c);
  };
  Command put;
  put.key = "k";
  put.value = "plain";
  state.apply(1, 1, encode(put));
  state.apply(1, 2, append("a"));
  state.apply(1, 3, append("b"));
  const auto first = state.await_outcome(1, 2, 0);
  const auto second = state.await_outcome(1, 3, 0);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->position, 0u);
  EXPECT_EQ(second->position, 1u);
  EXPECT_EQ(state.list(1, "k"), (std::vector<std::string>{"a", "b"}));
  // A key's list and its value are separate.
  EXPECT_EQ(state.get(1, "k"), "plain");
  EXPECT_TRUE(state.list(2, "k").empty());
  EXPECT_TRUE(state.list(1, "other").empty());
}

// A snapshot in memory, read back in small pieces so records straddle reads.
class BufferWriter : public synod::node::SnapshotWriter {
 public:
  bool write(const void* data, std::size_t size) override {
    bytes.append(static_cast<const char*>(data), size);
    return true;
  }
  const std::string& why() const override { return why_; }
  std::string bytes;

 private:
  std::string why_;
};

class BufferReader : public synod::node::SnapshotReader {
 public:
  explicit BufferReader(std::string bytes) : bytes_(std::move(bytes)) {}
  std::uint64_t size() const override { return bytes_.size(); }
  std::int64_t read(void* out, std::size_t size) override {
    const std::size_t n = std::min({size, bytes_.size() - at_, std::size_t{3}});
    std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
    return static_cast<std::int64_t>(n);
  }
  const std::string& why() const override { return why_; }

 private:
  std::string bytes_;
  std::size_t at_ = 0;
  std::string why_;
};

std::string command(Op op, const std::string& key, const std::string& value) {
  Command c;
  c.op = op;
  c.key = key;
  c.value = value;
  return encode(c);
}

// The partition's snapshot as `state` saves it (empty when the save fails).
std::string saved(const KvState& state, std::uint64_t partition) {
  BufferWriter out;
  std::string why;
  const bool ok = state.save(partition, out, why);
  EXPECT_TRUE(ok) << why;
  return ok ? out.bytes : std::string();
}

TEST(KvState, SnapshotCarriesValuesAndLists) {
  KvState source;
  source.apply(1, 1, command(Op::Put, "a", "1"));
  source.apply(1, 2, command(Op::Append, "a", "x"));
  source.apply(1, 3, command(Op::Append, "list", "first"));
  source.apply(1, 4, command(Op::Append, "list", ""));
  source.apply(1, 5, command(Op::Append, "list", "third"));
  source.apply(1, 6, command(Op::Put, "empty", ""));
  source.apply(2, 1, command(Op::Append, "elsewhere", "y"));
  const std::string bytes = saved(source, 1);
  ASSERT_FALSE(bytes.empty());

  // The copy already holds state the snapshot must replace, lists included.
  KvState copy;
  copy.apply(1, 1, command(Op::Put, "stale", "s"));
  copy.apply(1, 2, command(Op::Append, "list", "stale"));
  BufferReader in(bytes);
  std::string why;
  ASSERT_TRUE(copy.install(1, 6, in, why)) << why;
  EXPECT_EQ(copy.applied(1), 6u);
  EXPECT_EQ(copy.get(1, "a"), "1");
  EXPECT_EQ(copy.get(1, "empty"), "");
  EXPECT_FALSE(copy.get(1, "stale").has_value());
  EXPECT_EQ(copy.list(1, "a"), (std::vector<std::string>{"x"}));
  EXPECT_EQ(copy.list(1, "list"), (std::vector<std::string>{"first", "", "third"}));
  EXPECT_TRUE(copy.list(1, "elsewhere").empty());

  // Appends after the install continue the restored list.
  copy.apply(1, 7, command(Op::Append, "list", "fourth"));
  const auto outcome = copy.await_outcome(1, 7, 0);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->position, 3u);
}

TEST(KvState, DamagedSnapshotIsRefusedAndLeavesTheStateAsItWas) {
  KvState source;
  source.apply(1, 1, command(Op::Put, "k", "value"));
  source.apply(1, 2, command(Op::Append, "l", "item"));
  const std::string bytes = saved(source, 1);
  ASSERT_FALSE(bytes.empty());

  KvState copy;
  copy.apply(1, 1, command(Op::Put, "k", "old"));
  // Cut anywhere inside a record (a cut at the first record's end, 15 bytes, is a shorter
  // snapshot, which the records alone cannot tell from a whole one).
  const std::size_t first_record = 1 + 4 + 1 + 4 + 5;
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    if (cut == first_record) continue;
    BufferReader in(bytes.substr(0, cut));
    std::string why;
    EXPECT_FALSE(copy.install(1, 2, in, why)) << "cut at " << cut;
    EXPECT_FALSE(why.empty());
  }
  std::string unknown = bytes;
  unknown[0] = 'x';
  BufferReader in(unknown);
  std::string why;
  EXPECT_FALSE(copy.install(1, 2, in, why));
  EXPECT_NE(why.find("unknown kind"), std::string::npos) << why;
  EXPECT_EQ(copy.get(1, "k"), "old");
  EXPECT_TRUE(copy.list(1, "l").empty());
  EXPECT_EQ(copy.applied(1), 1u);
}

}  // namespace
}  // namespace synod_kv
