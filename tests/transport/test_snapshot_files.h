// A SnapshotFiles for the transport tests, backed by memory: files put in by the test are
// what its node sends; what it receives is kept per (partition, index) once committed.
// It can refuse, fail a commit or a read, hold a read midway, and it keeps a ledger of
// bytes read and written (shared by the nodes of a test) to check how far a transport
// reads ahead of what its peer has written.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "synod/transport/snapshot_files.h"
#include "synod/transport/transport.h"
#include "test_util.h"

namespace synod::transport::testing {

// Bytes read by the readers and written by the writers of the files that share it, and
// the most that reading was ever ahead of writing.
struct SnapshotLedger {
  std::atomic<std::uint64_t> read{0};
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> max_lead{0};

  void add_read(std::uint64_t bytes) {
    const std::uint64_t lead = (read += bytes) - written.load();
    std::uint64_t seen = max_lead.load();
    while (lead > seen && !max_lead.compare_exchange_weak(seen, lead)) {
    }
  }
};

class TestSnapshotFiles final : public SnapshotFiles {
 public:
  explicit TestSnapshotFiles(std::shared_ptr<SnapshotLedger> ledger = std::make_shared<SnapshotLedger>())
      : ledger_(std::move(ledger)) {}
  ~TestSnapshotFiles() override { release_reads(); }

  // The file this node sends for (partition, meta.index).
  void put(PartitionId partition, raft::Index index, std::string data) {
    std::lock_guard lock(mu_);
    files_[{partition, index}] = std::make_shared<const std::string>(std::move(data));
  }
  // receive() refuses every snapshot.
  void refuse_receive() { set([&] { refuse_ = true; }); }
  // Every commit() fails.
  void fail_commit() { set([&] { fail_commit_ = true; }); }
  // A reader fails once it has read `bytes` of its file.
  void fail_reads_at(std::uint64_t bytes) { set([&] { fail_at_ = bytes; }); }
  // A reader that has read `bytes` of its file waits in its next read() until
  // release_reads().
  void hold_reads_at(std::uint64_t bytes) { set([&] { hold_at_ = bytes; }); }
  bool await_read_held() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return held_; });
  }
  void release_reads() { set([&] { hold_at_.reset(); }); }

  // A committed file of (partition, index), if any.
  std::optional<std::string> committed(PartitionId partition, raft::Index index) const {
    std::lock_guard lock(mu_);
    auto it = committed_.find({partition, index});
    if (it == committed_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t commits() const { return get([&] { return committed_.size(); }); }
  // Writers destroyed without a successful commit.
  std::size_t discarded() const { return get([&] { return discarded_; }); }
  // Writers not yet destroyed.
  std::size_t writers_open() const { return get([&] { return writers_open_; }); }
  // Readers not yet destroyed.
  std::size_t readers_open() const { return get([&] { return readers_open_; }); }
  // The size receive() was last told.
  std::uint64_t announced() const { return get([&] { return announced_; }); }
  const SnapshotLedger& ledger() const { return *ledger_; }

  std::unique_ptr<SnapshotFileReader> open(std::uint64_t partition, const raft::SnapshotMeta& meta,
                                           std::string* why) override {
    std::lock_guard lock(mu_);
    auto it = files_.find({partition, meta.index});
    if (it == files_.end()) {
      *why = "no such snapshot";
      return nullptr;
    }
    ++readers_open_;
    return std::make_unique<Reader>(*this, it->second);
  }

  std::unique_ptr<SnapshotFileWriter> receive(std::uint64_t partition, const raft::SnapshotMeta& meta,
                                              std::uint64_t file_bytes, std::string* why) override {
    std::lock_guard lock(mu_);
    announced_ = file_bytes;
    if (refuse_) {
      *why = "refused by the test";
      return nullptr;
    }
    ++writers_open_;
    return std::make_unique<Writer>(*this, partition, meta.index, file_bytes);
  }

 private:
  class Reader final : public SnapshotFileReader {
   public:
    Reader(TestSnapshotFiles& files, std::shared_ptr<const std::string> data)
        : files_(files), data_(std::move(data)) {}
    ~Reader() override { files_.set([&] { --files_.readers_open_; }); }
    std::uint64_t size() const override { return data_->size(); }
    bool read(void* out, std::size_t size, std::size_t* got, std::string* why) override {
      {
        std::unique_lock lock(files_.mu_);
        if (files_.hold_at_ && offset_ >= *files_.hold_at_) {
          files_.held_ = true;
          files_.changed_.notify_all();
          files_.changed_.wait_for(lock, std::chrono::seconds(60), [&] { return !files_.hold_at_; });
        }
        if (files_.fail_at_ && offset_ >= *files_.fail_at_) {
          *why = "read error injected by the test";
          return false;
        }
      }
      *got = std::min(size, data_->size() - offset_);
      std::memcpy(out, data_->data() + offset_, *got);
      offset_ += *got;
      files_.ledger_->add_read(*got);
      return true;
    }

   private:
    TestSnapshotFiles& files_;
    std::shared_ptr<const std::string> data_;
    std::size_t offset_ = 0;
  };

  class Writer final : public SnapshotFileWriter {
   public:
    Writer(TestSnapshotFiles& files, PartitionId partition, raft::Index index, std::uint64_t size)
        : files_(files), key_(partition, index), size_(size) {}
    ~Writer() override {
      files_.set([&] {
        --files_.writers_open_;
        if (!committed_) ++files_.discarded_;
      });
    }
    bool write(const void* data, std::size_t size, std::string*) override {
      data_.append(static_cast<const char*>(data), size);
      files_.ledger_->written += size;
      return true;
    }
    bool commit(std::string* why) override {
      std::lock_guard lock(files_.mu_);
      if (files_.fail_commit_ || data_.size() != size_) {
        *why = "commit failed";
        return false;
      }
      files_.committed_[key_] = std::move(data_);
      committed_ = true;
      return true;
    }

   private:
    TestSnapshotFiles& files_;
    std::pair<PartitionId, raft::Index> key_;
    std::uint64_t size_;
    std::string data_;
    bool committed_ = false;
  };

  template <typename Change>
  void set(Change&& change) {
    std::lock_guard lock(mu_);
    change();
    changed_.notify_all();
  }
  template <typename Read>
  auto get(Read&& read) const -> decltype(read()) {
    std::lock_guard lock(mu_);
    return read();
  }

  const std::shared_ptr<SnapshotLedger> ledger_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::pair<PartitionId, raft::Index>, std::shared_ptr<const std::string>> files_;
  std::map<std::pair<PartitionId, raft::Index>, std::string> committed_;
  bool refuse_ = false;
  bool fail_commit_ = false;
  std::optional<std::uint64_t> fail_at_;
  std::optional<std::uint64_t> hold_at_;
  bool held_ = false;
  std::size_t discarded_ = 0;
  std::size_t writers_open_ = 0;
  std::size_t readers_open_ = 0;
  std::uint64_t announced_ = 0;
};

// Gives `files` a file of `size` patterned bytes for `snapshot` (from install_snapshot());
// returns its content.
inline std::string put_snapshot(TestSnapshotFiles& files, const Envelope& snapshot,
                                std::size_t size) {
  std::string data = patterned(size, snapshot.message.snapshot->meta.index);
  files.put(snapshot.partition, snapshot.message.snapshot->meta.index, data);
  return data;
}

}  // namespace synod::transport::testing
