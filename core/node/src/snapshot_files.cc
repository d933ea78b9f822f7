#include "snapshot_files.h"

namespace synod::node {
namespace {

class Reader final : public transport::SnapshotFileReader {
 public:
  explicit Reader(std::unique_ptr<storage::SnapshotSource> source) : source_(std::move(source)) {}
  std::uint64_t size() const override { return source_->info().file_bytes; }
  bool read(void* out, std::size_t size, std::size_t* got, std::string* why) override {
    const auto st = source_->read(out, size, got);
    if (!st.ok() && why) *why = st.to_string();
    return st.ok();
  }

 private:
  const std::unique_ptr<storage::SnapshotSource> source_;
};

class Writer final : public transport::SnapshotFileWriter {
 public:
  Writer(std::unique_ptr<storage::SnapshotSink> sink, std::uint64_t partition,
         const raft::SnapshotMeta& meta)
      : sink_(std::move(sink)), partition_(partition), meta_(meta) {}
  bool write(const void* data, std::size_t size, std::string* why) override {
    const auto st = sink_->write(data, size);
    if (!st.ok() && why) *why = st.to_string();
    return st.ok();
  }
  bool commit(std::string* why) override {
    storage::SnapshotInfo info;
    if (const auto st = sink_->commit(&info); !st.ok()) {
      if (why) *why = st.to_string();
      return false;
    }
    // The file checked out but names another snapshot than the message announcing it.
    if (info.partition != partition_ || info.meta != meta_) {
      if (why) *why = "the snapshot file does not match the message that announced it";
      return false;
    }
    return true;
  }

 private:
  const std::unique_ptr<storage::SnapshotSink> sink_;
  const std::uint64_t partition_;
  const raft::SnapshotMeta meta_;
};

}  // namespace

std::unique_ptr<transport::SnapshotFileReader> StoreSnapshotFiles::open(
    std::uint64_t partition, const raft::SnapshotMeta& meta, std::string* why) {
  std::unique_ptr<storage::SnapshotSource> source;
  if (const auto st = store_.open_file(partition, meta.index, &source); !st.ok()) {
    if (why) *why = st.to_string();
    return nullptr;
  }
  if (source->info().meta != meta) {
    if (why) *why = "the snapshot file at index " + std::to_string(meta.index) +
                    " holds another snapshot than the one Raft sends";
    return nullptr;
  }
  return std::make_unique<Reader>(std::move(source));
}

std::unique_ptr<transport::SnapshotFileWriter> StoreSnapshotFiles::receive(
    std::uint64_t partition, const raft::SnapshotMeta& meta, std::uint64_t file_bytes,
    std::string* why) {
  std::unique_ptr<storage::SnapshotSink> sink;
  // A file longer than announced is refused as it arrives.
  if (const auto st = store_.receive(partition, file_bytes, &sink); !st.ok()) {
    if (why) *why = st.to_string();
    return nullptr;
  }
  return std::make_unique<Writer>(std::move(sink), partition, meta);
}

}  // namespace synod::node
