#include "data_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace synod::storage {
namespace {

constexpr const char* kLockFile = "synod.lock";
constexpr const char* kFormatFile = "synod.format";
constexpr const char* kFormatMagic = "synod-log-store";

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

StorageStatus fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return StorageStatus::io_error(errno_text("cannot open", path));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return StorageStatus::io_error(errno_text("cannot sync", path));
  return {};
}

// Writes the format file atomically: a temporary file, synced, renamed, then the
// directory synced, so a crash leaves either no format file or a whole one.
StorageStatus write_format(const std::string& dir, const std::string& text) {
  const std::string final_path = dir + "/" + kFormatFile;
  const std::string tmp_path = final_path + ".tmp";
  {
    std::ofstream out(tmp_path, std::ios::trunc);
    out << text;
    out.close();
    if (!out) return StorageStatus::io_error("cannot write " + tmp_path);
  }
  if (auto st = fsync_path(tmp_path, O_RDONLY); !st.ok()) return st;
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    return StorageStatus::io_error(errno_text("cannot rename", tmp_path));
  }
  return sync_directory(dir);
}

StorageStatus check_format(const std::string& dir, const std::string& engine, int version) {
  const std::string path = dir + "/" + kFormatFile;
  std::ifstream in(path);
  if (!in) {
    std::ostringstream text;
    text << kFormatMagic << ' ' << engine << ' ' << version << '\n';
    return write_format(dir, text.str());
  }
  std::string magic, stored_engine;
  int stored_version = 0;
  if (!(in >> magic >> stored_engine >> stored_version) || magic != kFormatMagic) {
    return StorageStatus::corruption(path + " is not a Synod format file");
  }
  if (stored_engine != engine) {
    return StorageStatus::unsupported(dir + " holds a " + stored_engine + " log store, not a " +
                                      engine + " one");
  }
  if (stored_version > version) {
    return StorageStatus::unsupported(
        dir + " holds format version " + std::to_string(stored_version) + " of the " + engine +
        " log store; this build reads versions up to " + std::to_string(version));
  }
  if (stored_version < 1) {
    return StorageStatus::corruption(path + " names an invalid format version " +
                                     std::to_string(stored_version));
  }
  return {};
}

}  // namespace

StorageStatus sync_directory(const std::string& path) {
  return fsync_path(path, O_RDONLY | O_DIRECTORY);
}

DataDirectory::~DataDirectory() { release(); }

DataDirectory::DataDirectory(DataDirectory&& other) noexcept
    : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
  other.lock_fd_ = -1;
}

DataDirectory& DataDirectory::operator=(DataDirectory&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    lock_fd_ = other.lock_fd_;
    other.lock_fd_ = -1;
  }
  return *this;
}

void DataDirectory::release() {
  if (lock_fd_ >= 0) {
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

StorageStatus DataDirectory::open(const std::string& path, const std::string& engine, int version,
                                  DataDirectory& out) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return StorageStatus::io_error("cannot create " + path + ": " + ec.message());
  if (!std::filesystem::is_directory(path, ec)) {
    return StorageStatus::invalid_argument(path + " is not a directory");
  }

  const std::string lock_path = path + "/" + kLockFile;
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return StorageStatus::io_error(errno_text("cannot open", lock_path));
  // flock locks belong to the open file description, so a second open in this same
  // process is refused too, not only one in another process.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int saved = errno;
    char owner[32] = {};
    const ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
    ::close(fd);
    if (saved == EWOULDBLOCK) {
      std::string holder = n > 0 ? std::string(owner, static_cast<std::size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
      return StorageStatus::locked("data directory " + path + " is in use by another store" +
                                   (holder.empty() ? "" : " (process " + holder + ")"));
    }
    errno = saved;
    return StorageStatus::io_error(errno_text("cannot lock", lock_path));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    ::close(fd);
    return StorageStatus::io_error(errno_text("cannot write", lock_path));
  }

  DataDirectory dir;
  dir.path_ = path;
  dir.lock_fd_ = fd;
  if (auto st = check_format(path, engine, version); !st.ok()) return st;
  out = std::move(dir);
  return {};
}

}  // namespace synod::storage
