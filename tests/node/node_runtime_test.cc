// NodeRuntime, the composition root: every store engine and every transport kind builds a
// node that commits and tears down cleanly; bad options, a store that cannot be opened and
// a port in use are errors naming the part that refused, with nothing left running.
#include "synod/node/node_runtime.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "synod/storage/memory_log_store.h"

namespace synod::node {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Kind = RuntimeError::Kind;

constexpr auto kLeaderTimeout = milliseconds(30000);

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "synod-runtime-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

NodeRuntimeOptions single_node(NodeId id = 1) {
  NodeRuntimeOptions o;
  o.host.node_id = id;
  o.host.user_partitions = 2;
  o.host.tick_interval = milliseconds(5);
  o.worker_threads = 2;
  return o;
}

// Waits for a leader of partition 1 among `nodes` and commits one entry through it.
Status commit_one(const std::vector<NodeRuntime*>& nodes) {
  const NodeId leader = nodes.front()->host().wait_for_leader(1, kLeaderTimeout);
  if (leader == raft::kNoNode) return Status::NoLeader;
  for (NodeRuntime* n : nodes) {
    if (n->host().id() == leader) {
      return n->host().replicate(1, 1, raft::Bytes(std::string("x"))).get().status;
    }
  }
  return Status::NotLeader;
}

class RuntimeStoreTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RuntimeStoreTest, BuildsCommitsAndReopens) {
  ScratchDir dir;
  NodeRuntimeOptions o = single_node();
  o.store.engine = GetParam();
  o.store.directory = (dir.path() / "node-1").string();
  {
    RuntimeError error;
    auto runtime = NodeRuntime::create(o, &error);
    ASSERT_TRUE(runtime) << error.message;
    runtime->start();
    EXPECT_EQ(commit_one({runtime.get()}), Status::Ok);
  }
  if (GetParam() == "memory") return;
  // A durable store keeps the partitions: the second runtime opens them, not bootstraps.
  RuntimeError error;
  auto reopened = NodeRuntime::create(o, &error);
  ASSERT_TRUE(reopened) << error.message;
  EXPECT_EQ(reopened->store().partitions().size(), 3u);
  EXPECT_GE(reopened->store().open_partition(1)->last_index(), 2u);
  reopened->start();
  EXPECT_EQ(commit_one({reopened.get()}), Status::Ok);
}

INSTANTIATE_TEST_SUITE_P(Engines, RuntimeStoreTest,
                         ::testing::Values("memory", "rocksdb", "sqlite"));

class RuntimeTransportTest : public ::testing::TestWithParam<std::string> {};

// Cases named by transport kind, so that a run can leave out gRPC's (see scripts/test.sh).
std::string kind_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// Three nodes over the transport kind: the network ones listen on ephemeral ports and
// learn each other's through network_transport(), as a program that starts its nodes
// before it knows their addresses does.
TEST_P(RuntimeTransportTest, ThreeNodesElectAndCommit) {
  const std::string kind = GetParam();
  auto threads = std::make_shared<RuntimeThreads>(2);
  auto network = std::make_shared<InProcessNetwork>(threads);
  std::vector<std::unique_ptr<NodeRuntime>> nodes;
  for (NodeId id : {1, 2, 3}) {
    NodeRuntimeOptions o = single_node(id);
    o.host.initial_members = {1, 2, 3};
    o.transport.kind = kind;
    o.transport.network = network;
    o.transport.listen_address = "127.0.0.1:0";
    o.threads = threads;
    RuntimeError error;
    nodes.push_back(NodeRuntime::create(o, &error));
    ASSERT_TRUE(nodes.back()) << error.message;
    EXPECT_EQ(nodes.back()->network_transport() != nullptr, kind != "memory");
  }
  if (kind != "memory") {
    for (auto& n : nodes) {
      for (auto& peer : nodes) {
        if (peer == n) continue;
        const int port = peer->network_transport()->listen_port();
        ASSERT_GT(port, 0);
        n->network_transport()->set_peer(peer->host().id(), "127.0.0.1:" + std::to_string(port));
      }
    }
  }
  for (auto& n : nodes) n->start();
  EXPECT_EQ(commit_one({nodes[0].get(), nodes[1].get(), nodes[2].get()}), Status::Ok);
  // Torn down while the others still run and send to it.
  nodes[0].reset();
  nodes.clear();
}

INSTANTIATE_TEST_SUITE_P(Kinds, RuntimeTransportTest, ::testing::Values("memory", "grpc", "rest"),
                         kind_name);

// Creates a runtime that must fail, and returns the error.
RuntimeError refused(const NodeRuntimeOptions& o) {
  RuntimeError error;
  error.message = "(not set)";
  auto runtime = NodeRuntime::create(o, &error);
  EXPECT_FALSE(runtime);
  return error;
}

TEST(NodeRuntimeTest, BadOptionsAreConfigErrors) {
  NodeRuntimeOptions no_id = single_node();
  no_id.host.node_id = 0;
  EXPECT_EQ(refused(no_id).kind, Kind::Config);
  EXPECT_NE(refused(no_id).message.find("no node id"), std::string::npos);

  NodeRuntimeOptions ticks = single_node();
  ticks.host.election_ticks = 2;
  ticks.host.heartbeat_ticks = 2;
  EXPECT_EQ(refused(ticks).kind, Kind::Config);
  EXPECT_NE(refused(ticks).message.find("must exceed heartbeat"), std::string::npos);

  NodeRuntimeOptions kind = single_node();
  kind.transport.kind = "carrier-pigeon";
  EXPECT_NE(refused(kind).message.find("unknown transport"), std::string::npos);

  storage::MemoryLogStore outside;
  NodeRuntimeOptions wired = single_node();
  wired.host.store = &outside;
  EXPECT_NE(refused(wired).message.find("must be left null"), std::string::npos);

  NodeRuntimeOptions alone = single_node();
  alone.host.initial_members = {1, 2, 3};
  EXPECT_EQ(refused(alone).kind, Kind::Config);
  EXPECT_NE(refused(alone).message.find("needs a transport"), std::string::npos);

  NodeRuntimeOptions not_member = single_node();
  not_member.host.initial_members = {2, 3};
  not_member.transport.network = std::make_shared<InProcessNetwork>();
  EXPECT_EQ(refused(not_member).kind, Kind::Config);
}

TEST(NodeRuntimeTest, AStoreThatCannotBeOpenedIsAStorageError) {
  ScratchDir dir;
  const fs::path file = dir.path() / "a-file";
  std::ofstream(file) << "not a directory";
  for (const std::string engine : {"rocksdb", "sqlite"}) {
    NodeRuntimeOptions o = single_node();
    o.store.engine = engine;
    o.store.directory = (file / "data").string();
    const RuntimeError error = refused(o);
    EXPECT_EQ(error.kind, Kind::Storage) << engine;
    EXPECT_NE(error.message.find("cannot open the " + engine + " store"), std::string::npos)
        << error.message;
  }
  NodeRuntimeOptions unknown = single_node();
  unknown.store.engine = "papyrus";
  EXPECT_EQ(refused(unknown).kind, Kind::Storage);
}

TEST(NodeRuntimeTest, ANodeOnANetworkTwiceIsRefusedAndTheFirstRunsOn) {
  auto network = std::make_shared<InProcessNetwork>();
  NodeRuntimeOptions o = single_node();
  o.transport.network = network;
  RuntimeError error;
  auto first = NodeRuntime::create(o, &error);
  ASSERT_TRUE(first) << error.message;
  const RuntimeError second = refused(o);
  EXPECT_EQ(second.kind, Kind::Config);
  EXPECT_NE(second.message.find("already attached"), std::string::npos);
  first->start();
  EXPECT_EQ(commit_one({first.get()}), Status::Ok);
}

class RuntimePortTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RuntimePortTest, APortInUseIsATransportError) {
  NodeRuntimeOptions o = single_node();
  o.transport.kind = GetParam();
  o.transport.listen_address = "127.0.0.1:0";
  RuntimeError error;
  auto first = NodeRuntime::create(o, &error);
  ASSERT_TRUE(first) << error.message;
  const std::string taken = "127.0.0.1:" + std::to_string(first->network_transport()->listen_port());
  NodeRuntimeOptions again = single_node(2);
  again.transport = o.transport;
  again.transport.listen_address = taken;
  const RuntimeError second = refused(again);
  EXPECT_EQ(second.kind, Kind::Transport);
  EXPECT_NE(second.message.find(taken), std::string::npos) << second.message;
  first->start();
  EXPECT_EQ(commit_one({first.get()}), Status::Ok);
}

TEST_P(RuntimePortTest, UnusableSecurityIsATransportError) {
  NodeRuntimeOptions o = single_node();
  o.transport.kind = GetParam();
  o.transport.listen_address = "127.0.0.1:0";
  o.transport.security.mode = transport::SecurityMode::Tls;
  o.transport.security.ca_file = "/nonexistent/ca.pem";
  o.transport.security.cert_file = "/nonexistent/cert.pem";
  o.transport.security.key_file = "/nonexistent/key.pem";
  EXPECT_EQ(refused(o).kind, Kind::Transport);
}

INSTANTIATE_TEST_SUITE_P(Network, RuntimePortTest, ::testing::Values("grpc", "rest"), kind_name);

TEST(NodeRuntimeTest, AnExistingStoreOutlivesTheRuntime) {
  auto store = std::make_shared<storage::MemoryLogStore>();
  NodeRuntimeOptions o = single_node();
  o.store.existing = store;
  {
    RuntimeError error;
    auto runtime = NodeRuntime::create(o, &error);
    ASSERT_TRUE(runtime) << error.message;
    EXPECT_EQ(&runtime->store(), store.get());
    runtime->start();
    EXPECT_EQ(commit_one({runtime.get()}), Status::Ok);
  }
  // A restart in the same process: the node comes back with its log.
  const auto before = store->open_partition(1)->last_index();
  o.store.existing = store;
  RuntimeError error;
  auto restarted = NodeRuntime::create(o, &error);
  ASSERT_TRUE(restarted) << error.message;
  EXPECT_EQ(restarted->store().open_partition(1)->last_index(), before);
  restarted->start();
  EXPECT_EQ(commit_one({restarted.get()}), Status::Ok);
}

// A request still pending when the runtime goes is answered before anything it needs is
// torn down.
TEST(NodeRuntimeTest, TeardownAnswersWhatIsPending) {
  RuntimeError error;
  auto runtime = NodeRuntime::create(single_node(), &error);
  ASSERT_TRUE(runtime) << error.message;
  runtime->start();
  ASSERT_EQ(runtime->host().wait_for_leader(1, kLeaderTimeout), 1u);
  // Held back once committed: the proposal stays pending until the teardown.
  runtime->host().set_delivery_paused(true);
  std::promise<ReplicationResult> answered;
  auto answer = answered.get_future();
  runtime->host().replicate(1, 1, raft::Bytes(std::string("x")),
                            [&answered](const ReplicationResult& r) { answered.set_value(r); });
  EXPECT_EQ(answer.wait_for(milliseconds(50)), std::future_status::timeout);
  runtime.reset();
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(answer.get().status, Status::ShuttingDown);
}

}  // namespace
}  // namespace synod::node
