// The memory medium: a file is a string; a committed one is immutable and shared, so a
// source keeps reading it after remove_older() drops it from the catalogue.
#include <cstring>

#include "snapshot_file_format.h"
#include "snapshot_store_core.h"

namespace synod::storage {
namespace {

using snapshot_core::FileReader;
using snapshot_core::PendingFile;
using snapshot_core::StoredFile;

class MemoryReader final : public FileReader {
 public:
  explicit MemoryReader(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}

  StorageStatus read(void* out, std::size_t size, std::size_t* got) override {
    *got = std::min(size, bytes_->size() - at_);
    std::memcpy(out, bytes_->data() + at_, *got);
    at_ += *got;
    return {};
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  std::size_t at_ = 0;
};

class MemoryFile final : public StoredFile {
 public:
  MemoryFile(std::string name, std::shared_ptr<const std::string> bytes)
      : StoredFile(std::move(name)), bytes_(std::move(bytes)) {}

  StorageStatus open(std::unique_ptr<FileReader>* out) const override {
    *out = std::make_unique<MemoryReader>(bytes_);
    return {};
  }
  // The bytes go when the last reader lets them go.
  StorageStatus remove() override { return {}; }

 private:
  std::shared_ptr<const std::string> bytes_;
};

class MemoryPendingFile final : public PendingFile {
 public:
  StorageStatus append(const void* data, std::size_t size) override {
    bytes_.append(static_cast<const char*>(data), size);
    return {};
  }
  StorageStatus overwrite_start(const std::string& bytes) override {
    bytes_.replace(0, bytes.size(), bytes);
    return {};
  }
  StorageStatus publish(const SnapshotInfo& info, std::shared_ptr<StoredFile>* out) override {
    *out = std::make_shared<MemoryFile>(snapshot_file::file_name(info.meta),
                                        std::make_shared<const std::string>(std::move(bytes_)));
    return {};
  }

 private:
  std::string bytes_;
};

class MemoryMedium final : public snapshot_core::Medium {
 public:
  StorageStatus begin(PartitionId, std::unique_ptr<PendingFile>* out) override {
    *out = std::make_unique<MemoryPendingFile>();
    return {};
  }
  void partition_removed(PartitionId) override {}
};

}  // namespace

std::unique_ptr<SnapshotStore> make_memory_snapshot_store() {
  return snapshot_core::make_store(std::make_unique<MemoryMedium>(), {});
}

}  // namespace synod::storage
