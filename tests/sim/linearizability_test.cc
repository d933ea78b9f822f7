#include "linearizability.h"

#include <gtest/gtest.h>

#include <map>

#include "synod/env/random.h"

namespace synod::sim {
namespace {

Operation put(std::string key, std::string value, std::uint64_t from,
              std::optional<std::uint64_t> to, std::uint64_t client = 1) {
  Operation op;
  op.key = std::move(key);
  op.kind = OpKind::Put;
  op.argument = std::move(value);
  op.invoked_at = from;
  op.answered_at = to;
  op.client = client;
  return op;
}

Operation get(std::string key, std::optional<std::string> read, std::uint64_t from,
              std::uint64_t to, std::uint64_t client = 2) {
  Operation op;
  op.key = std::move(key);
  op.kind = OpKind::Get;
  op.read = std::move(read);
  op.invoked_at = from;
  op.answered_at = to;
  op.client = client;
  return op;
}

Operation cas(std::string key, std::optional<std::string> expected, std::string value, bool swapped,
              std::uint64_t from, std::optional<std::uint64_t> to, std::uint64_t client = 3) {
  Operation op;
  op.key = std::move(key);
  op.kind = OpKind::CompareAndSwap;
  op.expected = std::move(expected);
  op.argument = std::move(value);
  op.swapped = swapped;
  op.invoked_at = from;
  op.answered_at = to;
  op.client = client;
  return op;
}

Verdict verdict(const std::vector<Operation>& history) { return check_history(history).verdict; }

TEST(Linearizability, EmptyHistoryIsLinearizable) { EXPECT_EQ(verdict({}), Verdict::Linearizable); }

TEST(Linearizability, SequentialReadsSeeTheLatestWrite) {
  EXPECT_EQ(
      verdict({put("k", "a", 1, 2), get("k", "a", 3, 4), put("k", "b", 5, 6), get("k", "b", 7, 8)}),
      Verdict::Linearizable);
}

TEST(Linearizability, AReadOfAValueOverwrittenBeforeItStartedIsAViolation) {
  const auto result =
      check_history({put("k", "a", 1, 2), put("k", "b", 3, 4), get("k", "a", 5, 6)});
  EXPECT_EQ(result.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(result.key, "k");
  EXPECT_NE(result.explanation.find("get -> \"a\""), std::string::npos) << result.explanation;
}

TEST(Linearizability, AReadBeforeAnyWriteSeesAbsent) {
  EXPECT_EQ(verdict({get("k", std::nullopt, 1, 2), put("k", "a", 3, 4)}), Verdict::Linearizable);
  EXPECT_EQ(verdict({get("k", "a", 1, 2), put("k", "a", 3, 4)}), Verdict::NotLinearizable)
      << "the read answered before the write was invoked";
}

TEST(Linearizability, AReadConcurrentWithAWriteMaySeeEitherValue) {
  EXPECT_EQ(verdict({put("k", "a", 1, 2), put("k", "b", 3, 10), get("k", "a", 4, 5)}),
            Verdict::Linearizable);
  EXPECT_EQ(verdict({put("k", "a", 1, 2), put("k", "b", 3, 10), get("k", "b", 4, 5)}),
            Verdict::Linearizable);
}

TEST(Linearizability, ReadsMayNotSeeANewValueAndThenTheOldOne) {
  // Both reads overlap the write, but once one read has seen "b" and answered, a read
  // that starts afterwards must not see "a" again.
  EXPECT_EQ(verdict({put("k", "a", 1, 2), put("k", "b", 3, 20), get("k", "b", 4, 5, 2),
                     get("k", "a", 6, 7, 4)}),
            Verdict::NotLinearizable);
}

TEST(Linearizability, TwoConcurrentSwapsFromTheSameValueCannotBothSucceed) {
  EXPECT_EQ(verdict({put("k", "a", 1, 2), cas("k", "a", "b", true, 3, 6, 3),
                     cas("k", "a", "c", true, 4, 7, 4)}),
            Verdict::NotLinearizable);
  EXPECT_EQ(verdict({put("k", "a", 1, 2), cas("k", "a", "b", true, 3, 6, 3),
                     cas("k", "a", "c", false, 4, 7, 4), get("k", "b", 8, 9)}),
            Verdict::Linearizable);
}

TEST(Linearizability, ASwapOnAnAbsentKeyMayCreateIt) {
  EXPECT_EQ(verdict({cas("k", std::nullopt, "a", true, 1, 2), get("k", "a", 3, 4)}),
            Verdict::Linearizable);
  EXPECT_EQ(verdict({cas("k", std::nullopt, "a", false, 1, 2)}), Verdict::NotLinearizable);
}

TEST(Linearizability, DeleteMakesTheKeyAbsent) {
  Operation del;
  del.key = "k";
  del.kind = OpKind::Delete;
  del.invoked_at = 3;
  del.answered_at = 4;
  EXPECT_EQ(verdict({put("k", "a", 1, 2), del, get("k", std::nullopt, 5, 6)}),
            Verdict::Linearizable);
  EXPECT_EQ(verdict({put("k", "a", 1, 2), del, get("k", "a", 5, 6)}), Verdict::NotLinearizable);
}

TEST(Linearizability, AWriteWithUnknownOutcomeMayHaveHappenedOrNot) {
  EXPECT_EQ(verdict({put("k", "a", 1, 2), put("k", "b", 3, std::nullopt), get("k", "b", 10, 11)}),
            Verdict::Linearizable);
  EXPECT_EQ(verdict({put("k", "a", 1, 2), put("k", "b", 3, std::nullopt), get("k", "a", 10, 11)}),
            Verdict::Linearizable);
  // But it takes effect once: seen, it cannot be unseen.
  EXPECT_EQ(verdict({put("k", "a", 1, 2), put("k", "b", 3, std::nullopt), get("k", "b", 10, 11),
                     get("k", "a", 12, 13)}),
            Verdict::NotLinearizable);
}

TEST(Linearizability, AWriteWithUnknownOutcomeCannotTakeEffectBeforeItWasInvoked) {
  EXPECT_EQ(verdict({get("k", "b", 1, 2), put("k", "b", 3, std::nullopt)}),
            Verdict::NotLinearizable);
}

TEST(Linearizability, KeysAreCheckedIndependentlyAndTheFailingOneIsNamed) {
  const auto result = check_history(
      {put("x", "1", 1, 2), get("x", "1", 3, 4), put("y", "1", 1, 2), get("y", "2", 3, 4)});
  EXPECT_EQ(result.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(result.key, "y");
}

TEST(Linearizability, GivesUpRatherThanGuessWhenTheBudgetRunsOut) {
  std::vector<Operation> history;
  for (int i = 0; i < 12; ++i) history.push_back(put("k", std::to_string(i), 1, 100, i));
  history.push_back(get("k", "nope", 101, 102));
  EXPECT_EQ(check_history(history, 50).verdict, Verdict::GaveUp);
  EXPECT_EQ(check_history(history).verdict, Verdict::NotLinearizable);
}

// Builds a history from a real sequential execution: each operation takes effect at one
// instant inside its own randomly stretched interval, so the history is linearizable by
// construction.
std::vector<Operation> random_linearizable_history(std::uint64_t seed, int count) {
  env::Random random(seed);
  std::map<std::string, std::optional<std::string>> store;
  std::vector<Operation> history;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t effect = 10 * static_cast<std::uint64_t>(i) + 100;
    const std::uint64_t from = effect - random.below(40);
    const std::uint64_t to = effect + random.below(40);
    const std::string key = "k" + std::to_string(random.below(3));
    auto& value = store[key];
    const auto client = random.below(8);
    switch (random.below(3)) {
      case 0:
        value = std::to_string(i);
        history.push_back(put(key, *value, from, to, client));
        break;
      case 1:
        history.push_back(get(key, value, from, to, client));
        break;
      default: {
        const auto expected = random.chance(0.5) ? value : std::optional<std::string>("x");
        const bool swapped = expected == value;
        if (swapped) value = std::to_string(i);
        history.push_back(cas(key, expected, std::to_string(i), swapped, from, to, client));
      }
    }
  }
  return history;
}

TEST(Linearizability, AcceptsLongConcurrentHistoriesThatAreLinearizable) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto history = random_linearizable_history(seed, 300);
    ASSERT_EQ(verdict(history), Verdict::Linearizable) << "seed " << seed;
  }
}

TEST(Linearizability, RejectsThoseHistoriesWithOneAnswerCorrupted) {
  int rejected = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto history = random_linearizable_history(seed, 300);
    for (auto& op : history) {
      if (op.kind == OpKind::Get) {
        op.read = "never written";
        break;
      }
    }
    rejected += verdict(history) == Verdict::NotLinearizable;
  }
  EXPECT_EQ(rejected, 20);
}

}  // namespace
}  // namespace synod::sim
