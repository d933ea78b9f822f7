// Layout (all integers little-endian; string = u32 length · bytes; list = u32 count · items):
//
// command: format (u8 = kCommandFormat) · kind (u8, the position in Command + 1) · fields
//   Bootstrap        partitions u32 · list of (id u64 · address string)
//   CreatePartition  expected u64 · mode u8 · [lo u64 · hi u64 when mode is HashRange]
//   SplitBegin       expected u64 · partition u64 · has_boundary u8 (0|1) · [boundary u64]
//   MergeBegin       expected u64 · source u64 · target u64
//   AddLearner       expected u64 · id u64 · address string
//   the others       expected u64 · partition or member id u64
//
// state: format (u8 = kStateFormat)
//   map:    version u64 · next_id u64 · list of partitions, ids ascending:
//           id u64 · state u8 · mode u8 · [lo u64 · hi u64 when HashRange] · generation u64 ·
//           peer u64
//   roster: version u64 · list of members, ids ascending:
//           id u64 · address string · role u8 · joined_at u64
//           · list of retired ids (u64, ascending)
#include "synod/system/codec.h"

#include <type_traits>
#include <utility>

namespace synod::system {
namespace {

// The fewest bytes one list item can take, to refuse a count the input cannot hold
// before allocating for it.
constexpr std::size_t kMinFounderSize = 8 + 4;
constexpr std::size_t kMinPartitionSize = 8 + 1 + 1 + 8 + 8;
constexpr std::size_t kMinMemberSize = 8 + 4 + 1 + 8;

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void range(RoutingMode mode, const HashRange& r) {
    u8(static_cast<std::uint8_t>(mode));
    if (mode == RoutingMode::HashRange) {
      u64(r.lo);
      u64(r.hi);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  void put(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  std::string out_;
};

// Reads front to back. The first failure sticks: later reads fail too and status()
// reports the first cause.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool u8(std::uint8_t& v) {
    std::uint64_t wide = 0;
    if (!get(wide, 1)) return false;
    v = static_cast<std::uint8_t>(wide);
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::uint64_t wide = 0;
    if (!get(wide, 4)) return false;
    v = static_cast<std::uint32_t>(wide);
    return true;
  }
  bool u64(std::uint64_t& v) { return get(v, 8); }

  // An enum stored as a byte, refused above `last`.
  template <typename E>
  bool enumeration(E& v, E last) {
    std::uint8_t b = 0;
    if (!u8(b)) return false;
    if (b > static_cast<std::uint8_t>(last)) return fail(CodecStatus::BadValue);
    v = static_cast<E>(b);
    return true;
  }

  bool str(std::string& s, std::size_t limit) {
    std::uint32_t n = 0;
    if (!u32(n)) return false;
    if (n > limit) return fail(CodecStatus::Oversized);
    if (in_.size() < n) return fail(CodecStatus::Truncated);
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }

  // A list count, refused above `limit` or above what the remaining bytes can hold.
  bool count(std::uint32_t& n, std::size_t limit, std::size_t min_item_size) {
    if (!u32(n)) return false;
    if (n > limit) return fail(CodecStatus::Oversized);
    if (in_.size() / min_item_size < n) return fail(CodecStatus::Truncated);
    return true;
  }

  bool range(RoutingMode& mode, HashRange& r) {
    if (!enumeration(mode, RoutingMode::HashRange)) return false;
    r = {};
    return mode == RoutingMode::Unrouted || (u64(r.lo) && u64(r.hi));
  }

  bool fail(CodecStatus st) {
    if (status_ == CodecStatus::Ok) status_ = st;
    return false;
  }
  // Ok only if every read succeeded and nothing is left.
  CodecStatus finish() {
    if (status_ == CodecStatus::Ok && !in_.empty()) status_ = CodecStatus::TrailingBytes;
    return status_;
  }

 private:
  bool get(std::uint64_t& v, int bytes) {
    if (status_ != CodecStatus::Ok) return false;
    if (in_.size() < static_cast<std::size_t>(bytes)) return fail(CodecStatus::Truncated);
    v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(static_cast<std::size_t>(bytes));
    return true;
  }

  std::string_view in_;
  CodecStatus status_ = CodecStatus::Ok;
};

// Reads and writes the fields of each command; the same order both ways.
struct CommandFields {
  static void write(Writer& w, const Bootstrap& c) {
    w.u32(c.partitions);
    w.u32(static_cast<std::uint32_t>(c.members.size()));
    for (const auto& f : c.members) {
      w.u64(f.id);
      w.str(f.address);
    }
  }
  static bool read(Reader& r, Bootstrap& c) {
    std::uint32_t n = 0;
    if (!r.u32(c.partitions) || !r.count(n, kMaxMembers, kMinFounderSize)) return false;
    c.members.resize(n);
    for (auto& f : c.members) {
      if (!r.u64(f.id) || !r.str(f.address, kMaxAddressSize)) return false;
    }
    return true;
  }

  static void write(Writer& w, const CreatePartition& c) {
    w.u64(c.expected_version);
    w.range(c.mode, c.range);
  }
  static bool read(Reader& r, CreatePartition& c) {
    return r.u64(c.expected_version) && r.range(c.mode, c.range);
  }

  static void write(Writer& w, const SplitBegin& c) {
    w.u64(c.expected_version);
    w.u64(c.partition);
    w.u8(c.boundary ? 1 : 0);
    if (c.boundary) w.u64(*c.boundary);
  }
  static bool read(Reader& r, SplitBegin& c) {
    std::uint8_t has = 0;
    if (!r.u64(c.expected_version) || !r.u64(c.partition) || !r.u8(has)) return false;
    if (has > 1) return r.fail(CodecStatus::BadValue);
    if (has == 0) return true;
    std::uint64_t boundary = 0;
    if (!r.u64(boundary)) return false;
    c.boundary = boundary;
    return true;
  }

  static void write(Writer& w, const MergeBegin& c) {
    w.u64(c.expected_version);
    w.u64(c.source);
    w.u64(c.target);
  }
  static bool read(Reader& r, MergeBegin& c) {
    return r.u64(c.expected_version) && r.u64(c.source) && r.u64(c.target);
  }

  static void write(Writer& w, const AddLearner& c) {
    w.u64(c.expected_version);
    w.u64(c.id);
    w.str(c.address);
  }
  static bool read(Reader& r, AddLearner& c) {
    return r.u64(c.expected_version) && r.u64(c.id) && r.str(c.address, kMaxAddressSize);
  }

  // The commands that name one partition or member: expected version, then its id.
  template <typename C>
  static void write(Writer& w, const C& c) {
    w.u64(c.expected_version);
    w.u64(subject(c));
  }
  template <typename C>
  static bool read(Reader& r, C& c) {
    return r.u64(c.expected_version) && r.u64(subject(c));
  }

 private:
  // The id field of such a command (const or not, as `c` is).
  template <typename C>
  static auto& subject(C& c) {
    if constexpr (requires { c.partition; }) {
      return c.partition;
    } else if constexpr (requires { c.source; }) {
      return c.source;
    } else {
      return c.id;
    }
  }
};

// Sets `out` to the alternative at `index` and reads its fields.
template <std::size_t I = 0>
bool read_alternative(Reader& r, std::size_t index, Command& out) {
  if constexpr (I < std::variant_size_v<Command>) {
    if (index != I) return read_alternative<I + 1>(r, index, out);
    return CommandFields::read(r, out.emplace<I>());
  } else {
    return r.fail(CodecStatus::BadValue);
  }
}

bool read_map(Reader& r, PartitionMap& map) {
  std::uint32_t n = 0;
  if (!r.u64(map.version) || !r.u64(map.next_id) ||
      !r.count(n, kMaxPartitions, kMinPartitionSize)) {
    return false;
  }
  PartitionId last = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    Partition p;
    if (!r.u64(p.id) || !r.enumeration(p.state, PartitionState::Removed) ||
        !r.range(p.mode, p.range) || !r.u64(p.generation) || !r.u64(p.peer)) {
      return false;
    }
    if (i > 0 && p.id <= last) return r.fail(CodecStatus::Invalid);
    last = p.id;
    map.partitions.emplace_hint(map.partitions.end(), p.id, p);
  }
  return true;
}

bool read_roster(Reader& r, Roster& roster) {
  std::uint32_t n = 0;
  if (!r.u64(roster.version) || !r.count(n, kMaxMembers, kMinMemberSize)) return false;
  NodeId last = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    Member m;
    if (!r.u64(m.id) || !r.str(m.address, kMaxAddressSize) ||
        !r.enumeration(m.role, MemberRole::Leaving) || !r.u64(m.joined_at)) {
      return false;
    }
    if (i > 0 && m.id <= last) return r.fail(CodecStatus::Invalid);
    last = m.id;
    roster.members.emplace_hint(roster.members.end(), m.id, std::move(m));
  }
  if (!r.count(n, kMaxRetiredMembers, 8)) return false;
  roster.retired.resize(n);
  for (auto& id : roster.retired) {
    if (!r.u64(id)) return false;
  }
  // Order of the retired ids is a rule of check_invariants().
  return true;
}

}  // namespace

std::string encode_command(const Command& command) {
  Writer w;
  w.u8(kCommandFormat);
  w.u8(static_cast<std::uint8_t>(command.index() + 1));
  std::visit([&w](const auto& c) { CommandFields::write(w, c); }, command);
  return w.take();
}

CodecStatus decode_command(std::string_view bytes, Command& out) {
  Reader r(bytes);
  std::uint8_t format = 0;
  std::uint8_t kind = 0;
  if (!r.u8(format) || format != kCommandFormat) return CodecStatus::UnknownVersion;
  if (r.u8(kind)) {
    if (kind == 0) {
      r.fail(CodecStatus::BadValue);
    } else {
      read_alternative(r, kind - 1u, out);
    }
  }
  return r.finish();
}

std::string encode_state(const SystemState& state) {
  Writer w;
  w.u8(kStateFormat);
  w.u64(state.map.version);
  w.u64(state.map.next_id);
  w.u32(static_cast<std::uint32_t>(state.map.partitions.size()));
  for (const auto& [id, p] : state.map.partitions) {
    w.u64(p.id);
    w.u8(static_cast<std::uint8_t>(p.state));
    w.range(p.mode, p.range);
    w.u64(p.generation);
    w.u64(p.peer);
  }
  w.u64(state.roster.version);
  w.u32(static_cast<std::uint32_t>(state.roster.members.size()));
  for (const auto& [id, m] : state.roster.members) {
    w.u64(m.id);
    w.str(m.address);
    w.u8(static_cast<std::uint8_t>(m.role));
    w.u64(m.joined_at);
  }
  w.u32(static_cast<std::uint32_t>(state.roster.retired.size()));
  for (NodeId id : state.roster.retired) w.u64(id);
  return w.take();
}

CodecStatus decode_state(std::string_view bytes, SystemState& out) {
  Reader r(bytes);
  std::uint8_t format = 0;
  if (!r.u8(format) || format != kStateFormat) return CodecStatus::UnknownVersion;
  out = {};
  if (read_map(r, out.map)) read_roster(r, out.roster);
  if (const CodecStatus st = r.finish(); st != CodecStatus::Ok) return st;
  return check_invariants(out).empty() ? CodecStatus::Ok : CodecStatus::Invalid;
}

const char* to_string(CodecStatus status) {
  switch (status) {
    case CodecStatus::Ok:
      return "ok";
    case CodecStatus::UnknownVersion:
      return "unknown format version";
    case CodecStatus::Truncated:
      return "truncated";
    case CodecStatus::TrailingBytes:
      return "trailing bytes";
    case CodecStatus::Oversized:
      return "count or length over its limit";
    case CodecStatus::BadValue:
      return "value outside its domain";
    case CodecStatus::Invalid:
      return "state breaks an invariant";
  }
  return "?";
}

}  // namespace synod::system
