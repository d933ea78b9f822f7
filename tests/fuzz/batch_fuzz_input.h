// What batch_decode_fuzzer and its seed corpus writer share: the secret and the clock of
// the authenticator that checks frames, so that seed frames verify and their mutations
// reach the refusals; and snapshot files in memory, for the chunks of real transfers.
//
// An input is the bytes of one protobuf message, read both as a wire Batch and as a Frame
// (whose batch bytes are then read as a Batch too).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "batch_authenticator.h"
#include "synod/transport/snapshot_files.h"

namespace synod::transport::fuzz {

inline constexpr std::string_view kSecret = "synod fuzzing secret, 32 bytes..";
// The fixed wall clock of every run, in ms since the epoch (2023-11-14).
inline constexpr std::int64_t kNowMs = 1'700'000'000'000;

// A fresh authenticator per input keeps runs independent of one another.
inline BatchAuthenticator make_authenticator() {
  return BatchAuthenticator(kSecret, std::chrono::seconds(30), 64, [] { return kNowMs; });
}

// One snapshot file in memory: what open() reads, and what a writer wrote and committed.
class MemoryFiles final : public SnapshotFiles {
 public:
  std::string file;
  std::string received;
  bool committed = false;

  std::unique_ptr<SnapshotFileReader> open(std::uint64_t, const raft::SnapshotMeta&,
                                           std::string*) override {
    return std::make_unique<Reader>(file);
  }
  std::unique_ptr<SnapshotFileWriter> receive(std::uint64_t, const raft::SnapshotMeta&,
                                              std::uint64_t, std::string*) override {
    received.clear();
    return std::make_unique<Writer>(*this);
  }

 private:
  class Reader final : public SnapshotFileReader {
   public:
    explicit Reader(const std::string& data) : data_(data) {}
    std::uint64_t size() const override { return data_.size(); }
    bool read(void* out, std::size_t size, std::size_t* got, std::string*) override {
      *got = data_.copy(static_cast<char*>(out), size, offset_);
      offset_ += *got;
      return true;
    }

   private:
    const std::string& data_;
    std::size_t offset_ = 0;
  };
  class Writer final : public SnapshotFileWriter {
   public:
    explicit Writer(MemoryFiles& files) : files_(files) {}
    bool write(const void* data, std::size_t size, std::string*) override {
      files_.received.append(static_cast<const char*>(data), size);
      return true;
    }
    bool commit(std::string*) override {
      files_.committed = true;
      return true;
    }

   private:
    MemoryFiles& files_;
  };
};

}  // namespace synod::transport::fuzz
