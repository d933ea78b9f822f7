// The disk medium: directory/<partition>/snap-<index>-<term>.snap, written as
// tmp-<n>.snap beside it, synced, renamed into place, and the directory synced. The
// directory is held with a DataDirectory lock, so a second store cannot share it (and
// delete its temporary files).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "data_directory.h"
#include "snapshot_file_format.h"
#include "snapshot_store_core.h"

namespace synod::storage {
namespace {

namespace fs = std::filesystem;
using snapshot_core::FileReader;
using snapshot_core::PendingFile;
using snapshot_core::StoredFile;

constexpr const char* kEngine = "snapshots";
constexpr int kLayoutVersion = 1;
constexpr std::string_view kTempPrefix = "tmp-";
// Small host writes are gathered into writes of this size.
constexpr std::size_t kWriteBuffer = 256 * 1024;

StorageStatus os_error(const std::string& what, const std::string& path) {
  return StorageStatus::io_error(what + " " + path + ": " + std::strerror(errno));
}

StorageStatus write_at(int fd, std::uint64_t offset, const char* data, std::size_t size,
                       const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write", path);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

class DiskReader final : public FileReader {
 public:
  DiskReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~DiskReader() override { ::close(fd_); }

  StorageStatus read(void* out, std::size_t size, std::size_t* got) override {
    for (;;) {
      const ssize_t n = ::read(fd_, out, size);
      if (n >= 0) {
        *got = static_cast<std::size_t>(n);
        return {};
      }
      if (errno != EINTR) return os_error("cannot read", path_);
    }
  }

 private:
  int fd_;
  std::string path_;
};

class DiskFile final : public StoredFile {
 public:
  explicit DiskFile(std::string path) : StoredFile(path), path_(std::move(path)) {}

  StorageStatus open(std::unique_ptr<FileReader>* out) const override {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return StorageStatus::not_found(path_ + " is gone");
      return os_error("cannot open", path_);
    }
    *out = std::make_unique<DiskReader>(fd, path_);
    return {};
  }

  // An open reader keeps its descriptor, so the file stays readable until it closes.
  StorageStatus remove() override {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return os_error("cannot delete", path_);
    return {};
  }

 private:
  std::string path_;
};

class DiskPendingFile final : public PendingFile {
 public:
  DiskPendingFile(std::string dir, std::string temp_path, int fd)
      : dir_(std::move(dir)), temp_path_(std::move(temp_path)), fd_(fd) {
    buffer_.reserve(kWriteBuffer);
  }
  ~DiskPendingFile() override {
    if (fd_ >= 0) ::close(fd_);
    if (!published_) ::unlink(temp_path_.c_str());
  }

  StorageStatus append(const void* data, std::size_t size) override {
    const auto* p = static_cast<const char*>(data);
    if (buffer_.size() + size > kWriteBuffer) {
      if (auto st = flush(); !st.ok()) return st;
      if (size >= kWriteBuffer) {
        if (auto st = write_at(fd_, written_, p, size, temp_path_); !st.ok()) return st;
        written_ += size;
        return {};
      }
    }
    buffer_.append(p, size);
    return {};
  }

  StorageStatus overwrite_start(const std::string& bytes) override {
    if (auto st = flush(); !st.ok()) return st;
    return write_at(fd_, 0, bytes.data(), bytes.size(), temp_path_);
  }

  StorageStatus publish(const SnapshotInfo& info, std::shared_ptr<StoredFile>* out) override {
    if (auto st = flush(); !st.ok()) return st;
    if (::fsync(fd_) != 0) return os_error("cannot sync", temp_path_);
    ::close(fd_);
    fd_ = -1;
    const std::string path = dir_ + "/" + snapshot_file::file_name(info.meta);
    if (::rename(temp_path_.c_str(), path.c_str()) != 0) {
      return os_error("cannot rename " + temp_path_ + " to", path);
    }
    published_ = true;
    if (auto st = sync_directory(dir_); !st.ok()) return st;
    *out = std::make_shared<DiskFile>(path);
    return {};
  }

 private:
  StorageStatus flush() {
    if (auto st = write_at(fd_, written_, buffer_.data(), buffer_.size(), temp_path_); !st.ok()) {
      return st;
    }
    written_ += buffer_.size();
    buffer_.clear();
    return {};
  }

  std::string dir_;
  std::string temp_path_;
  int fd_;
  std::string buffer_;
  std::uint64_t written_ = 0;
  bool published_ = false;
};

class DiskMedium final : public snapshot_core::Medium {
 public:
  explicit DiskMedium(DataDirectory root) : root_(std::move(root)) {}

  std::string partition_dir(PartitionId partition) const {
    return root_.path() + "/" + std::to_string(partition);
  }

  StorageStatus begin(PartitionId partition, std::unique_ptr<PendingFile>* out) override {
    const std::string dir = partition_dir(partition);
    // Held so that partition_removed() does not remove the directory in between.
    std::lock_guard lock(dirs_mu_);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (auto st = sync_directory(root_.path()); !st.ok()) return st;
    } else if (errno != EEXIST) {
      return os_error("cannot create", dir);
    }
    const std::string temp_path =
        dir + "/" + std::string(kTempPrefix) + std::to_string(next_temp_.fetch_add(1)) + ".snap";
    const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return os_error("cannot create", temp_path);
    *out = std::make_unique<DiskPendingFile>(dir, temp_path, fd);
    return {};
  }

  // The directory goes once empty; one holding a file being written stays.
  void partition_removed(PartitionId partition) override {
    std::lock_guard lock(dirs_mu_);
    if (::rmdir(partition_dir(partition).c_str()) == 0) (void)sync_directory(root_.path());
  }

  // Deletes temporary files and lists the committed snapshots. A file whose header does
  // not check out, or does not match its name and directory, is left alone and not listed:
  // it is no snapshot this store can serve.
  StorageStatus scan(std::vector<snapshot_core::Committed>* out) {
    try {
      return scan_directories(out);
    } catch (const fs::filesystem_error& e) {
      return StorageStatus::io_error(std::string("cannot list snapshots: ") + e.what());
    }
  }

 private:
  StorageStatus scan_directories(std::vector<snapshot_core::Committed>* out) {
    std::error_code ec;
    for (const auto& part : fs::directory_iterator(root_.path(), ec)) {
      const std::string part_name = part.path().filename().string();
      PartitionId partition = 0;
      const auto [end, err] =
          std::from_chars(part_name.data(), part_name.data() + part_name.size(), partition);
      if (err != std::errc() || end != part_name.data() + part_name.size() ||
          !part.is_directory() || part_name != std::to_string(partition)) {
        continue;
      }
      bool removed = false;
      for (const auto& file : fs::directory_iterator(part.path(), ec)) {
        const std::string name = file.path().filename().string();
        raft::Index index = 0;
        raft::Term term = 0;
        if (name.rfind(kTempPrefix, 0) == 0) {
          if (::unlink(file.path().c_str()) != 0) return os_error("cannot delete", file.path());
          removed = true;
        } else if (snapshot_file::parse_file_name(name, index, term)) {
          auto stored = std::make_shared<DiskFile>(file.path().string());
          SnapshotInfo info;
          if (snapshot_core::read_header(*stored, &info).ok() && info.partition == partition &&
              info.meta.index == index && info.meta.term == term) {
            out->push_back({info, std::move(stored)});
          }
        }
      }
      if (ec)
        return StorageStatus::io_error("cannot list " + part.path().string() + ": " + ec.message());
      if (removed) {
        if (auto st = sync_directory(part.path().string()); !st.ok()) return st;
      }
    }
    if (ec) return StorageStatus::io_error("cannot list " + root_.path() + ": " + ec.message());
    return {};
  }

  DataDirectory root_;
  std::mutex dirs_mu_;
  std::atomic<std::uint64_t> next_temp_{0};
};

}  // namespace

std::unique_ptr<SnapshotStore> open_disk_snapshot_store(const std::string& directory,
                                                        StorageStatus* status) {
  DataDirectory root;
  if (auto st = DataDirectory::open(directory, kEngine, kLayoutVersion, root); !st.ok()) {
    *status = std::move(st);
    return nullptr;
  }
  auto medium = std::make_unique<DiskMedium>(std::move(root));
  std::vector<snapshot_core::Committed> committed;
  if (auto st = medium->scan(&committed); !st.ok()) {
    *status = std::move(st);
    return nullptr;
  }
  *status = {};
  return snapshot_core::make_store(std::move(medium), std::move(committed));
}

}  // namespace synod::storage
