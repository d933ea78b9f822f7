// Randomized property test: seeded random sequences of commands, mostly plausible and
// some wrong on purpose, with these properties checked after every step:
//   - check_invariants() holds (no two live ranges overlap, peers agree, ...);
//   - the live hash ranges cover the whole space exactly once when bootstrap created any
//     partition, and otherwise the covered hashes never shrink;
//   - generations never decrease, ids never disappear, a removed partition stays removed,
//     a new partition's id was never seen before;
//   - a refusal changes nothing; a success bumps exactly one version by one;
//   - the state and the command survive encode/decode unchanged;
//   - the Router agrees with a linear scan, and fence() with each partition's state.
//
// Environment:
//   SYNOD_SYSTEM_SEEDS=<count>  seeds to run (default 1000)
//   SYNOD_SYSTEM_SEED=<n>       run only seed n (the replay line of a failure sets it)
//   SYNOD_SYSTEM_STEPS=<count>  commands per seed (default 400)
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "synod/system/codec.h"
#include "synod/system/fencing.h"
#include "synod/system/routing.h"
#include "test_util.h"

namespace synod::system::testing {
namespace {

constexpr std::uint64_t kDefaultSeeds = 1000;
constexpr std::uint64_t kDefaultSteps = 400;
constexpr std::uint64_t kTop = ~std::uint64_t{0};

std::optional<std::uint64_t> env_number(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(value, &end, 10);
  if (*end != '\0') return std::nullopt;
  return n;
}

// Merges sorted, non-overlapping ranges that touch into maximal intervals.
std::vector<HashRange> covered(const PartitionMap& map) {
  std::vector<HashRange> ranges;
  for (const auto& [id, p] : map.partitions) {
    if (routes_keys(p)) ranges.push_back(p.range);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const HashRange& a, const HashRange& b) { return a.lo < b.lo; });
  std::vector<HashRange> out;
  for (const HashRange& r : ranges) {
    if (!out.empty() && out.back().hi != kTop && out.back().hi + 1 == r.lo) {
      out.back().hi = r.hi;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

bool contains(const std::vector<HashRange>& intervals, const HashRange& r) {
  return std::any_of(intervals.begin(), intervals.end(),
                     [&](const HashRange& i) { return i.lo <= r.lo && r.hi <= i.hi; });
}

std::optional<PartitionId> linear_route(const PartitionMap& map, std::uint64_t hash) {
  for (const auto& [id, p] : map.partitions) {
    if (routes_keys(p) && p.range.lo <= hash && hash <= p.range.hi) return id;
  }
  return std::nullopt;
}

class Sequence {
 public:
  explicit Sequence(std::uint64_t seed) : rng_(seed) {}

  // Runs `steps` commands; returns an empty string or the first property broken.
  std::string run(std::uint64_t steps, std::map<std::size_t, int>& successes) {
    for (step_ = 0; step_ < steps; ++step_) {
      const Command command = step_ == 0 && chance(90) ? bootstrap() : next_command();
      last_ = describe(command);
      const SystemState before = state_;
      const ApplyResult result = apply(state_, command);
      if (result.ok()) ++successes[command.index()];
      if (const auto* b = std::get_if<Bootstrap>(&command); b && result.ok()) {
        bootstrap_partitions_ = b->partitions;
      }
      if (std::string broken = check(before, command, result); !broken.empty()) return broken;
    }
    return "";
  }

  const std::string& last_command() const { return last_; }
  std::uint64_t step() const { return step_; }

 private:
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  std::uint64_t below(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }
  std::uint64_t any64() { return std::uniform_int_distribution<std::uint64_t>()(rng_); }

  Command bootstrap() {
    Bootstrap b;
    b.partitions = static_cast<std::uint32_t>(below(7));
    const NodeId voters = 1 + below(3);
    for (NodeId id = 1; id <= voters; ++id) b.members.push_back({id, "n" + std::to_string(id)});
    return b;
  }

  Version expected(Version current) {
    const auto roll = below(10);
    if (roll < 5) return 0;
    if (roll < 9) return current;
    return current + 1 - 2 * below(2);  // one off either way
  }

  Version roster_expected() {
    return chance(90) ? state_.roster.version : state_.roster.version + 1 - 2 * below(2);
  }

  // Mostly an existing partition (preferring those in `wanted` states), sometimes 0 or
  // an id never handed out.
  PartitionId pick(std::initializer_list<PartitionState> wanted = {}) {
    std::vector<PartitionId> ids;
    for (const auto& [id, p] : state_.map.partitions) {
      if (wanted.size() == 0 || std::find(wanted.begin(), wanted.end(), p.state) != wanted.end()) {
        ids.push_back(id);
      }
    }
    if (ids.empty() || chance(10)) {
      const PartitionId odd[] = {kSystemPartition, state_.map.next_id, state_.map.next_id + 3};
      return odd[below(3)];
    }
    return ids[below(ids.size())];
  }

  HashRange random_range() {
    if (chance(30)) return {0, kTop};
    std::uint64_t a = any64(), b = chance(50) ? a + below(1000) : any64();
    if (chance(95) && a > b) std::swap(a, b);
    return {a, b};
  }

  Command next_command() {
    const Version v = expected(state_.map.version);
    switch (below(14)) {
      case 0:
        return CreatePartition{v, RoutingMode::Unrouted, {}};
      case 1:
        return CreatePartition{v, RoutingMode::HashRange, random_range()};
      case 2:
        return RemovePartition{v, pick({PartitionState::Active})};
      case 3:
      case 4: {
        const PartitionId id = pick({PartitionState::Active});
        std::optional<std::uint64_t> boundary;
        if (chance(50)) {
          const auto it = state_.map.partitions.find(id);
          const HashRange r = it == state_.map.partitions.end() ? HashRange{} : it->second.range;
          const std::uint64_t options[] = {
              r.lo, r.lo + 1, r.hi, r.hi + 1, r.lo + below(r.hi - r.lo + 1), any64()};
          boundary = options[below(6)];
        }
        return SplitBegin{v, id, boundary};
      }
      case 5:
        return SplitComplete{v, pick({PartitionState::Splitting})};
      case 6:
        return SplitAbort{v, pick({PartitionState::Splitting})};
      case 7:
      case 8: {
        const PartitionId source = pick({PartitionState::Active});
        return MergeBegin{v, source, chance(70) ? neighbour(source) : pick()};
      }
      case 9:
        return MergeComplete{v, pick({PartitionState::Draining})};
      case 10:
        return MergeAbort{v, pick({PartitionState::Draining})};
      case 11:
        return chance(5) ? bootstrap()
                         : Command{AddLearner{roster_expected(), 1 + below(8),
                                              "n" + std::to_string(below(8))}};
      case 12:
        return chance(50) ? Command{PromoteMember{roster_expected(), 1 + below(8)}}
                          : Command{MarkLeaving{roster_expected(), 1 + below(8)}};
      default:
        return RemoveMember{roster_expected(), 1 + below(8)};
    }
  }

  // A partition whose range touches `id`'s, if any.
  PartitionId neighbour(PartitionId id) {
    const auto it = state_.map.partitions.find(id);
    if (it == state_.map.partitions.end()) return pick();
    const HashRange r = it->second.range;
    for (const auto& [other, p] : state_.map.partitions) {
      if (other != id && routes_keys(p) &&
          ((r.hi != kTop && r.hi + 1 == p.range.lo) ||
           (p.range.hi != kTop && p.range.hi + 1 == r.lo))) {
        return other;
      }
    }
    return pick();
  }

  static std::string describe(const Command& c) {
    const std::string bytes = encode_command(c);
    std::string hex;
    for (unsigned char b : bytes) {
      static constexpr char kDigits[] = "0123456789abcdef";
      hex.push_back(kDigits[b >> 4]);
      hex.push_back(kDigits[b & 15]);
    }
    return "command kind " + std::to_string(c.index()) + ", encoded " + hex;
  }

  std::string check(const SystemState& before, const Command& command, const ApplyResult& r) {
    if (std::string broken = check_invariants(state_); !broken.empty()) return broken;
    const bool roster_command = std::holds_alternative<AddLearner>(command) ||
                                std::holds_alternative<PromoteMember>(command) ||
                                std::holds_alternative<MarkLeaving>(command) ||
                                std::holds_alternative<RemoveMember>(command);
    const bool is_bootstrap = std::holds_alternative<Bootstrap>(command);
    if (!r.ok()) {
      if (!(state_ == before))
        return std::string("refusal changed the state: ") + to_string(r.status);
    } else if (is_bootstrap) {
      if (state_.map.version != 1 || state_.roster.version != 1) return "bootstrap versions";
    } else if (roster_command) {
      if (state_.roster.version != before.roster.version + 1 || state_.map != before.map) {
        return "roster command did not bump only the roster version";
      }
    } else if (state_.map.version != before.map.version + 1 || state_.roster != before.roster) {
      return "map command did not bump only the map version";
    }
    if (r.version != (roster_command ? state_.roster.version : state_.map.version)) {
      return "result version is not the current one";
    }
    if (r.created != 0 &&
        (r.created < before.map.next_id || !state_.map.partitions.contains(r.created))) {
      return "created id not new";
    }

    // Any change to where a partition's keys go, or whether it serves, is a new generation:
    // that is what fences callers who routed before it.
    for (const auto& [id, was] : before.map.partitions) {
      const auto now = state_.map.partitions.find(id);
      if (now == state_.map.partitions.end())
        return "partition " + std::to_string(id) + " vanished";
      if (now->second.generation == was.generation && now->second != was) {
        return "partition " + std::to_string(id) + " changed, same generation";
      }
    }
    if (std::string broken = check_history(); !broken.empty()) return broken;
    if (std::string broken = check_coverage(); !broken.empty()) return broken;

    SystemState decoded;
    if (decode_state(encode_state(state_), decoded) != CodecStatus::Ok || !(decoded == state_)) {
      return "state does not survive encode/decode";
    }
    Command back;
    if (decode_command(encode_command(command), back) != CodecStatus::Ok || !(back == command)) {
      return "command does not survive encode/decode";
    }
    return check_lookups();
  }

  std::string check_history() {
    for (const auto& [id, gen] : generations_) {
      const auto it = state_.map.partitions.find(id);
      if (it == state_.map.partitions.end()) return "partition " + std::to_string(id) + " vanished";
      if (it->second.generation < gen) return "generation of " + std::to_string(id) + " decreased";
      if (removed_.contains(id) && it->second.state != PartitionState::Removed) {
        return "removed partition " + std::to_string(id) + " came back";
      }
    }
    for (const auto& [id, p] : state_.map.partitions) {
      generations_[id] = p.generation;
      if (p.state == PartitionState::Removed) removed_.insert({id, true});
    }
    return "";
  }

  std::string check_coverage() {
    const std::vector<HashRange> now = covered(state_.map);
    if (state_.map.version != 0 && bootstrap_partitions_ > 0) {
      if (now.size() != 1 || now[0] != HashRange{0, kTop}) {
        return "live ranges do not cover the hash space exactly once";
      }
    }
    for (const HashRange& r : covered_) {
      if (!contains(now, r)) return "covered hashes shrank";
    }
    covered_ = now;
    return "";
  }

  std::string check_lookups() {
    const Router router(state_.map);
    std::vector<std::uint64_t> hashes = {0, kTop, any64(), any64(), any64()};
    for (const auto& [id, p] : state_.map.partitions) {
      hashes.push_back(p.range.lo);
      hashes.push_back(p.range.hi);
      const FenceResult f = fence(state_.map, id, p.generation);
      const FenceResult stale = fence(state_.map, id, p.generation + 1);
      FenceVerdict want = FenceVerdict::Accept;
      if (p.state == PartitionState::Removed) want = FenceVerdict::Removed;
      if (p.state == PartitionState::Splitting || p.state == PartitionState::Draining) {
        want = FenceVerdict::NotServing;
      }
      if (f.verdict != want || f.current != p.generation ||
          (want == FenceVerdict::Accept && stale.verdict != FenceVerdict::StaleGeneration)) {
        return "fence disagrees with the state of partition " + std::to_string(id);
      }
    }
    for (std::uint64_t h : hashes) {
      const auto route = router.route_hash(h);
      const auto want = linear_route(state_.map, h);
      if (route.has_value() != want.has_value() || (route && route->partition != *want)) {
        return "router disagrees with a linear scan";
      }
      if (route && route->generation != state_.map.partitions.at(*want).generation) {
        return "router reports another generation";
      }
    }
    return "";
  }

  std::mt19937_64 rng_;
  SystemState state_;
  std::uint32_t bootstrap_partitions_ = 0;
  std::map<PartitionId, Generation> generations_;
  std::map<PartitionId, bool> removed_;
  std::vector<HashRange> covered_;
  std::uint64_t step_ = 0;
  std::string last_;
};

TEST(SystemProperty, RandomCommandSequences) {
  const std::uint64_t steps = env_number("SYNOD_SYSTEM_STEPS").value_or(kDefaultSteps);
  std::uint64_t first = 1;
  std::uint64_t count = env_number("SYNOD_SYSTEM_SEEDS").value_or(kDefaultSeeds);
  if (const auto only = env_number("SYNOD_SYSTEM_SEED")) {
    first = *only;
    count = 1;
  }
  std::printf("system property test: seeds %llu..%llu, %llu steps each\n",
              static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + count - 1),
              static_cast<unsigned long long>(steps));
  std::map<std::size_t, int> successes;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    Sequence sequence(seed);
    const std::string broken = sequence.run(steps, successes);
    ASSERT_EQ(broken, "") << "seed " << seed << ", step " << sequence.step() << ", "
                          << sequence.last_command() << "\nreplay: SYNOD_SYSTEM_SEED=" << seed
                          << " " << ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  // The generator must reach every command's success path, or the properties above were
  // checked over too little.
  if (count >= kDefaultSeeds) {
    for (std::size_t kind = 0; kind < std::variant_size_v<Command>; ++kind) {
      EXPECT_GT(successes[kind], 0) << "command kind " << kind << " never succeeded";
    }
  }
}

}  // namespace
}  // namespace synod::system::testing
