// The codec of commands and states: round trips of every kind, a pinned layout, and every
// refusal of malformed bytes.
#include "synod/system/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "samples.h"
#include "test_util.h"

namespace synod::system::testing {
namespace {

constexpr std::uint64_t kTop = ~std::uint64_t{0};

// The samples (shared with the fuzz target's seeds) hold what they promise.
TEST(SystemCodec, SamplesCoverEveryKindAndEveryState) {
  std::vector<bool> kinds(std::variant_size_v<Command>);
  for (const Command& c : samples::commands()) kinds[c.index()] = true;
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), false), 0);
  const SystemState s = samples::busy_state();
  EXPECT_EQ(check_invariants(s), "");
  std::vector<bool> states(4);
  for (const auto& [id, p] : s.map.partitions) states[static_cast<std::size_t>(p.state)] = true;
  EXPECT_EQ(std::count(states.begin(), states.end(), false), 0);
  EXPECT_EQ(part(s, 5).mode, RoutingMode::Unrouted);
  EXPECT_EQ(s.roster.members.at(2).role, MemberRole::Leaving);
  EXPECT_EQ(s.roster.members.at(9).role, MemberRole::Learner);
  EXPECT_EQ(s.roster.retired, std::vector<NodeId>{10});
}

CodecStatus decode_command_status(std::string_view bytes) {
  Command c;
  return decode_command(bytes, c);
}

CodecStatus decode_state_status(std::string_view bytes) {
  SystemState s;
  return decode_state(bytes, s);
}

TEST(SystemCodec, EveryCommandRoundTrips) {
  for (const Command& c : samples::commands()) {
    const std::string bytes = encode_command(c);
    Command back;
    ASSERT_EQ(decode_command(bytes, back), CodecStatus::Ok) << "kind " << c.index();
    EXPECT_TRUE(back == c) << "kind " << c.index();
    EXPECT_EQ(encode_command(back), bytes);
  }
}

TEST(SystemCodec, StateRoundTrips) {
  for (const SystemState& s :
       {SystemState{}, bootstrapped(0, 0), bootstrapped(16), samples::busy_state()}) {
    const std::string bytes = encode_state(s);
    SystemState back;
    ASSERT_EQ(decode_state(bytes, back), CodecStatus::Ok);
    EXPECT_TRUE(back == s);
    EXPECT_EQ(encode_state(back), bytes);
  }
}

// The layout is a wire and disk format: a change to it must be deliberate (a new format
// version), not a side effect.
TEST(SystemCodec, LayoutIsPinned) {
  EXPECT_EQ(encode_command(SplitBegin{2, 3, 0x0102030405060708ULL}),
            std::string("\x01\x04"                           // format, kind
                        "\x02\0\0\0\0\0\0\0"                 // expected version
                        "\x03\0\0\0\0\0\0\0"                 // partition
                        "\x01"                               // has boundary
                        "\x08\x07\x06\x05\x04\x03\x02\x01",  // boundary
                        27));
  EXPECT_EQ(encode_command(AddLearner{1, 2, "ab"}),
            std::string("\x01\x0a\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0\x02\0\0\0ab", 24));
  SystemState s = bootstrapped(1, 1);
  EXPECT_EQ(encode_state(s), std::string("\x01"
                                         "\x01\0\0\0\0\0\0\0"                // map version
                                         "\x02\0\0\0\0\0\0\0"                // next id
                                         "\x01\0\0\0"                        // one partition
                                         "\x01\0\0\0\0\0\0\0"                // id
                                         "\x00\x01"                          // active, hash range
                                         "\0\0\0\0\0\0\0\0"                  // lo
                                         "\xff\xff\xff\xff\xff\xff\xff\xff"  // hi
                                         "\x01\0\0\0\0\0\0\0"                // generation
                                         "\0\0\0\0\0\0\0\0"                  // peer
                                         "\x01\0\0\0\0\0\0\0"                // roster version
                                         "\x01\0\0\0"                        // one member
                                         "\x01\0\0\0\0\0\0\0"                // id
                                         "\x06\0\0\0node-1"                  // address
                                         "\x01"                              // voter
                                         "\x01\0\0\0\0\0\0\0"                // joined at
                                         "\0\0\0\0",                         // no retired ids
                                         106));
}

TEST(SystemCodec, RefusesUnknownVersions) {
  EXPECT_EQ(decode_command_status(""), CodecStatus::UnknownVersion);
  EXPECT_EQ(decode_state_status(""), CodecStatus::UnknownVersion);
  std::string c = encode_command(RemovePartition{1, 2});
  std::string s = encode_state(bootstrapped(2));
  for (char v : {'\x00', '\x02', '\xff'}) {
    c[0] = v;
    s[0] = v;
    EXPECT_EQ(decode_command_status(c), CodecStatus::UnknownVersion);
    EXPECT_EQ(decode_state_status(s), CodecStatus::UnknownVersion);
  }
}

TEST(SystemCodec, RefusesEveryTruncationAndTrailingBytes) {
  std::vector<std::string> encodings;
  for (const Command& c : samples::commands()) encodings.push_back(encode_command(c));
  for (const std::string& bytes : encodings) {
    for (std::size_t n = 1; n < bytes.size(); ++n) {
      ASSERT_EQ(decode_command_status(bytes.substr(0, n)), CodecStatus::Truncated)
          << "command prefix of " << n << " of " << bytes.size();
    }
    EXPECT_EQ(decode_command_status(bytes + '\0'), CodecStatus::TrailingBytes);
  }
  const std::string state = encode_state(samples::busy_state());
  for (std::size_t n = 1; n < state.size(); ++n) {
    ASSERT_EQ(decode_state_status(state.substr(0, n)), CodecStatus::Truncated)
        << "state prefix of " << n << " of " << state.size();
  }
  EXPECT_EQ(decode_state_status(state + 'x'), CodecStatus::TrailingBytes);
}

TEST(SystemCodec, RefusesValuesOutsideTheirDomain) {
  EXPECT_EQ(decode_command_status(std::string("\x01\x00", 2)), CodecStatus::BadValue);
  EXPECT_EQ(decode_command_status(std::string("\x01\x0e", 2)), CodecStatus::BadValue);
  std::string create = encode_command(CreatePartition{0, RoutingMode::Unrouted, {}});
  create[10] = 2;  // routing mode
  EXPECT_EQ(decode_command_status(create), CodecStatus::BadValue);
  std::string split = encode_command(SplitBegin{0, 1, {}});
  split[18] = 2;  // has_boundary
  EXPECT_EQ(decode_command_status(split), CodecStatus::BadValue);

  const std::string state = encode_state(bootstrapped(1, 1));
  std::string bad_state = state;
  bad_state[29] = 4;  // partition state
  EXPECT_EQ(decode_state_status(bad_state), CodecStatus::BadValue);
  std::string bad_role = state;
  bad_role[93] = 3;  // member role
  EXPECT_EQ(decode_state_status(bad_role), CodecStatus::BadValue);
}

TEST(SystemCodec, RefusesOversizedCountsBeforeAllocating) {
  // An address one byte over the limit, and a list count over its limit: refused as
  // oversized even though the bytes are not there.
  EXPECT_EQ(decode_command_status(
                encode_command(AddLearner{1, 2, std::string(kMaxAddressSize + 1, 'a')})),
            CodecStatus::Oversized);
  std::string bootstrap = encode_command(Bootstrap{1, {}});
  bootstrap.replace(6, 4, std::string("\x11\x27\0\0", 4));  // 10001 founders
  EXPECT_EQ(decode_command_status(bootstrap), CodecStatus::Oversized);
  // A count within the limit but beyond the bytes present.
  bootstrap.replace(6, 4, std::string("\x10\x27\0\0", 4));  // 10000 founders
  EXPECT_EQ(decode_command_status(bootstrap), CodecStatus::Truncated);

  std::string state = encode_state(bootstrapped(0, 0));
  state.replace(17, 4, std::string("\x41\x42\x0f\x00", 4));  // 1000001 partitions
  EXPECT_EQ(decode_state_status(state), CodecStatus::Oversized);
  state.replace(17, 4, std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(decode_state_status(state), CodecStatus::Oversized);
}

TEST(SystemCodec, RefusesStatesThatBreakAnInvariant) {
  auto refused = [](const SystemState& s) { return decode_state_status(encode_state(s)); };
  SystemState s = bootstrapped(2);
  s.map.partitions.at(2).range.lo = 5;  // overlaps partition 1
  EXPECT_EQ(refused(s), CodecStatus::Invalid);
  s = bootstrapped(2);
  s.map.partitions.at(1).peer = 2;  // a peer that does not name it back
  EXPECT_EQ(refused(s), CodecStatus::Invalid);
  s = bootstrapped(2);
  s.map.next_id = 2;  // partition 2 at or above next_id
  EXPECT_EQ(refused(s), CodecStatus::Invalid);
  s = bootstrapped(2);
  s.roster.retired = {2};  // a retired id still a member
  EXPECT_EQ(refused(s), CodecStatus::Invalid);
  s = bootstrapped(2);
  s.roster.members.at(1).role = MemberRole::Leaving;
  s.roster.members.at(2).role = MemberRole::Leaving;
  EXPECT_EQ(refused(s), CodecStatus::Invalid);
  s = bootstrapped(2);
  s.roster.version = 0;
  EXPECT_EQ(refused(s), CodecStatus::Invalid);

  // Ids out of order: two partitions swapped in the bytes.
  SystemState two = bootstrapped(0);
  apply_ok(two, CreatePartition{0, RoutingMode::Unrouted, {}});
  apply_ok(two, CreatePartition{0, RoutingMode::Unrouted, {}});
  std::string bytes = encode_state(two);
  constexpr std::size_t kFirst = 21;
  constexpr std::size_t kUnroutedSize = 8 + 1 + 1 + 8 + 8;
  const std::string a = bytes.substr(kFirst, kUnroutedSize);
  const std::string b = bytes.substr(kFirst + kUnroutedSize, kUnroutedSize);
  bytes.replace(kFirst, 2 * kUnroutedSize, b + a);
  EXPECT_EQ(decode_state_status(bytes), CodecStatus::Invalid);
}

TEST(SystemCodec, StatusNames) {
  for (int v = 0; v <= static_cast<int>(CodecStatus::Invalid); ++v) {
    EXPECT_STRNE(to_string(static_cast<CodecStatus>(v)), "?") << v;
  }
}

}  // namespace
}  // namespace synod::system::testing
