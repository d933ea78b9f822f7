// DataDirectory: the directory a durable store lives in, held exclusively while open.
//
// It holds two files of its own besides the engine's:
//   synod.lock    an exclusive flock(2) for the lifetime of the store, so a second store
//                 (in this or another process) gets Locked instead of sharing the files;
//   synod.format  "synod-log-store <engine> <version>", written once when the directory
//                 is first used; a different engine or a newer version is Unsupported.
#pragma once

#include <string>

#include "synod/storage/status.h"

namespace synod::storage {

class DataDirectory {
 public:
  DataDirectory() = default;
  ~DataDirectory();
  DataDirectory(DataDirectory&& other) noexcept;
  DataDirectory& operator=(DataDirectory&& other) noexcept;
  DataDirectory(const DataDirectory&) = delete;
  DataDirectory& operator=(const DataDirectory&) = delete;

  // Creates `path` when missing, takes the lock and checks or writes the format file.
  static StorageStatus open(const std::string& path, const std::string& engine, int version,
                            DataDirectory& out);

  const std::string& path() const { return path_; }

 private:
  void release();

  std::string path_;
  int lock_fd_ = -1;
};

// Syncs the directory `path`, making the creation, renaming and removal of its entries
// durable.
StorageStatus sync_directory(const std::string& path);

}  // namespace synod::storage
