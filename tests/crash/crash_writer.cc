// The child process of tests/crash/crash_test.cc: a one-node cluster on a durable store
// that proposes without pause until it is killed, reporting on stdout what happened.
//
//   synod-crash-writer --store rocksdb|sqlite --dir DIR --run N          write until killed
//   synod-crash-writer --store rocksdb|sqlite --dir DIR --verify         print the stored log
//
// Lines (each written with one write(2), so a kill never tears one):
//   S <partition> <applied floor>        the store's floor for each partition, at start
//   A <partition> <index> <payload>      an entry delivered to the host (then reported as
//                                        applied: the parent is the host's durable state)
//   K <partition> <index> <payload>      a proposal acknowledged as committed
//   E <partition> <index> <payload>      --verify: a stored entry of a host type
//   C <partition> <commit>               --verify: the stored commit index
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "synod/node/node_host.h"
#include "synod/node/node_runtime.h"
#include "synod/storage/open_log_store.h"

namespace {

using namespace synod;

constexpr std::uint32_t kUserPartitions = 3;
constexpr std::uint32_t kPayloadType = 1;
constexpr int kOutstanding = 32;

void emit(const std::string& line) {
  const std::string out = line + "\n";
  // Lines are far below PIPE_BUF, so each write is atomic.
  if (::write(STDOUT_FILENO, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
    std::_Exit(3);
  }
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "synod-crash-writer: %s\n", why.c_str());
  std::exit(2);
}

std::unique_ptr<storage::LogStore> open_store(const std::string& engine, const std::string& dir) {
  std::unique_ptr<storage::LogStore> store;
  storage::DurableStoreOptions options;
  options.on_warning = [](const storage::StorageWarning& w) {
    std::fprintf(stderr, "warning: %s\n", w.message.c_str());
  };
  if (auto st = storage::open_log_store(engine, dir, options, store); !st.ok()) {
    die("cannot open the store: " + st.to_string());
  }
  return store;
}

int verify(const std::string& engine, const std::string& dir) {
  auto store = open_store(engine, dir);
  for (storage::PartitionId p : store->partitions()) {
    if (auto damage = store->partition_error(p); !damage.ok()) die(damage.to_string());
    auto view = store->open_partition(p);
    std::vector<raft::Entry> log;
    if (view->last_index() >= view->first_index() &&
        view->entries(view->first_index(), view->last_index() + 1, SIZE_MAX, log) !=
            raft::StorageError::None) {
      die("cannot read partition " + std::to_string(p));
    }
    for (const raft::Entry& e : log) {
      if (e.type == raft::EntryType::Normal && e.tag != 0) {
        emit("E " + std::to_string(p) + " " + std::to_string(e.index) + " " +
             std::string(e.data.view()));
      }
    }
    emit("C " + std::to_string(p) + " " + std::to_string(view->hard_state().commit));
  }
  return 0;
}

int write_until_killed(const std::string& engine, const std::string& dir, const std::string& run) {
  auto store = open_store(engine, dir);
  for (storage::PartitionId p : store->partitions()) {
    emit("S " + std::to_string(p) + " " + std::to_string(store->applied_floor(p)));
  }

  node::NodeRuntimeOptions o;
  o.host.node_id = 1;
  o.host.user_partitions = kUserPartitions;
  o.host.tick_interval = std::chrono::milliseconds(1);
  // The store read above, floors and all, is the node's.
  o.store.existing = std::move(store);
  o.worker_threads = 2;
  o.sync_thread = node::SyncThread::On;
  node::RuntimeError error;
  auto runtime = node::NodeRuntime::create(std::move(o), &error);
  if (!runtime) die(error.message);
  node::NodeHost* h = &runtime->host();
  h->set_apply_handler([h](const node::CommittedEntry& e) {
    emit("A " + std::to_string(e.partition) + " " + std::to_string(e.index) + " " +
         std::string(e.payload.view()));
    if (const node::Status st = h->report_applied(e.partition, e.index); st != node::Status::Ok) {
      die(std::string("report_applied refused: ") + node::to_string(st));
    }
  });
  runtime->start();

  std::mutex mu;
  std::condition_variable room;
  int outstanding = 0;
  for (std::uint64_t seq = 0;; ++seq) {
    {
      std::unique_lock lock(mu);
      room.wait(lock, [&] { return outstanding < kOutstanding; });
      ++outstanding;
    }
    const node::PartitionId p = 1 + seq % kUserPartitions;
    std::string payload = std::to_string(p) + ":" + run + ":" + std::to_string(seq);
    h->replicate(
        p, kPayloadType, raft::Bytes(payload), [&, p, payload](const node::ReplicationResult& r) {
          if (r.status == node::Status::Ok) {
            emit("K " + std::to_string(p) + " " + std::to_string(r.index) + " " + payload);
          }
          std::lock_guard lock(mu);
          --outstanding;
          room.notify_one();
        });
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string engine, dir, run;
  bool verify_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--store") {
      engine = value();
    } else if (arg == "--dir") {
      dir = value();
    } else if (arg == "--run") {
      run = value();
    } else if (arg == "--verify") {
      verify_mode = true;
    } else {
      die("unknown argument " + arg);
    }
  }
  if (engine.empty() || dir.empty() || (!verify_mode && run.empty())) {
    die("usage: --store rocksdb|sqlite --dir DIR (--run N | --verify)");
  }
  return verify_mode ? verify(engine, dir) : write_until_killed(engine, dir, run);
}
