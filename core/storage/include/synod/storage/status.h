// The result of a storage operation: a code plus a message meant for people.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace synod::storage {

enum class StorageCode : std::uint8_t {
  Ok = 0,
  // The named partition or record does not exist.
  NotFound,
  // Stored data failed its checksum or does not decode.
  Corruption,
  // The operating system refused a read, write or sync.
  IoError,
  // The request breaks the store's rules; nothing was changed.
  InvalidArgument,
  // The data directory is held by another store (in this or another process).
  Locked,
  // The store cannot do this, for example open data in an unknown or newer format.
  Unsupported,
};
const char* to_string(StorageCode code);

class [[nodiscard]] StorageStatus {
 public:
  // Ok.
  StorageStatus() = default;
  StorageStatus(StorageCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static StorageStatus not_found(std::string message) {
    return {StorageCode::NotFound, std::move(message)};
  }
  static StorageStatus corruption(std::string message) {
    return {StorageCode::Corruption, std::move(message)};
  }
  static StorageStatus io_error(std::string message) {
    return {StorageCode::IoError, std::move(message)};
  }
  static StorageStatus invalid_argument(std::string message) {
    return {StorageCode::InvalidArgument, std::move(message)};
  }
  static StorageStatus locked(std::string message) {
    return {StorageCode::Locked, std::move(message)};
  }
  static StorageStatus unsupported(std::string message) {
    return {StorageCode::Unsupported, std::move(message)};
  }

  bool ok() const { return code_ == StorageCode::Ok; }
  StorageCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Ok", or "<code>: <message>".
  std::string to_string() const;

 private:
  StorageCode code_ = StorageCode::Ok;
  std::string message_;
};

}  // namespace synod::storage
