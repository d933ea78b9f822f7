// Durable nodes through the C ABI: a restart from the data directory delivers only the
// entries above the reported applied floor; a store that fails a write stops the node.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "capi_harness.h"

namespace synod::capi_test {
namespace {

class CapiDurable : public ::testing::TestWithParam<const char*> {};

TEST_P(CapiDurable, RestartRedeliversOnlyAboveTheAppliedFloor) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("synod-capi-durable-" + std::string(GetParam()) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto config = [&] {
    ConfigPtr c = fast_config(1, {1});
    EXPECT_EQ(synod_config_set_storage(c.get(), GetParam(), dir.c_str()), SYNOD_OK);
    return c;
  };
  std::uint64_t indexes[5] = {};
  {
    ConfigPtr c = config();
    PolledNode n(make_node(c.get()));
    std::uint64_t leader = 0;
    ASSERT_EQ(synod_node_wait_for_leader(n.get(), 1, 20000, &leader), SYNOD_OK);
    for (int i = 0; i < 5; ++i) {
      const std::string payload = "entry-" + std::to_string(i);
      synod_result r{};
      ASSERT_EQ(synod_node_replicate_wait(n.get(), 1, 1, reinterpret_cast<const std::uint8_t*>(payload.data()),
                                          payload.size(), &r),
                SYNOD_OK)
          << synod_last_error();
      indexes[i] = r.index;
    }
    ASSERT_TRUE(n.poll_until([](const auto& events) {
      int entries = 0;
      for (const auto& e : events) entries += e.raw.type == SYNOD_EVENT_ENTRY;
      return entries == 5;
    }));
    ASSERT_EQ(synod_node_report_applied(n.get(), 1, indexes[2]), SYNOD_OK) << synod_last_error();
  }
  ConfigPtr c = config();
  PolledNode n(make_node(c.get()));
  ASSERT_TRUE(n.poll_until([](const auto& events) {
    int entries = 0;
    for (const auto& e : events) entries += e.raw.type == SYNOD_EVENT_ENTRY;
    return entries >= 2;
  }));
  const auto entries = n.of_type(SYNOD_EVENT_ENTRY);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].raw.index, indexes[3]);
  EXPECT_EQ(entries[0].data, "entry-3");
  EXPECT_EQ(entries[1].raw.index, indexes[4]);
  EXPECT_EQ(entries[1].data, "entry-4");
  n.reset();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Engines, CapiDurable, ::testing::Values("rocksdb", "sqlite"));

// Limits the size of files this process may write while it lives, and ignores the
// signal that exceeding it raises, so that the write fails (EFBIG) instead.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*previous_)(int) = SIG_DFL;
};

// An empty directory named `name` and this process's id, under the temporary directory.
std::filesystem::path empty_directory(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

// A node alone in its cluster, storing with `engine` in `dir`, once it leads partition 1;
// null (and the test failed) when it cannot start or lead.
NodePtr start_leading_alone(const std::filesystem::path& dir, const char* engine) {
  ConfigPtr c = fast_config(1, {1});
  EXPECT_EQ(synod_config_set_storage(c.get(), engine, dir.c_str()), SYNOD_OK);
  NodePtr n = make_node(c.get());
  std::uint64_t leader = 0;
  if (!n || synod_node_wait_for_leader(n.get(), 1, 20000, &leader) != SYNOD_OK) {
    ADD_FAILURE() << "node 1 did not lead: " << synod_last_error();
    return nullptr;
  }
  return n;
}

// Writes 64 KiB entries to `n` under a file size limit of 1 MiB until one fails; the
// status of the last write.
int write_until_the_store_fails(synod_node* n) {
  const std::string payload(64 << 10, 'p');
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(payload.data());
  synod_result r{};
  int status = SYNOD_OK;
  FileSizeLimit limit(1 << 20);
  // Bounded: 64 MiB of writes, far beyond the limit.
  for (int i = 0; i < 1024 && status == SYNOD_OK; ++i) {
    status = synod_node_replicate_wait(n, 1, 1, bytes, payload.size(), &r);
    if (status == SYNOD_OK) status = r.status;
  }
  return status;
}

// The disk refuses a write (here: the file size limit): the node stops itself, says why
// in an error log event, and the poll loop ends.
TEST_P(CapiDurable, AFailedWriteStopsTheNodeAndEndsThePollLoop) {
  const auto dir = empty_directory("synod-capi-failure-" + std::string(GetParam()));
  PolledNode n(start_leading_alone(dir, GetParam()));
  ASSERT_TRUE(n.get());
  const std::string payload(64 << 10, 'p');
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(payload.data());
  synod_result r{};
  ASSERT_EQ(synod_node_replicate_wait(n.get(), 1, 1, bytes, payload.size(), &r), SYNOD_OK);
  const int status = write_until_the_store_fails(n.get());
  // The write that failed, or one refused because the node had stopped by then.
  EXPECT_TRUE(status == SYNOD_E_STORAGE || status == SYNOD_E_SHUTTING_DOWN) << status;
  // The poll loop ends once the queue is drained; the last event says why.
  std::vector<std::string> errors;
  synod_event batch[64];
  int got = 0;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while ((got = synod_node_poll(n.get(), batch, 64, 50)) >= 0 &&
         std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < got; ++i) {
      if (batch[i].type == SYNOD_EVENT_LOG && batch[i].status == SYNOD_LOG_ERROR) {
        errors.emplace_back(reinterpret_cast<const char*>(batch[i].data), batch[i].len);
        // The node stopped as a whole: the message names no partition.
        EXPECT_EQ(batch[i].entry_type & SYNOD_LOG_HAS_PARTITION, 0u);
      }
    }
  }
  EXPECT_EQ(got, SYNOD_E_SHUTTING_DOWN);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("stopped: its log store failed"), std::string::npos) << errors[0];
  // Stopped: requests are refused with the reason, and stop and free still work.
  EXPECT_EQ(synod_node_replicate_wait(n.get(), 1, 1, bytes, 1, &r), SYNOD_E_SHUTTING_DOWN);
  EXPECT_NE(std::string(synod_last_error()).find("log store failed"), std::string::npos)
      << synod_last_error();
  EXPECT_EQ(synod_node_stop(n.get()), SYNOD_OK);
  n.reset();
  std::filesystem::remove_all(dir);
}

// Fills the store of `n` under a file size limit until a write fails and the node stops
// itself, then polls until its error log event arrives.
void fail_the_store(synod_node* n) {
  const int status = write_until_the_store_fails(n);
  ASSERT_TRUE(status == SYNOD_E_STORAGE || status == SYNOD_E_SHUTTING_DOWN) << status;
  synod_event batch[64];
  bool logged = false;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!logged && std::chrono::steady_clock::now() < deadline) {
    const int got = synod_node_poll(n, batch, 64, 50);
    ASSERT_GE(got, 0) << "the poll loop ended before the error log event";
    for (int i = 0; i < got; ++i) {
      logged = logged || (batch[i].type == SYNOD_EVENT_LOG && batch[i].status == SYNOD_LOG_ERROR);
    }
  }
  ASSERT_TRUE(logged);
}

// Spins until `flag` is set, at most kPatience. Relaxed: it orders nothing.
bool await_flag(const std::atomic<bool>& flag) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!flag.load(std::memory_order_relaxed)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// A node that stopped itself is stopped again by a thread that never learnt of the
// failure from the node, and a third such thread then calls it: the call sees `stopped`
// set by that stop, and must still read the failure text in order with the failure
// handler's write. Both threads start before the failure and learn of events only through
// relaxed flags, so under ThreadSanitizer the node's own synchronisation is all that
// orders the write and the read.
TEST_P(CapiDurable, TheFailureReasonIsReadSafelyAfterAnotherThreadStopsTheNode) {
  const auto dir = empty_directory("synod-capi-failure-race-" + std::string(GetParam()));
  NodePtr n = start_leading_alone(dir, GetParam());
  synod_node* node = n.get();
  ASSERT_TRUE(node);

  std::atomic<bool> failed{false};
  std::atomic<bool> stopped_again{false};
  int stop_status = SYNOD_E_INTERNAL;
  std::thread stopper([&] {
    if (!await_flag(failed)) return;
    stop_status = synod_node_stop(node);
    stopped_again.store(true, std::memory_order_relaxed);
  });
  int call_status = SYNOD_OK;
  std::string reason;
  std::thread caller([&] {
    if (!await_flag(stopped_again)) return;
    const std::uint8_t byte = 1;
    call_status = synod_node_replicate(node, 1, 1, &byte, 1, 7);
    reason = synod_last_error();
  });
  fail_the_store(node);
  failed.store(true, std::memory_order_relaxed);
  stopper.join();
  caller.join();
  EXPECT_EQ(stop_status, SYNOD_OK);
  EXPECT_EQ(call_status, SYNOD_E_SHUTTING_DOWN);
  EXPECT_NE(reason.find("log store failed"), std::string::npos) << reason;
  n.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace synod::capi_test
