// What every SnapshotStore shares: the catalogue of committed snapshots, the sinks that
// write and check files, and the sources that read and check them. A store differs only
// in its medium, where the bytes of a file live (files on disk, or memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "synod/storage/snapshot_store.h"

namespace synod::storage::snapshot_core {

// Reads one file front to back; `*got` is 0 at its end.
class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual StorageStatus read(void* out, std::size_t size, std::size_t* got) = 0;
};

// A committed file.
class StoredFile {
 public:
  explicit StoredFile(std::string name) : name_(std::move(name)) {}
  virtual ~StoredFile() = default;
  // Two committed files with the same name are one file: the later replaced the earlier.
  const std::string& name() const { return name_; }
  // NotFound once the file is gone.
  virtual StorageStatus open(std::unique_ptr<FileReader>* out) const = 0;
  // Deletes the file; readers already open keep reading it.
  virtual StorageStatus remove() = 0;

 private:
  std::string name_;
};

// A file being written under a temporary name. Destroying it unpublished deletes it.
class PendingFile {
 public:
  virtual ~PendingFile() = default;
  virtual StorageStatus append(const void* data, std::size_t size) = 0;
  // Overwrites the file's first bytes (the header, once the data size is known).
  virtual StorageStatus overwrite_start(const std::string& bytes) = 0;
  // Makes the file durable and puts it in place as `info`, replacing a file of that name.
  virtual StorageStatus publish(const SnapshotInfo& info, std::shared_ptr<StoredFile>* out) = 0;
};

class Medium {
 public:
  virtual ~Medium() = default;
  virtual StorageStatus begin(PartitionId partition, std::unique_ptr<PendingFile>* out) = 0;
  // Every committed file of `partition` has been removed.
  virtual void partition_removed(PartitionId partition) = 0;
};

// Reads a file's header: NotFound when the file is gone, Corruption (or Unsupported) when
// it is not a snapshot file.
StorageStatus read_header(const StoredFile& file, SnapshotInfo* info);

// A SnapshotStore over `medium`, holding the snapshots in `committed` (what a medium
// found when it opened; each with the file it is in).
struct Committed {
  SnapshotInfo info;
  std::shared_ptr<StoredFile> file;
};
std::unique_ptr<SnapshotStore> make_store(std::unique_ptr<Medium> medium,
                                          std::vector<Committed> committed);

}  // namespace synod::storage::snapshot_core
