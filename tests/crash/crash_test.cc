// Crash tests with real processes: synod-crash-writer (crash_writer.cc) runs a one-node
// cluster on a RocksDB or SQLite store, proposing without pause, and is killed with
// SIGKILL at a random point — a number of acknowledged writes drawn from a seeded
// generator, so the kill lands wherever the process happens to be (in a sync, between
// a write and its sync, delivering entries, starting up, recovering).
//
// Across all rounds, checked at every restart and at the end:
//   - every acknowledged write is in the log at its index with its payload;
//   - every entry delivered to the host is in the log, with the same payload each time
//     it is delivered (state machine safety across restarts);
//   - after a restart, no entry at or below the host's applied floor is delivered again,
//     and within a run each partition's deliveries only go forward;
//   - the stored floor is an index the host reported, never beyond what it was given.
//
// SYNOD_CRASH_ROUNDS=<n> (default 150) rounds per store; SYNOD_CRASH_SEED=<n> fixes the
// seed (a failure prints the line that replays it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Index = std::uint64_t;
using Partition = std::uint64_t;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Line {
  char kind = 0;
  Partition partition = 0;
  Index index = 0;
  std::string payload;
};

Line parse(const std::string& text) {
  Line line;
  std::istringstream in(text);
  in >> line.kind >> line.partition >> line.index;
  in >> line.payload;
  return line;
}

// A child process with its stdout on a pipe, read line by line with a deadline.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      wait_exit();
    }
    if (fd_ >= 0) close(fd_);
  }

  bool started() const { return pid_ > 0 && fd_ >= 0; }

  // The next line, or nothing at end of output or when `deadline` passes.
  std::optional<std::string> next(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (eof_) return std::nullopt;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) {
        eof_ = true;
      } else {
        buffer_.append(chunk, static_cast<std::size_t>(n));
      }
    }
  }

  void kill_now() { kill(pid_, SIGKILL); }

  // Waits for the process to end; returns its wait status.
  int wait_exit() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

class CrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "synod-crash-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::vector<std::string> args(const std::vector<std::string>& extra) const {
    std::vector<std::string> a = {SYNOD_CRASH_WRITER, "--store", GetParam(), "--dir", dir_};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::string dir_;
};

INSTANTIATE_TEST_SUITE_P(Stores, CrashTest, ::testing::Values("rocksdb", "sqlite"),
                         [](const auto& info) { return info.param; });

TEST_P(CrashTest, KilledAtRandomNothingAcknowledgedIsLostAndNothingIsAppliedTwice) {
  const std::uint64_t rounds = env_or("SYNOD_CRASH_ROUNDS", 150);
  const std::uint64_t seed = env_or("SYNOD_CRASH_SEED", std::random_device()());
  const std::string replay = "replay: SYNOD_CRASH_SEED=" + std::to_string(seed) +
                             " SYNOD_CRASH_ROUNDS=" + std::to_string(rounds) + " " +
                             ::testing::internal::GetArgvs()[0] +
                             " --gtest_filter=Stores/CrashTest.*/" + GetParam();
  SCOPED_TRACE(replay);
  std::mt19937_64 rng(seed);

  // What the host was told, per partition: the payload delivered at each index, the
  // acknowledged writes, and the indexes it reported as applied.
  std::map<Partition, std::map<Index, std::string>> delivered;
  std::map<Partition, std::map<Index, std::string>> acknowledged;
  std::map<Partition, std::set<Index>> reported;
  std::uint64_t total_acks = 0, total_deliveries = 0, redelivered = 0;

  for (std::uint64_t round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Mostly mid-stream kills; sometimes one while starting up or recovering.
    const std::uint64_t kill_after = rng() % 8 == 0 ? 0 : 1 + rng() % 400;
    Child child(args({"--run", std::to_string(round)}));
    ASSERT_TRUE(child.started());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::uint64_t acks = 0;
    std::map<Partition, Index> floor, last_delivered;
    bool killed = false;
    auto handle = [&](const std::string& text) {
      const Line line = parse(text);
      const Partition p = line.partition;
      switch (line.kind) {
        case 'S':
          floor[p] = line.index;
          last_delivered[p] = line.index;
          if (line.index != 0) {
            ASSERT_TRUE(reported[p].count(line.index))
                << "partition " << p << " restarted with floor " << line.index
                << ", which the host never reported";
          }
          break;
        case 'A': {
          ++total_deliveries;
          ASSERT_GT(line.index, last_delivered[p])
              << "partition " << p << ": entry " << line.index << " delivered after "
              << last_delivered[p] << " (the floor at start was " << floor[p] << ")";
          last_delivered[p] = line.index;
          auto [it, fresh] = delivered[p].emplace(line.index, line.payload);
          if (!fresh) {
            ++redelivered;
            ASSERT_EQ(it->second, line.payload)
                << "partition " << p << ": entry " << line.index << " changed across restarts";
          }
          reported[p].insert(line.index);
          break;
        }
        case 'K':
          ++acks;
          ++total_acks;
          acknowledged[p][line.index] = line.payload;
          break;
        default:
          FAIL() << "unexpected line from the writer: " << text;
      }
    };
    if (kill_after == 0) {
      // Kill as soon as the process has said anything: during recovery or election.
      if (auto text = child.next(deadline)) handle(*text);
      child.kill_now();
      killed = true;
    }
    while (auto text = child.next(deadline)) {
      handle(*text);
      if (HasFatalFailure()) return;
      if (!killed && acks >= kill_after) {
        child.kill_now();
        killed = true;
      }
    }
    const int status = child.wait_exit();
    ASSERT_TRUE(killed) << "the writer stopped by itself (status " << status
                        << ") or made no progress within 60 s";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  }

  // The final state, read straight from the store.
  Child verify(args({"--verify"}));
  ASSERT_TRUE(verify.started());
  std::map<Partition, std::map<Index, std::string>> stored;
  std::map<Partition, Index> commit;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (auto text = verify.next(deadline)) {
    const Line line = parse(*text);
    if (line.kind == 'E') stored[line.partition][line.index] = line.payload;
    if (line.kind == 'C') commit[line.partition] = line.index;
  }
  const int status = verify.wait_exit();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "verify failed: " << status;

  for (const auto& [p, writes] : acknowledged) {
    for (const auto& [index, payload] : writes) {
      ASSERT_TRUE(stored[p].count(index)) << "acknowledged write " << payload << " at partition "
                                          << p << " index " << index << " is lost";
      ASSERT_EQ(stored[p][index], payload) << "partition " << p << " index " << index;
      ASSERT_LE(index, commit[p]) << "acknowledged but not committed in the store";
    }
  }
  for (const auto& [p, entries] : delivered) {
    for (const auto& [index, payload] : entries) {
      ASSERT_EQ(stored[p][index], payload)
          << "delivered entry " << index << " of partition " << p << " differs from the stored one";
    }
  }
  std::printf(
      "%s: %llu rounds, %llu acknowledged writes, %llu deliveries (%llu again after a "
      "restart), seed %llu\n",
      GetParam().c_str(), static_cast<unsigned long long>(rounds),
      static_cast<unsigned long long>(total_acks),
      static_cast<unsigned long long>(total_deliveries),
      static_cast<unsigned long long>(redelivered), static_cast<unsigned long long>(seed));
  EXPECT_GT(total_acks, rounds);
}

}  // namespace
