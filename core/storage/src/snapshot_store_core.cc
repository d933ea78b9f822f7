#include "snapshot_store_core.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "crc32c.h"
#include "snapshot_file_format.h"

namespace synod::storage::snapshot_core {
namespace {

constexpr std::size_t kScratchBytes = 64 * 1024;

std::string snapshot_text(PartitionId partition, raft::Index index) {
  return "snapshot of partition " + std::to_string(partition) + " at index " +
         std::to_string(index);
}

// Prefixes a failure's message with what it concerns.
StorageStatus about(const std::string& what, StorageStatus status) {
  if (status.ok()) return status;
  return {status.code(), what + ": " + status.message()};
}

// The committed snapshots of every partition, shared by the store and its sinks (a sink
// may outlive the store's other users, never the catalogue).
class Catalogue {
 public:
  // Records `c`; a snapshot it replaces at the same index is deleted, unless it was the
  // same file (written again under the same name).
  StorageStatus add(Committed c) {
    std::shared_ptr<StoredFile> replaced;
    {
      std::lock_guard lock(mu_);
      Committed& slot = partitions_[c.info.partition][c.info.meta.index];
      if (slot.file && slot.file->name() != c.file->name()) replaced = std::move(slot.file);
      slot = std::move(c);
    }
    return replaced ? replaced->remove() : StorageStatus();
  }

  std::optional<Committed> find(PartitionId partition, raft::Index index) const {
    std::lock_guard lock(mu_);
    auto p = partitions_.find(partition);
    if (p == partitions_.end()) return std::nullopt;
    auto s = p->second.find(index);
    if (s == p->second.end()) return std::nullopt;
    return s->second;
  }

  std::optional<SnapshotInfo> latest(PartitionId partition) const {
    std::lock_guard lock(mu_);
    auto p = partitions_.find(partition);
    if (p == partitions_.end() || p->second.empty()) return std::nullopt;
    return p->second.rbegin()->second.info;
  }

  std::vector<SnapshotInfo> list(PartitionId partition) const {
    std::vector<SnapshotInfo> out;
    std::lock_guard lock(mu_);
    auto p = partitions_.find(partition);
    if (p == partitions_.end()) return out;
    for (const auto& [index, c] : p->second) out.push_back(c.info);
    return out;
  }

  // Takes the snapshots of `partition` below `index` out of the catalogue.
  std::vector<Committed> take_below(PartitionId partition, raft::Index index) {
    std::vector<Committed> out;
    std::lock_guard lock(mu_);
    auto p = partitions_.find(partition);
    if (p == partitions_.end()) return out;
    auto end = p->second.lower_bound(index);
    for (auto it = p->second.begin(); it != end; ++it) out.push_back(std::move(it->second));
    p->second.erase(p->second.begin(), end);
    if (p->second.empty()) partitions_.erase(p);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<PartitionId, std::map<raft::Index, Committed>> partitions_;
};

// Deletes the files of `removed`; the first failure is returned, after trying them all.
StorageStatus remove_all(std::vector<Committed> removed) {
  StorageStatus first;
  for (auto& c : removed) {
    StorageStatus st = about(snapshot_text(c.info.partition, c.info.meta.index), c.file->remove());
    if (first.ok() && !st.ok()) first = std::move(st);
  }
  return first;
}

// What both sinks share: the file, the catalogue, and a failure that sticks.
class SinkBase : public SnapshotSink {
 protected:
  SinkBase(std::shared_ptr<Catalogue> catalogue, std::unique_ptr<PendingFile> file)
      : catalogue_(std::move(catalogue)), file_(std::move(file)) {}

  // Remembers a failure and deletes what was written.
  StorageStatus fail(StorageStatus status) {
    failed_ = std::move(status);
    file_.reset();
    return failed_;
  }

  StorageStatus append(const void* data, std::size_t size) {
    if (auto st = file_->append(data, size); !st.ok()) return fail(std::move(st));
    return {};
  }

  StorageStatus publish(const SnapshotInfo& info, SnapshotInfo* out) {
    Committed c{info, nullptr};
    if (auto st = file_->publish(info, &c.file); !st.ok()) return fail(std::move(st));
    file_.reset();
    failed_ = StorageStatus::invalid_argument("the snapshot is already committed");
    if (out) *out = info;
    return catalogue_->add(std::move(c));
  }

  std::shared_ptr<Catalogue> catalogue_;
  std::unique_ptr<PendingFile> file_;
  StorageStatus failed_;
};

// The host's data of a new snapshot: the header is reserved first and written with the
// data size at commit; the trailer's checksum is combined from the header's and the data's.
class CreateSink final : public SinkBase {
 public:
  CreateSink(std::shared_ptr<Catalogue> catalogue, std::unique_ptr<PendingFile> file,
             PartitionId partition, raft::SnapshotMeta meta)
      : SinkBase(std::move(catalogue), std::move(file)),
        partition_(partition),
        meta_(std::move(meta)) {}

  StorageStatus start() {
    const std::string header = snapshot_file::encode_header(partition_, meta_, 0);
    return append(header.data(), header.size());
  }

  StorageStatus write(const void* data, std::size_t size) override {
    if (!failed_.ok()) return failed_;
    if (auto st = append(data, size); !st.ok()) return st;
    data_crc_ = crc32c_extend(data_crc_, data, size);
    data_bytes_ += size;
    return {};
  }

  StorageStatus commit(SnapshotInfo* info) override {
    if (!failed_.ok()) return failed_;
    const std::string header = snapshot_file::encode_header(partition_, meta_, data_bytes_);
    const std::string trailer =
        snapshot_file::encode_trailer(snapshot_file::file_checksum(header, data_crc_, data_bytes_));
    if (auto st = file_->overwrite_start(header); !st.ok()) return fail(std::move(st));
    if (auto st = append(trailer.data(), trailer.size()); !st.ok()) return st;
    SnapshotInfo out{partition_, meta_, data_bytes_, header.size() + data_bytes_ + trailer.size()};
    return publish(out, info);
  }

 private:
  PartitionId partition_;
  raft::SnapshotMeta meta_;
  std::uint32_t data_crc_ = 0;
  std::uint64_t data_bytes_ = 0;
};

// A whole file from another node, checked as it arrives.
class ReceiveSink final : public SinkBase {
 public:
  ReceiveSink(std::shared_ptr<Catalogue> catalogue, std::unique_ptr<PendingFile> file,
              PartitionId partition, std::uint64_t max_file_bytes)
      : SinkBase(std::move(catalogue), std::move(file)),
        partition_(partition),
        max_file_bytes_(max_file_bytes) {}

  StorageStatus write(const void* data, std::size_t size) override {
    if (!failed_.ok()) return failed_;
    const bool had_header = checker_.header().has_value();
    if (auto st = checker_.feed(data, size); !st.ok()) return fail(about("received", st));
    if (!had_header && checker_.header()) {
      if (auto st = check(*checker_.header()); !st.ok()) return fail(std::move(st));
    }
    return append(data, size);
  }

  StorageStatus commit(SnapshotInfo* info) override {
    if (!failed_.ok()) return failed_;
    if (auto st = checker_.finish(); !st.ok()) return fail(about("received", st));
    return publish(*checker_.header(), info);
  }

 private:
  // Refuses, as soon as the header arrives, a file this sink must not take.
  StorageStatus check(const SnapshotInfo& h) const {
    const std::string what = "received " + snapshot_text(h.partition, h.meta.index);
    if (h.partition != partition_) {
      return StorageStatus::invalid_argument(what + " is not of partition " +
                                             std::to_string(partition_));
    }
    if (h.file_bytes > max_file_bytes_) {
      return StorageStatus::invalid_argument(what + " has " + std::to_string(h.file_bytes) +
                                             " bytes, more than the limit of " +
                                             std::to_string(max_file_bytes_));
    }
    return {};
  }

  PartitionId partition_;
  std::uint64_t max_file_bytes_;
  snapshot_file::FileChecker checker_;
};

// Reads a committed file through a FileChecker and yields the bytes at [begin, end): the
// whole file, or only the data. The bytes outside are read and checked all the same, so
// the end of the yielded range is reached only after the checksum is.
class CheckedSource final : public SnapshotSource {
 public:
  CheckedSource(SnapshotInfo info, std::unique_ptr<FileReader> reader, bool data_only)
      : info_(std::move(info)), reader_(std::move(reader)) {
    if (data_only) {
      begin_ = info_.file_bytes - info_.data_bytes - snapshot_file::kTrailerBytes;
      end_ = begin_ + info_.data_bytes;
    }
  }

  const SnapshotInfo& info() const override { return info_; }

  StorageStatus read(void* out, std::size_t size, std::size_t* got) override {
    *got = 0;
    if (!failed_.ok()) return failed_;
    while (!finished_ && size > 0) {
      const std::uint64_t at = checker_.fed();
      if (at >= begin_ && at < end_) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size, end_ - at));
        if (auto st = take(out, want, got); !st.ok() || *got > 0) return st;
        continue;  // the file ended early: take() has concluded
      }
      scratch_.resize(kScratchBytes);
      const std::size_t want = static_cast<std::size_t>(
          at < begin_ ? std::min<std::uint64_t>(scratch_.size(), begin_ - at) : scratch_.size());
      std::size_t n = 0;
      if (auto st = take(scratch_.data(), want, &n); !st.ok()) return st;
    }
    return failed_;
  }

 private:
  // Reads up to `size` bytes and checks them; at the end of the file, checks the file.
  StorageStatus take(void* out, std::size_t size, std::size_t* got) {
    if (auto st = reader_->read(out, size, got); !st.ok()) return fail(std::move(st));
    if (*got == 0) {
      finished_ = true;
      return fail(checker_.finish());
    }
    const bool had_header = checker_.header().has_value();
    if (auto st = checker_.feed(out, *got); !st.ok()) return fail(std::move(st));
    if (!had_header && checker_.header()) {
      const SnapshotInfo& h = *checker_.header();
      if (h.partition != info_.partition || h.meta != info_.meta ||
          h.data_bytes != info_.data_bytes) {
        return fail(StorageStatus::corruption("the file holds another snapshot"));
      }
    }
    return {};
  }

  StorageStatus fail(StorageStatus status) {
    if (!status.ok()) {
      failed_ = about(snapshot_text(info_.partition, info_.meta.index), std::move(status));
      scratch_ = {};
    }
    return failed_;
  }

  SnapshotInfo info_;
  std::unique_ptr<FileReader> reader_;
  std::uint64_t begin_ = 0;
  std::uint64_t end_ = UINT64_MAX;
  snapshot_file::FileChecker checker_;
  std::vector<char> scratch_;
  bool finished_ = false;
  StorageStatus failed_;
};

class Store final : public SnapshotStore {
 public:
  explicit Store(std::unique_ptr<Medium> medium)
      : medium_(std::move(medium)), catalogue_(std::make_shared<Catalogue>()) {}

  Catalogue& catalogue() { return *catalogue_; }

  StorageStatus create(PartitionId partition, const raft::SnapshotMeta& meta,
                       std::unique_ptr<SnapshotSink>* out) override {
    const std::string what = "new " + snapshot_text(partition, meta.index);
    if (meta.index == 0 || meta.term == 0) {
      return StorageStatus::invalid_argument(what + ": a snapshot needs an index and a term");
    }
    if (snapshot_file::encode_header(partition, meta, 0).size() > snapshot_file::kMaxHeaderBytes) {
      return StorageStatus::invalid_argument(what + ": the configuration is too large");
    }
    std::unique_ptr<PendingFile> file;
    if (auto st = medium_->begin(partition, &file); !st.ok()) return about(what, st);
    auto sink = std::make_unique<CreateSink>(catalogue_, std::move(file), partition, meta);
    if (auto st = sink->start(); !st.ok()) return about(what, st);
    *out = std::move(sink);
    return {};
  }

  StorageStatus receive(PartitionId partition, std::uint64_t max_file_bytes,
                        std::unique_ptr<SnapshotSink>* out) override {
    std::unique_ptr<PendingFile> file;
    if (auto st = medium_->begin(partition, &file); !st.ok()) {
      return about("receiving a snapshot of partition " + std::to_string(partition), st);
    }
    *out = std::make_unique<ReceiveSink>(catalogue_, std::move(file), partition, max_file_bytes);
    return {};
  }

  StorageStatus open_data(PartitionId partition, raft::Index index,
                          std::unique_ptr<SnapshotSource>* out) override {
    return open(partition, index, true, out);
  }

  StorageStatus open_file(PartitionId partition, raft::Index index,
                          std::unique_ptr<SnapshotSource>* out) override {
    return open(partition, index, false, out);
  }

  StorageStatus verify(PartitionId partition, raft::Index index) override {
    std::unique_ptr<SnapshotSource> source;
    if (auto st = open(partition, index, false, &source); !st.ok()) return st;
    std::vector<char> buffer(kScratchBytes);
    std::size_t got = 0;
    do {
      if (auto st = source->read(buffer.data(), buffer.size(), &got); !st.ok()) return st;
    } while (got > 0);
    return {};
  }

  std::optional<SnapshotInfo> latest(PartitionId partition) const override {
    return catalogue_->latest(partition);
  }

  std::vector<SnapshotInfo> list(PartitionId partition) const override {
    return catalogue_->list(partition);
  }

  StorageStatus remove_older(PartitionId partition, raft::Index index) override {
    return remove_all(catalogue_->take_below(partition, index));
  }

  StorageStatus remove_partition(PartitionId partition) override {
    StorageStatus st = remove_all(catalogue_->take_below(partition, UINT64_MAX));
    if (st.ok()) medium_->partition_removed(partition);
    return st;
  }

 private:
  StorageStatus open(PartitionId partition, raft::Index index, bool data_only,
                     std::unique_ptr<SnapshotSource>* out) {
    const std::optional<Committed> c = catalogue_->find(partition, index);
    if (!c) return StorageStatus::not_found("no " + snapshot_text(partition, index));
    std::unique_ptr<FileReader> reader;
    if (auto st = c->file->open(&reader); !st.ok()) {
      return about(snapshot_text(partition, index), st);
    }
    *out = std::make_unique<CheckedSource>(c->info, std::move(reader), data_only);
    return {};
  }

  std::unique_ptr<Medium> medium_;
  std::shared_ptr<Catalogue> catalogue_;
};

}  // namespace

StorageStatus read_header(const StoredFile& file, SnapshotInfo* info) {
  std::unique_ptr<FileReader> reader;
  if (auto st = file.open(&reader); !st.ok()) return st;
  snapshot_file::FileChecker checker;
  std::vector<char> buffer(4096);
  while (!checker.header()) {
    std::size_t got = 0;
    if (auto st = reader->read(buffer.data(), buffer.size(), &got); !st.ok()) return st;
    if (got == 0) return checker.finish();  // a file shorter than its header
    if (auto st = checker.feed(buffer.data(), got); !st.ok()) return st;
  }
  *info = *checker.header();
  return {};
}

std::unique_ptr<SnapshotStore> make_store(std::unique_ptr<Medium> medium,
                                          std::vector<Committed> committed) {
  auto store = std::make_unique<Store>(std::move(medium));
  for (auto& c : committed) {
    // Files found on open have distinct names, so nothing is replaced or removed.
    (void)store->catalogue().add(std::move(c));
  }
  return store;
}

}  // namespace synod::storage::snapshot_core
