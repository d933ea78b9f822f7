// The synod-kv state machine and its command encoding: the list append the fault harness's
// log-append workload uses, beside the register commands.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace synod_kv
