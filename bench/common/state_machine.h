// The benchmarks' host: an in-memory state machine (snapshots.h) whose state per partition
// is the count of entries applied and a checksum of their payloads. The engine's snapshot
// policy asks it to save that state and compacts the log behind; a node behind the
// leader's compacted log installs it. The benchmarks therefore measure the engine's own
// snapshots and compaction, with a host whose own work is small.
//
// For the snapshot transfer benchmark a requested save may carry `filler` bytes after the
// state: a pseudo-random stream generated while it is written and generated again, and
// compared, while it is read, so that a snapshot of any size is checked end to end without
// ever being held whole in memory. Such a save or install runs on a thread of its own, not
// on the engine's task.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "synod/node/node_host.h"
#include "synod/node/snapshots.h"

namespace synod::bench {

// A pseudo-random stream of 64-bit words (splitmix64): fast enough that generating it is
// not what a transfer measures.
class FillerStream {
 public:
  explicit FillerStream(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Fills `words` words of `out`.
  void fill(std::uint64_t* out, std::size_t words) {
    for (std::size_t i = 0; i < words; ++i) out[i] = next();
  }

 private:
  std::uint64_t state_;
};

// One finished install, as the transfer benchmark reports it.
struct InstallRecord {
  node::PartitionId partition = 0;
  node::Index index = 0;
  std::uint64_t filler_bytes = 0;
  bool ok = false;
  std::string why;
  // Steady-clock times (comparable between processes on one machine) of the handler's call
  // and of its done().
  std::chrono::steady_clock::time_point began;
  std::chrono::steady_clock::time_point ended;
};

class BenchStateMachine {
 public:
  // Partitions 0..user_partitions (the system partition has no host entries, but the
  // policy snapshots it too).
  explicit BenchStateMachine(std::uint32_t user_partitions) : states_(user_partitions + 1) {}
  BenchStateMachine(const BenchStateMachine&) = delete;
  BenchStateMachine& operator=(const BenchStateMachine&) = delete;
  ~BenchStateMachine() { stop(); }

  // The state's size in a snapshot, before any filler.
  static constexpr std::uint64_t kStateBytes = 5 * sizeof(std::uint64_t);

  // Requested saves (NodeHost::request_snapshot) write `bytes` of snapshot data in all:
  // the state, then filler (none when `bytes` <= kStateBytes). Before the request.
  void set_requested_size(std::uint64_t bytes) {
    requested_filler_ = bytes > kStateBytes ? bytes - kStateBytes : 0;
  }

  // Sets the host's apply and snapshot handlers; before host.start().
  void attach(node::NodeHost& host) {
    host.set_apply_handler([this](const node::CommittedEntry& e) { apply(e); });
    host.set_snapshot_handler({[this](node::SaveRequest r) { save(std::move(r)); },
                               [this](node::InstallRequest r) { install(std::move(r)); }});
  }

  // Ends the saves and installs running on threads of their own (a save not finished fails)
  // and waits for them. Before the NodeHost stops, whose files they write and read.
  void stop() {
    stopping_.store(true);
    std::vector<std::thread> jobs;
    {
      std::lock_guard lock(mu_);
      jobs.swap(jobs_);
    }
    for (auto& job : jobs) job.join();
  }

  std::uint64_t saved() const { return saved_.load(); }
  std::uint64_t installed() const { return installed_.load(); }
  std::uint64_t failed() const { return failed_.load(); }
  // The installs finished so far, in order.
  std::vector<InstallRecord> installs() const {
    std::lock_guard lock(mu_);
    return installs_;
  }

 private:
  // What a snapshot holds before its filler, as 64-bit words.
  enum Field { kMagic, kEntries, kChecksum, kFillerBytes, kFillerSeed, kFields };
  static_assert(kFields * sizeof(std::uint64_t) == kStateBytes);
  static constexpr std::uint64_t kMagicValue = 0x53594e4f44424e31ull;  // "SYNODBN1"
  static constexpr std::size_t kChunkWords = 8192;                     // 64 KiB per write

  struct PartitionState {
    std::uint64_t entries = 0;
    std::uint64_t checksum = 0;
  };

  // Word by word: a byte-at-a-time hash would cost more than the rest of the host.
  static std::uint64_t mix(std::uint64_t h, std::string_view data) {
    constexpr std::uint64_t kPrime = 0x100000001b3ull;
    std::size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, data.data() + i, 8);
      h = (h ^ w) * kPrime;
    }
    for (; i < data.size(); ++i) h = (h ^ static_cast<unsigned char>(data[i])) * kPrime;
    return (h << 17 | h >> 47) + data.size();
  }

  void apply(const node::CommittedEntry& e) {
    PartitionState& s = states_.at(e.partition);
    ++s.entries;
    s.checksum = mix(s.checksum, e.payload.view());
  }

  void save(node::SaveRequest r) {
    const PartitionState& s = states_.at(r.partition);
    const std::uint64_t filler =
        r.reason == node::SnapshotReason::Requested ? requested_filler_ : 0;
    const std::array<std::uint64_t, kFields> header = {kMagicValue, s.entries, s.checksum, filler,
                                                       r.partition * 1000003 + r.index};
    if (!r.writer->write(header.data(), sizeof header)) return fail_save(r, r.writer->why());
    if (filler == 0) return finish_save(r);
    run([this, r = std::move(r), filler, seed = header[kFillerSeed]]() mutable {
      FillerStream stream(seed);
      std::vector<std::uint64_t> chunk(kChunkWords);
      for (std::uint64_t left = filler; left > 0;) {
        if (stopping_.load()) return fail_save(r, "the benchmark is stopping");
        const std::size_t bytes = static_cast<std::size_t>(std::min<std::uint64_t>(left, kChunkWords * 8));
        stream.fill(chunk.data(), (bytes + 7) / 8);
        if (!r.writer->write(chunk.data(), bytes)) return fail_save(r, r.writer->why());
        left -= bytes;
      }
      finish_save(r);
    });
  }

  void finish_save(node::SaveRequest& r) {
    saved_.fetch_add(1);
    r.done(node::Status::Ok, "");
  }
  void fail_save(node::SaveRequest& r, const std::string& why) {
    failed_.fetch_add(1);
    r.done(node::Status::StorageFailure, why);
  }

  void install(node::InstallRequest r) {
    InstallRecord record;
    record.partition = r.partition;
    record.index = r.index;
    record.began = std::chrono::steady_clock::now();
    std::array<std::uint64_t, kFields> header{};
    if (!read_exactly(*r.reader, header.data(), sizeof header)) {
      return finish_install(r, record, "the snapshot is shorter than its header");
    }
    if (header[kMagic] != kMagicValue) return finish_install(r, record, "not a benchmark snapshot");
    if (r.reader->size() != sizeof header + header[kFillerBytes]) {
      return finish_install(r, record, "the snapshot's size does not match its header");
    }
    record.filler_bytes = header[kFillerBytes];
    if (record.filler_bytes == 0) return install_state(r, record, header);
    run([this, r = std::move(r), record, header]() mutable {
      FillerStream stream(header[kFillerSeed]);
      std::vector<std::uint64_t> expected(kChunkWords);
      std::vector<std::uint64_t> got(kChunkWords);
      for (std::uint64_t done = 0; done < record.filler_bytes;) {
        if (stopping_.load()) return finish_install(r, record, "the benchmark is stopping");
        const std::size_t bytes = static_cast<std::size_t>(
            std::min<std::uint64_t>(record.filler_bytes - done, kChunkWords * 8));
        if (!read_exactly(*r.reader, got.data(), bytes)) {
          return finish_install(r, record, "the filler ends early: " + r.reader->why());
        }
        stream.fill(expected.data(), (bytes + 7) / 8);
        if (std::memcmp(expected.data(), got.data(), bytes) != 0) {
          return finish_install(r, record,
                                "the filler differs in the 64 KiB from byte " + std::to_string(done));
        }
        done += bytes;
      }
      install_state(r, record, header);
    });
  }

  void install_state(node::InstallRequest& r, InstallRecord& record,
                     const std::array<std::uint64_t, kFields>& header) {
    PartitionState& s = states_.at(r.partition);
    s.entries = header[kEntries];
    s.checksum = header[kChecksum];
    record.ok = true;
    finish_install(r, record, "");
  }

  void finish_install(node::InstallRequest& r, InstallRecord& record, const std::string& why) {
    record.why = why;
    record.ended = std::chrono::steady_clock::now();
    (record.ok ? installed_ : failed_).fetch_add(1);
    {
      std::lock_guard lock(mu_);
      installs_.push_back(record);
    }
    r.done(record.ok ? node::Status::Ok : node::Status::InvalidArgument, why);
  }

  // False when the data ends (or is damaged) first.
  static bool read_exactly(node::SnapshotReader& reader, void* out, std::size_t size) {
    auto* bytes = static_cast<char*>(out);
    for (std::size_t done = 0; done < size;) {
      const std::int64_t n = reader.read(bytes + done, size - done);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  template <typename Job>
  void run(Job job) {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(std::move(job));
  }

  // Indexed by partition id. A partition's apply, save and install calls come one at a
  // time, in log order (snapshots.h), so its state needs no lock.
  std::vector<PartitionState> states_;
  std::uint64_t requested_filler_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> saved_{0};
  std::atomic<std::uint64_t> installed_{0};
  std::atomic<std::uint64_t> failed_{0};
  mutable std::mutex mu_;
  std::vector<std::thread> jobs_;
  std::vector<InstallRecord> installs_;
};

}  // namespace synod::bench
