// Bad input through the C ABI: every entry point with NULL handles and buffers, values out
// of range, unknown partitions, oversized payloads and stopped nodes. Each answers a
// documented status and a message, changes nothing, and queues no event.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "capi_harness.h"

namespace synod::capi_test {
namespace {

const std::uint8_t kByte[1] = {1};

// Expects `status` to be `expected` with a message that names `function`.
#define EXPECT_REFUSED(call, expected, function)                                   \
  do {                                                                             \
    const int status_ = (call);                                                    \
    EXPECT_EQ(status_, expected) << #call << ": " << synod_errstr(status_);        \
    EXPECT_NE(std::string(synod_last_error()).find(function), std::string::npos)   \
        << #call << ": " << synod_last_error();                                    \
  } while (0)

TEST(CapiErrors, EveryStatusHasTextAndUnknownCodesToo) {
  // SYNOD_E_SYSTEM_PARTITION is the lowest code; there are no gaps above it.
  for (int s = SYNOD_OK; s >= SYNOD_E_SYSTEM_PARTITION; --s) {
    EXPECT_STRNE(synod_errstr(s), "unknown status") << s;
  }
  EXPECT_STREQ(synod_errstr(SYNOD_E_SYSTEM_PARTITION - 1), "unknown status");
  EXPECT_STREQ(synod_errstr(-1000), "unknown status");
  EXPECT_STREQ(synod_errstr(1), "unknown status");
  EXPECT_STREQ(synod_errstr(SYNOD_E_NOT_LEADER), "not leader");
  EXPECT_EQ(SYNOD_E_CONF_CHANGE_PENDING, -16);
  EXPECT_STREQ(synod_errstr(SYNOD_E_CONF_CHANGE_PENDING),
               "a membership change is already in progress");
}

TEST(CapiErrors, LastErrorIsPerThread) {
  EXPECT_REFUSED(synod_config_set_node_id(nullptr, 1), SYNOD_E_INVALID_ARGUMENT,
                 "synod_config_set_node_id");
  std::string other;
  std::thread([&] { other = synod_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_NE(std::string(synod_last_error()), "");
}

TEST(CapiErrors, VersionMatchesTheHeader) {
  EXPECT_EQ(synod_version_number(), SYNOD_VERSION_NUMBER);
  EXPECT_EQ(std::string(synod_version()), std::to_string(SYNOD_VERSION_MAJOR) + "." +
                                              std::to_string(SYNOD_VERSION_MINOR) + "." +
                                              std::to_string(SYNOD_VERSION_PATCH));
}

TEST(CapiBadInput, FreeAcceptsNull) {
  synod_config_free(nullptr);
  synod_network_free(nullptr);
  synod_node_free(nullptr);
  synod_free(nullptr);
}

TEST(CapiBadInput, NullOutPointers) {
  EXPECT_REFUSED(synod_config_new(nullptr), SYNOD_E_INVALID_ARGUMENT, "synod_config_new");
  EXPECT_REFUSED(synod_network_new(nullptr), SYNOD_E_INVALID_ARGUMENT, "synod_network_new");
  ConfigPtr c = fast_config(1, {1});
  EXPECT_REFUSED(synod_node_new(c.get(), nullptr), SYNOD_E_INVALID_ARGUMENT, "synod_node_new");
  synod_node* n = reinterpret_cast<synod_node*>(0x1);
  EXPECT_REFUSED(synod_node_new(nullptr, &n), SYNOD_E_INVALID_ARGUMENT, "synod_node_new");
  EXPECT_EQ(n, nullptr);
}

TEST(CapiBadInput, NullConfigInEverySetter) {
  const char* e = "synod_config_set_";
  EXPECT_REFUSED(synod_config_set_node_id(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_cluster_id(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_add_member(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, "synod_config_add_member");
  EXPECT_REFUSED(synod_config_set_user_partitions(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_tick_interval_ms(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_election_ticks(nullptr, 10), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_heartbeat_ticks(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_max_payload_bytes(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_max_queued_requests(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_max_pending_events(nullptr, 16), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_request_timeout_ms(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_worker_threads(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_seed(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_storage(nullptr, "memory", nullptr), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_sync(nullptr, 1), SYNOD_E_INVALID_ARGUMENT, e);
  NetworkPtr net = new_network();
  EXPECT_REFUSED(synod_config_set_network(nullptr, net.get()), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_grpc(nullptr, "127.0.0.1:0"), SYNOD_E_INVALID_ARGUMENT, e);
  EXPECT_REFUSED(synod_config_set_peer_address(nullptr, 2, "127.0.0.1:1"), SYNOD_E_INVALID_ARGUMENT, e);
}

TEST(CapiBadInput, ValuesOutOfRange) {
  ConfigPtr c = new_config();
  synod_config* k = c.get();
  const auto refused = SYNOD_E_INVALID_ARGUMENT;
  EXPECT_REFUSED(synod_config_set_node_id(k, 0), refused, "node id 0");
  EXPECT_REFUSED(synod_config_set_cluster_id(k, 0), refused, "cluster id");
  EXPECT_REFUSED(synod_config_add_member(k, 0), refused, "node id 0");
  EXPECT_REFUSED(synod_config_set_user_partitions(k, 0), refused, "1..1048576");
  EXPECT_REFUSED(synod_config_set_tick_interval_ms(k, 0), refused, "1..60000");
  EXPECT_REFUSED(synod_config_set_election_ticks(k, 1), refused, "2..100000");
  EXPECT_REFUSED(synod_config_set_heartbeat_ticks(k, 0), refused, "1..100000");
  EXPECT_REFUSED(synod_config_set_max_payload_bytes(k, 0), refused, "bytes");
  EXPECT_REFUSED(synod_config_set_max_payload_bytes(k, (64u << 20) + 1), refused, "bytes");
  EXPECT_REFUSED(synod_config_set_max_queued_requests(k, 0), refused, "1..16777216");
  EXPECT_REFUSED(synod_config_set_max_pending_events(k, 1), refused, "2..16777216");
  EXPECT_REFUSED(synod_config_set_request_timeout_ms(k, 0), refused, "1..3600000");
  EXPECT_REFUSED(synod_config_set_worker_threads(k, 5000), refused, "0..1024");
  EXPECT_REFUSED(synod_config_set_storage(k, nullptr, "/tmp"), refused, "engine is NULL");
  EXPECT_REFUSED(synod_config_set_storage(k, "leveldb", "/tmp"), refused, "unknown engine");
  EXPECT_REFUSED(synod_config_set_storage(k, "rocksdb", nullptr), refused, "data directory");
  EXPECT_REFUSED(synod_config_set_storage(k, "sqlite", ""), refused, "data directory");
  EXPECT_REFUSED(synod_config_set_network(k, nullptr), refused, "network is NULL");
  EXPECT_REFUSED(synod_config_set_grpc(k, nullptr), refused, "listen address");
  EXPECT_REFUSED(synod_config_set_grpc(k, ""), refused, "listen address");
  EXPECT_REFUSED(synod_config_set_peer_address(k, 0, "127.0.0.1:1"), refused, "node id 0");
  EXPECT_REFUSED(synod_config_set_peer_address(k, 2, nullptr), refused, "address");
  EXPECT_EQ(synod_config_set_storage(k, "memory", nullptr), SYNOD_OK);
}

TEST(CapiBadInput, ConfigurationsThatCannotMakeANode) {
  synod_node* n = nullptr;
  ConfigPtr none = new_config();
  EXPECT_REFUSED(synod_node_new(none.get(), &n), SYNOD_E_CONFIG, "node id");
  EXPECT_EQ(n, nullptr);

  ConfigPtr no_transport = fast_config(1, {1, 2, 3});
  EXPECT_REFUSED(synod_node_new(no_transport.get(), &n), SYNOD_E_CONFIG, "needs a transport");

  ConfigPtr ticks = fast_config(1, {1});
  ASSERT_EQ(synod_config_set_heartbeat_ticks(ticks.get(), 20), SYNOD_OK);
  EXPECT_REFUSED(synod_node_new(ticks.get(), &n), SYNOD_E_CONFIG, "must exceed heartbeat");

  NetworkPtr net = new_network();
  ConfigPtr not_member = fast_config(4, {1, 2, 3});
  ASSERT_EQ(synod_config_set_network(not_member.get(), net.get()), SYNOD_OK);
  EXPECT_REFUSED(synod_node_new(not_member.get(), &n), SYNOD_E_CONFIG, "synod_node_new");

  ConfigPtr first = fast_config(1, {1, 2, 3});
  ASSERT_EQ(synod_config_set_network(first.get(), net.get()), SYNOD_OK);
  NodePtr one = make_node(first.get());
  EXPECT_REFUSED(synod_node_new(first.get(), &n), SYNOD_E_CONFIG, "already attached");
  EXPECT_EQ(n, nullptr);
}

TEST(CapiBadInput, StorageThatCannotOpen) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("synod-capi-storage-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto file = dir / "a-file";
  std::ofstream(file) << "not a directory";
  synod_node* n = nullptr;
  ConfigPtr c = fast_config(1, {1});
  ASSERT_EQ(synod_config_set_storage(c.get(), "rocksdb", file.c_str()), SYNOD_OK);
  EXPECT_REFUSED(synod_node_new(c.get(), &n), SYNOD_E_STORAGE, "cannot open the rocksdb store");

  // A data directory in use by another node is refused, and the first node goes on.
  const auto data = dir / "node";
  ConfigPtr d = fast_config(1, {1});
  ASSERT_EQ(synod_config_set_storage(d.get(), "sqlite", data.c_str()), SYNOD_OK);
  NodePtr holder = make_node(d.get());
  EXPECT_REFUSED(synod_node_new(d.get(), &n), SYNOD_E_STORAGE, "Locked");
  std::uint64_t leader = 0;
  EXPECT_EQ(synod_node_wait_for_leader(holder.get(), 1, 20000, &leader), SYNOD_OK);
  EXPECT_EQ(leader, 1u);
  holder.reset();
  std::filesystem::remove_all(dir);
}

TEST(CapiBadInput, NullNodeInEveryNodeFunction) {
  const char* e = "node is NULL";
  const auto refused = SYNOD_E_INVALID_ARGUMENT;
  synod_event ev[1];
  int fd = 0;
  size_t count = 0;
  uint64_t u = 0;
  int i = 0;
  char* json = nullptr;
  // Where a stale output pointer would point: a refused call must not leave it there.
  char text_marker = 0;
  synod_result r{};
  const synod_entry entry{1, kByte, 1};
  EXPECT_REFUSED(synod_node_stop(nullptr), refused, e);
  EXPECT_REFUSED(synod_node_poll(nullptr, ev, 1, 0), refused, e);
  EXPECT_REFUSED(synod_node_event_fd(nullptr, &fd), refused, e);
  EXPECT_REFUSED(synod_node_pending_events(nullptr, &count), refused, e);
  EXPECT_REFUSED(synod_node_replicate(nullptr, 1, 1, kByte, 1, 0), refused, e);
  EXPECT_REFUSED(synod_node_replicate_batch(nullptr, 1, &entry, 1, 0), refused, e);
  EXPECT_REFUSED(synod_node_read_index(nullptr, 1, 0), refused, e);
  EXPECT_REFUSED(synod_node_replicate_wait(nullptr, 1, 1, kByte, 1, &r), refused, e);
  EXPECT_EQ(r.status, refused);
  EXPECT_REFUSED(synod_node_read_index_wait(nullptr, 1, &r), refused, e);
  EXPECT_REFUSED(synod_node_report_applied(nullptr, 1, 1), refused, e);
  EXPECT_REFUSED(synod_node_is_leader(nullptr, 1, &i), refused, e);
  EXPECT_REFUSED(synod_node_leader(nullptr, 1, &u), refused, e);
  EXPECT_REFUSED(synod_node_wait_for_leader(nullptr, 1, 0, &u), refused, e);
  EXPECT_REFUSED(synod_node_transfer_leadership(nullptr, 1, 2), refused, e);
  EXPECT_REFUSED(synod_node_id(nullptr, &u), refused, e);
  EXPECT_REFUSED(synod_node_partitions(nullptr, &u, 1, &count), refused, e);
  EXPECT_REFUSED(synod_node_listen_port(nullptr, &i), refused, e);
  EXPECT_REFUSED(synod_node_set_peer_address(nullptr, 2, "127.0.0.1:1"), refused, e);
  EXPECT_REFUSED(synod_node_status_json(nullptr, &json, nullptr), refused, e);
  EXPECT_EQ(json, nullptr);
  json = &text_marker;
  EXPECT_REFUSED(synod_node_metrics_text(nullptr, &json, nullptr), refused, e);
  EXPECT_EQ(json, nullptr) << "the output is cleared on failure";
  json = &text_marker;
  EXPECT_REFUSED(synod_node_metrics_json(nullptr, &json, nullptr), refused, e);
  EXPECT_EQ(json, nullptr);
  EXPECT_REFUSED(synod_network_isolate(nullptr, 1), refused, "network is NULL");
  EXPECT_REFUSED(synod_network_heal(nullptr), refused, "network is NULL");
}

// A single-node cluster that leads partition 1, for the request-level checks.
class CapiSingleNode : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigPtr c = fast_config(1, {1});
    ASSERT_EQ(synod_config_set_max_payload_bytes(c.get(), 1024), SYNOD_OK);
    node_ = std::make_unique<PolledNode>(make_node(c.get()));
    std::uint64_t leader = 0;
    ASSERT_EQ(synod_node_wait_for_leader(n(), 1, 20000, &leader), SYNOD_OK);
    node_->drain();
  }
  synod_node* n() { return node_->get(); }
  // No request produced an event.
  void expect_no_results() {
    node_->drain();
    EXPECT_TRUE(node_->of_type(SYNOD_EVENT_REPLICATED).empty());
    EXPECT_TRUE(node_->of_type(SYNOD_EVENT_READ_INDEX).empty());
  }
  std::unique_ptr<PolledNode> node_;
};

TEST_F(CapiSingleNode, NullOutputsAndBuffers) {
  const auto refused = SYNOD_E_INVALID_ARGUMENT;
  EXPECT_REFUSED(synod_node_poll(n(), nullptr, 4, 0), refused, "events is NULL");
  synod_event ev[1];
  EXPECT_REFUSED(synod_node_poll(n(), ev, 0, 0), refused, "max is 0");
  EXPECT_REFUSED(synod_node_poll(n(), ev, 1, -2), refused, "timeout");
  EXPECT_REFUSED(synod_node_event_fd(n(), nullptr), refused, "out_fd");
  EXPECT_REFUSED(synod_node_pending_events(n(), nullptr), refused, "out_count");
  EXPECT_REFUSED(synod_node_replicate(n(), 1, 1, nullptr, 3, 0), refused, "data is NULL");
  EXPECT_REFUSED(synod_node_replicate_batch(n(), 1, nullptr, 2, 0), refused, "entries is NULL");
  EXPECT_REFUSED(synod_node_replicate_batch(n(), 1, nullptr, 0, 0), refused, "empty");
  const synod_entry bad[] = {{1, kByte, 1}, {1, nullptr, 5}};
  EXPECT_REFUSED(synod_node_replicate_batch(n(), 1, bad, 2, 0), refused, "entry 1: data is NULL");
  EXPECT_REFUSED(synod_node_replicate_wait(n(), 1, 1, kByte, 1, nullptr), refused, "out is NULL");
  EXPECT_REFUSED(synod_node_read_index_wait(n(), 1, nullptr), refused, "out is NULL");
  EXPECT_REFUSED(synod_node_is_leader(n(), 1, nullptr), refused, "out_is_leader");
  EXPECT_REFUSED(synod_node_leader(n(), 1, nullptr), refused, "out_leader");
  EXPECT_REFUSED(synod_node_wait_for_leader(n(), 1, 0, nullptr), refused, "out_leader");
  EXPECT_REFUSED(synod_node_wait_for_leader(n(), 1, -1, nullptr), refused, "out_leader");
  uint64_t u = 0;
  EXPECT_REFUSED(synod_node_wait_for_leader(n(), 1, -5, &u), refused, "timeout");
  EXPECT_REFUSED(synod_node_id(n(), nullptr), refused, "out_id");
  EXPECT_REFUSED(synod_node_partitions(n(), nullptr, 0, nullptr), refused, "out_count");
  size_t count = 0;
  EXPECT_REFUSED(synod_node_partitions(n(), nullptr, 3, &count), refused, "out is NULL");
  EXPECT_REFUSED(synod_node_listen_port(n(), nullptr), refused, "out_port");
  EXPECT_REFUSED(synod_node_status_json(n(), nullptr, nullptr), refused, "out_json");
  size_t len = 7;
  EXPECT_REFUSED(synod_node_metrics_text(n(), nullptr, &len), refused, "output pointer is NULL");
  EXPECT_REFUSED(synod_node_metrics_json(n(), nullptr, &len), refused, "output pointer is NULL");
  EXPECT_EQ(len, 7u) << "nothing is written on failure";
  expect_no_results();
}

TEST_F(CapiSingleNode, UnknownPartitionsAreRefusedNow) {
  const auto unknown = SYNOD_E_UNKNOWN_PARTITION;
  EXPECT_REFUSED(synod_node_replicate(n(), 77, 1, kByte, 1, 1), unknown, "partition 77");
  const synod_entry entry{1, kByte, 1};
  EXPECT_REFUSED(synod_node_replicate_batch(n(), 77, &entry, 1, 2), unknown, "partition 77");
  EXPECT_REFUSED(synod_node_read_index(n(), 77, 3), unknown, "partition 77");
  synod_result r{};
  EXPECT_REFUSED(synod_node_replicate_wait(n(), 77, 1, kByte, 1, &r), unknown, "partition 77");
  EXPECT_REFUSED(synod_node_read_index_wait(n(), 77, &r), unknown, "partition 77");
  EXPECT_EQ(r.status, unknown);
  EXPECT_REFUSED(synod_node_report_applied(n(), 77, 1), unknown, "partition 77");
  int i = 0;
  uint64_t u = 0;
  EXPECT_REFUSED(synod_node_is_leader(n(), 77, &i), unknown, "partition 77");
  EXPECT_REFUSED(synod_node_leader(n(), 77, &u), unknown, "partition 77");
  EXPECT_REFUSED(synod_node_wait_for_leader(n(), 77, 10, &u), unknown, "partition 77");
  EXPECT_REFUSED(synod_node_transfer_leadership(n(), 77, 2), unknown, "partition 77");
  expect_no_results();
}

TEST_F(CapiSingleNode, PayloadsOverTheLimitAndReservedTypes) {
  const std::string big(1025, 'x');
  const auto* data = reinterpret_cast<const std::uint8_t*>(big.data());
  EXPECT_REFUSED(synod_node_replicate(n(), 1, 1, data, big.size(), 1), SYNOD_E_PAYLOAD_TOO_LARGE,
                 "1025 bytes exceed the limit of 1024");
  synod_result r{};
  EXPECT_REFUSED(synod_node_replicate_wait(n(), 1, 1, data, big.size(), &r),
                 SYNOD_E_PAYLOAD_TOO_LARGE, "exceed");
  const synod_entry entries[] = {{1, kByte, 1}, {1, data, big.size()}};
  EXPECT_REFUSED(synod_node_replicate_batch(n(), 1, entries, 2, 2), SYNOD_E_PAYLOAD_TOO_LARGE,
                 "entry 1");
  EXPECT_REFUSED(synod_node_replicate(n(), 1, 0, kByte, 1, 3), SYNOD_E_INVALID_ARGUMENT,
                 "type 0 is reserved");
  const synod_entry typed[] = {{0, kByte, 1}};
  EXPECT_REFUSED(synod_node_replicate_batch(n(), 1, typed, 1, 4), SYNOD_E_INVALID_ARGUMENT,
                 "type 0 is reserved");
  expect_no_results();
  // Exactly the limit is fine.
  EXPECT_EQ(synod_node_replicate_wait(n(), 1, 1, data, 1024, &r), SYNOD_OK) << synod_last_error();
}

TEST_F(CapiSingleNode, OtherRefusals) {
  const auto refused = SYNOD_E_INVALID_ARGUMENT;
  EXPECT_REFUSED(synod_node_report_applied(n(), 1, 1'000'000), refused, "not been delivered");
  EXPECT_REFUSED(synod_node_transfer_leadership(n(), 1, 0), refused, "target node id 0");
  int port = 0;
  EXPECT_REFUSED(synod_node_listen_port(n(), &port), refused, "gRPC");
  EXPECT_REFUSED(synod_node_set_peer_address(n(), 2, "127.0.0.1:1"), refused, "gRPC");
  EXPECT_REFUSED(synod_node_set_peer_address(n(), 0, "127.0.0.1:1"), refused, "node id 0");
  EXPECT_REFUSED(synod_node_set_peer_address(n(), 2, nullptr), refused, "address");
  expect_no_results();
}

TEST_F(CapiSingleNode, AppliedFloorAcceptsDeliveredIndexes) {
  synod_result r{};
  ASSERT_EQ(synod_node_replicate_wait(n(), 1, 1, kByte, 1, &r), SYNOD_OK);
  ASSERT_TRUE(node_->poll_until([](const auto& events) {
    for (const auto& e : events) {
      if (e.raw.type == SYNOD_EVENT_ENTRY) return true;
    }
    return false;
  }));
  EXPECT_EQ(synod_node_report_applied(n(), 1, r.index), SYNOD_OK) << synod_last_error();
}

}  // namespace
}  // namespace synod::capi_test
