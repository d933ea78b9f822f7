// Tests of the script driver itself, written as inline scripts.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "script_driver.h"

namespace synod::raft::scenarios {
namespace {

// Runs an inline script that is expected to pass, reporting failures like a script file.
void run_passing(const std::string& name, const std::string& text) {
  ScriptDriver driver;
  const auto failures = driver.run(name, text);
  for (const auto& f : failures) ADD_FAILURE() << to_string(f);
  if (!failures.empty()) std::cout << driver.transcript();
}

TEST(ScriptDriver, ElectsProposesAndApplies) {
  run_passing("inline", R"(
    cluster voters=1,2,3
    campaign 1
    stabilize
    expect role 1 leader
    expect role 2,3 follower
    expect leader 1
    propose 1 data=a
    expect result 1 ok index=3 term=2
    stabilize
    expect commit 1,2,3 3
    expect applied 1,2,3 a
    expect log 1,2,3 1/1,2/2,3/2
    expect status 2 leader=1 term=2 vote=1 applied=3 last=3 transfer=none
  )");
}

TEST(ScriptDriver, ReportsAFailedExpectationWithLineStepAndBothValues) {
  ScriptDriver driver;
  const auto failures = driver.run("demo.txt",
                                   "cluster voters=1,2,3\n"
                                   "# the nodes start as followers in term 1\n"
                                   "expect term 1 7\n"
                                   "expect role 2 follower\n");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].source, "demo.txt");
  EXPECT_EQ(failures[0].line, 3);
  EXPECT_EQ(failures[0].step, "expect term 1 7");
  EXPECT_EQ(failures[0].message, "node 1 term: expected 7, actual 1");
  EXPECT_EQ(to_string(failures[0]),
            "demo.txt:3: `expect term 1 7`: node 1 term: expected 7, actual 1");
}

TEST(ScriptDriver, KeepsGoingAfterAFailedExpectation) {
  ScriptDriver driver;
  const auto failures = driver.run("inline",
                                   "cluster voters=1\n"
                                   "expect role 1 leader\n"
                                   "campaign 1\n"
                                   "expect role 1 candidate\n");
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].line, 2);
  EXPECT_EQ(failures[1].line, 4);
  EXPECT_EQ(failures[1].message, "node 1 role: expected candidate, actual leader");
}

TEST(ScriptDriver, StopsAtAStepThatCannotRun) {
  for (const char* bad : {"tick 1 count=3", "frobnicate 1", "tick 9", "propose 1",
                          "deliver type=Vote", "expect role 1", "cluster voters=1,x"}) {
    ScriptDriver driver;
    const std::string text = std::string("cluster voters=1,2,3\n") + bad + "\nexpect term 1 99\n";
    const auto failures = driver.run("inline", text);
    ASSERT_EQ(failures.size(), 1u) << bad;
    EXPECT_EQ(failures[0].line, 2) << bad;
    EXPECT_EQ(failures[0].message.rfind("step cannot run: ", 0), 0u) << failures[0].message;
  }
}

TEST(ScriptDriver, CountsInFlightMessagesAndDeliversSelectively) {
  run_passing("inline", R"(
    cluster voters=1,2,3 pre-vote=false
    campaign 1                          # trailing comments are fine
    expect messages from=1 type=Vote n=2
    expect messages from=1 to=2 type=Vote term=2 index=1 log-term=1 n=1
    deliver to=2
    expect messages from=2 type=VoteResp reject=false n=1
    drop to=3
    deliver type=VoteResp
    expect role 1 leader
    expect messages from=1 type=Append entries=1 n=2
    expect sent from=1 type=Vote n=2
  )");
}

TEST(ScriptDriver, DuplicatesAndDropsMessages) {
  run_passing("inline", R"(
    cluster voters=1,2,3
    campaign 1
    stabilize
    propose 1 data=a
    duplicate to=2 type=Append
    expect messages to=2 type=Append n=2
    drop to=3
    deliver to=2
    # The copy changes nothing: node 2 acknowledges the same index twice.
    expect messages from=2 type=AppendResp index=3 n=2
    # The commit broadcast shows the leader that node 3 lacks the dropped entry; it resends.
    stabilize
    expect log 1,2,3 1/1,2/2,3/2
    expect commit 1,2,3 3
  )");
}

TEST(ScriptDriver, LogStepSeedsAPersistedLogKeepingTheBootstrapEntry) {
  run_passing("inline", R"(
    cluster voters=1,2,3
    log 2 1/1,2/1,3/4 term=5
    expect log 2 1/1,2/1,3/4
    expect status 2 term=5 vote=none commit=1 last=3
    expect log 1,3 1/1
  )");
}

TEST(ScriptDriver, AHeldNodeLosesWhatItHadNotPersistedWhenItCrashes) {
  run_passing("inline", R"(
    cluster voters=1,2,3
    campaign 1
    stabilize
    hold 2
    propose 1 data=a
    deliver to=2
    # Node 2 took the entry but has not written it, so it does not acknowledge it.
    expect messages from=2 n=0
    crash 2
    restart 2
    expect log 2 1/1,2/2
    # Node 3 alone makes a majority with the leader.
    stabilize
    expect commit 1,3 3
    elapse ticks=1
    expect applied 1,2,3 a
  )");
}

TEST(ScriptDriver, RunsAScriptInPartsOnTheSameCluster) {
  ScriptDriver driver;
  ASSERT_TRUE(driver.run("part 1", "cluster voters=1,2,3\ncampaign 1\nstabilize\n").empty());
  ASSERT_NE(driver.cluster(), nullptr);
  EXPECT_EQ(driver.cluster()->leader(), 1u);
  // The C++ test acts on the cluster directly between the parts.
  driver.cluster()->propose(1, "cpp");
  EXPECT_TRUE(driver.run("part 2", "stabilize\nexpect applied 1,2,3 cpp\n").empty());
  EXPECT_TRUE(driver.run("part 3", "partition 1 | 2,3\nexpect leader 1\n").empty());
}

}  // namespace
}  // namespace synod::raft::scenarios
