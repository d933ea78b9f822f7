// The unified line diff that shows how a transcript departs from its stored copy.
#include "text_diff.h"

#include <gtest/gtest.h>

#include <string>

namespace synod::raft::scenarios {
namespace {

std::string numbered(int from, int to, int changed = 0, const std::string& as = "") {
  std::string out;
  for (int i = from; i <= to; ++i) out += (i == changed ? as : std::to_string(i)) + "\n";
  return out;
}

TEST(UnifiedDiff, OfEqualTextsIsEmpty) {
  EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x", "y"), "");
  EXPECT_EQ(unified_diff("a\nb\n", "a\nb", "x", "y"), "") << "a final newline is no line";
  EXPECT_EQ(unified_diff("", "", "x", "y"), "");
}

TEST(UnifiedDiff, ShowsAChangedLineWithThreeLinesOfContext) {
  EXPECT_EQ(unified_diff(numbered(1, 10), numbered(1, 10, 5, "five"), "old", "new"),
            "--- old\n+++ new\n"
            "@@ -2,7 +2,7 @@\n"
            " 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, ShowsInsertionsAndDeletionsAtEitherEnd) {
  EXPECT_EQ(unified_diff("a\nb\n", "new\na\nb\n", "x", "y", 1),
            "--- x\n+++ y\n@@ -1,1 +1,2 @@\n+new\n a\n");
  EXPECT_EQ(unified_diff("a\nb\nc\n", "a\nb\n", "x", "y", 1),
            "--- x\n+++ y\n@@ -2,2 +2,1 @@\n b\n-c\n");
  EXPECT_EQ(unified_diff("", "a\nb\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n");
}

TEST(UnifiedDiff, SplitsDistantChangesIntoHunksAndJoinsNearOnes) {
  const std::string distant =
      unified_diff(numbered(1, 20), numbered(1, 20, 3, "three"), "x", "y", 1);
  EXPECT_EQ(distant, "--- x\n+++ y\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n");
  std::string both = numbered(1, 20, 3, "three");
  both.replace(both.find("\n15\n"), 4, "\nfifteen\n");
  EXPECT_EQ(unified_diff(numbered(1, 20), both, "x", "y", 1),
            "--- x\n+++ y\n"
            "@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n"
            "@@ -14,3 +14,3 @@\n 14\n-15\n+fifteen\n 16\n");
  std::string near = numbered(1, 20, 3, "three");
  near.replace(near.find("\n5\n"), 3, "\nfive\n");
  EXPECT_EQ(unified_diff(numbered(1, 20), near, "x", "y", 1),
            "--- x\n+++ y\n@@ -2,5 +2,5 @@\n 2\n-3\n+three\n 4\n-5\n+five\n 6\n");
}

}  // namespace
}  // namespace synod::raft::scenarios
