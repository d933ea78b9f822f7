// A scripted driver for Raft scenario tests.
//
// Running a script also writes a transcript: each step (`> step`) followed by what it did,
// indented: messages sent, delivered, dropped; answers to requests; roles, terms and reads
// as they change; per-type counts of what stabilize and elapse delivered; and, at the end
// of the script and before each new `cluster`, every node's state and log. script_test.cc
// compares it with the copy stored beside the script (see README.md).
//
// A script is a list of steps, one a line, run against a testing::Cluster. A step is a
// command followed by words: node ids (`1`, or lists `1,2,3`) and options (`key=value`;
// `-` and `_` are the same inside keys). A word that starts with `#` begins a comment
// that runs to the end of the line. After every step each node persists and sends what its Ready
// holds (unless it is held, see `hold`), so the in-flight list always shows what the nodes have
// said; nothing is delivered unless a step says so.
//
// Setting up
//   cluster voters=1,2,3 [learners=4] [pre-vote=false] [check-quorum=false]
//           [lease-reads=true] [election=10] [heartbeat=1] [seed=1] [max-append-bytes=N]
//           [max-inflight=N] [max-inflight-bytes=N] [max-uncommitted-bytes=N]
//   add-node 4                      a node with an empty log that learns everything
//   log 2 1/1,2/1,3/4:x [term=T] [vote=V] [commit=C]
//                                   rewrites node 2's persisted log (index/term[:data],
//                                   data defaulting to "index/term"; the bootstrap entry
//                                   1/1 is kept) and restarts it
// Time
//   tick 1 [n=5]                    ticks one node
//   tick-all [n=20]                 ticks every up node, delivering nothing
//   elapse ticks=30 | until=leader | until=new-leader [max=200]
//                                   rounds of tick-all + stabilize (a working network);
//                                   new-leader: one leading a term above any led before
// Requests (the answer is kept for `expect result`)
//   campaign 1
//   propose 1 data=x [tag=7]        propose-batch 1 data=a,b,c
//   propose-conf 1 [add-voter=5] [add-learner=4] [remove=3] [transition=auto|joint|explicit]
//   propose-conf 1 leave            leaves a joint configuration
//   transfer 1 to=2                 read-index 2 ctx=r1
// Network (filters: from= to= type= term= index= log-term= commit= reject= hint=
// entries= ctx=)
//   deliver [filters] [n=1]         steps matching in-flight messages (all by default)
//   drop [filters] [n=1]            duplicate [filters] [n=1]
//   stabilize                       delivers everything, and the replies, until quiet
//   partition 1 | 2,3    isolate 1    cut 1 2    heal
// Nodes
//   crash 2    restart 2    compact 1 [keep=0]
//   hold 2 / release 2              stop / resume processing node 2's Readies
//   clear-sent                      forgets the record that `expect sent` counts
//   print [1,2]                     writes node state into the transcript
// Expectations (a node list checks each node)
//   expect role 1 leader            expect leader 2 | none
//   expect term 1,2 3               expect commit 2 5
//   expect applied 3 a,b,c | none   expect log 2 1/1,2/2,3/2 (as persisted)
//   expect same-state 1,2,3         same applied index and state-machine digest
//   expect status 1 [role=] [term=] [vote=] [leader=] [commit=] [applied=] [first=]
//                   [last=] [transfer=] [up=]
//   expect result 1 not-leader [hint=2] [index=4 | index=4-6] [term=2]
//                                   statuses: ok not-leader no-leader transfer-in-progress
//                                   uncommitted-limit conf-change-pending
//                                   invalid-conf-change invalid-argument read-limit
//   expect messages [filters] n=2   counts in-flight messages
//   expect sent [filters] n=2       counts messages sent since `cluster` or `clear-sent`
//   expect read 2 ctx=r1 index=4 | index=none
//   expect conf 1 [voters=1,2,3] [outgoing=] [learners=] [learners-next=] [auto-leave=]
//   expect progress 1 peer=2 [state=replicate] [match=5] [next=6] [inflight=0]
//                   [active=true] [learner=false]
//
// A failed expectation is recorded (file, line, step, expected and actual) and the script
// goes on; a step that cannot run at all (unknown command or option, bad value, unknown
// node) records a failure and ends the script.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "synod/raft/testing/cluster.h"

namespace synod::raft::scenarios {

struct ScriptFailure {
  std::string source;  // the script file (or the name given to an inline script)
  int line = 0;
  std::string step;     // the step as written
  std::string message;  // expected vs actual, or why the step could not run
};

// "source:line: `step`: message", for test output.
std::string to_string(const ScriptFailure& failure);

class ScriptDriver {
 public:
  ScriptDriver();
  ~ScriptDriver();
  ScriptDriver(const ScriptDriver&) = delete;
  ScriptDriver& operator=(const ScriptDriver&) = delete;

  // Runs every step of `text`; `source` names the script in failures. Returns the
  // failures of this run (empty when every expectation held). The cluster stays between
  // runs, so a C++ test can run a script in parts and look at the cluster in between.
  std::vector<ScriptFailure> run(const std::string& source, const std::string& text);
  std::vector<ScriptFailure> run_file(const std::filesystem::path& path);

  // Each step as run, with what it did (messages delivered, answers, elections won).
  const std::string& transcript() const { return transcript_; }
  // The cluster of the last `cluster` step; null before one.
  testing::Cluster* cluster() { return cluster_.get(); }

  struct Step;

 private:
  // Messages a stabilize or elapse step delivered, by type, and those lost on the way
  // (cut link, node down).
  struct Traffic {
    std::map<MessageType, std::size_t> delivered;
    std::size_t lost = 0;
    // "5 messages delivered (Append 2, AppendResp 2, Heartbeat 1), 1 lost"
    std::string text() const;
  };

  void execute(Step& step);
  void expect(Step& step);
  void settle();
  // Delivers everything, and the replies, until the network is quiet; false if it is not
  // within `max_rounds`. Adds what it delivered to `traffic`.
  bool stabilize_network(int max_rounds, Traffic& traffic);
  // One node's role, term, vote, leader, commit, applied index, voters and log.
  std::string node_line(NodeId id);
  // Every node's line, closing the transcript of a cluster.
  void note_final_state();
  // Whether `id` is a node of the cluster and up (messages to it are stepped).
  bool reachable(NodeId id) const;
  void note(const std::string& line);
  void fail(const Step& step, const std::string& message);
  testing::Cluster& need_cluster();

  // Commands.
  void do_cluster(Step& step);
  void do_log(Step& step);
  void do_elapse(Step& step);
  void do_request(Step& step);
  void do_network(Step& step);
  void do_print(Step& step);

  // Expectations.
  void expect_status(Step& step, const std::vector<NodeId>& nodes);
  void expect_result(Step& step);
  void expect_messages(Step& step, bool in_flight);
  void expect_read(Step& step);
  void expect_conf(Step& step, const std::vector<NodeId>& nodes);
  void expect_progress(Step& step);

  std::unique_ptr<testing::Cluster> cluster_;
  // Nodes whose Readies wait until `release`.
  std::set<NodeId> held_;
  // Completed reads not yet matched by `expect read`, per node.
  std::map<NodeId, std::vector<ReadState>> reads_;
  // The answer to each node's latest request.
  std::map<NodeId, ProposeResult> results_;
  // Role and term of each node when last noted, to note only changes.
  std::map<NodeId, std::pair<Role, Term>> last_seen_;
  // Set while the network is stabilized: sends are counted, not listed.
  bool quiet_ = false;
  std::vector<ScriptFailure> failures_;
  std::string transcript_;
};

}  // namespace synod::raft::scenarios
