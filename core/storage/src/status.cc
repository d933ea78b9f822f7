#include "synod/storage/status.h"

namespace synod::storage {

const char* to_string(StorageCode code) {
  switch (code) {
    case StorageCode::Ok:
      return "Ok";
    case StorageCode::NotFound:
      return "NotFound";
    case StorageCode::Corruption:
      return "Corruption";
    case StorageCode::IoError:
      return "IoError";
    case StorageCode::InvalidArgument:
      return "InvalidArgument";
    case StorageCode::Locked:
      return "Locked";
    case StorageCode::Unsupported:
      return "Unsupported";
  }
  return "Unknown";
}

std::string StorageStatus::to_string() const {
  if (ok()) return "Ok";
  return std::string(storage::to_string(code_)) + ": " + message_;
}

}  // namespace synod::storage
