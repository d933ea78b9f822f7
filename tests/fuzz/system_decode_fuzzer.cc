// libFuzzer target for core/system's codec and apply(): system partition entries and
// snapshots are read from disk and from peers, so decoding must refuse anything malformed
// with a status, never crash or allocate more than the bytes present justify; and apply()
// must keep the state's invariants whatever a decodable command asks.
//
// Each input is decoded both as a command and as a state. Checked:
//   - a value that decodes re-encodes to exactly the input (the format is canonical);
//   - a decoded command, applied to each of samples::states(), either succeeds and leaves a
//     state that keeps check_invariants() and survives encode/decode, or is refused and
//     changes nothing;
//   - a decoded state keeps check_invariants(); the commands that finish or abort each of
//     its operations, and a split and a merge of each partition, apply to it under the
//     same rules; routing its partitions' bounds finds a partition that owns them.
// A violation prints what broke and traps, so libFuzzer reports the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "samples.h"
#include "synod/system/codec.h"
#include "synod/system/routing.h"

namespace synod::system::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "system_decode_fuzzer: %s\n", what.c_str());
  __builtin_trap();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

void apply_checked(SystemState state, const Command& command) {
  const SystemState before = state;
  const ApplyResult r = apply(state, command);
  if (!r.ok()) {
    check(state == before, "a refused command changed the state");
    check(to_string(r.status)[0] != '?', "refusal with an unnamed status");
    return;
  }
  const std::string broken = check_invariants(state);
  if (!broken.empty()) fail("apply broke an invariant: " + broken);
  SystemState back;
  check(decode_state(encode_state(state), back) == CodecStatus::Ok && back == state,
        "a state reached by apply() does not survive encode/decode");
}

void fuzz_command(std::string_view bytes) {
  Command command;
  const CodecStatus st = decode_command(bytes, command);
  check(to_string(st)[0] != '?', "decode_command returned an unnamed status");
  if (st != CodecStatus::Ok) return;
  check(encode_command(command) == bytes, "command does not re-encode to its bytes");
  static const std::vector<SystemState> states = samples::states();
  for (const SystemState& s : states) apply_checked(s, command);
}

void fuzz_state(std::string_view bytes) {
  SystemState state;
  const CodecStatus st = decode_state(bytes, state);
  check(to_string(st)[0] != '?', "decode_state returned an unnamed status");
  if (st != CodecStatus::Ok) return;
  check(encode_state(state) == bytes, "state does not re-encode to its bytes");
  check(check_invariants(state).empty(), "decode_state accepted a state breaking an invariant");

  const Router router(state.map);
  const Version v = state.map.version;
  for (const auto& [id, p] : state.map.partitions) {
    if (routes_keys(p)) {
      check(router.route_hash(p.range.lo)->partition == id &&
                router.route_hash(p.range.hi)->partition == id,
            "a partition's bounds do not route to it");
    }
    apply_checked(state, SplitComplete{v, id});
    apply_checked(state, SplitAbort{v, id});
    apply_checked(state, MergeComplete{v, id});
    apply_checked(state, MergeAbort{v, id});
    apply_checked(state, SplitBegin{v, id, {}});
    apply_checked(state, RemovePartition{v, id});
    // With the partition next in id order: adjacent or not, routed or not.
    if (auto next = state.map.partitions.upper_bound(id); next != state.map.partitions.end()) {
      apply_checked(state, MergeBegin{v, id, next->first});
    }
  }
  for (const auto& [id, m] : state.roster.members) {
    const Version rv = state.roster.version;
    apply_checked(state, PromoteMember{rv, id});
    apply_checked(state, MarkLeaving{rv, id});
    apply_checked(state, RemoveMember{rv, id});
  }
}

}  // namespace
}  // namespace synod::system::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  synod::system::fuzz::fuzz_command(bytes);
  synod::system::fuzz::fuzz_state(bytes);
  return 0;
}
