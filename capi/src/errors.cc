// Status text, the thread-local error message, and synod_free.
#include "errors.h"

#include <cstdlib>

namespace synod::capi {
namespace {

thread_local std::string last_error;
// Set instead of last_error when no message could be kept (out of memory): the status text.
thread_local const char* last_error_fallback = nullptr;

}  // namespace

int fail(int status, std::string message) noexcept {
  // Assigning to the thread-local may allocate; without memory, the static status text.
  last_error_fallback = nullptr;
  try {
    last_error = std::move(message);
  } catch (...) {
    last_error.clear();
  }
  if (last_error.empty()) last_error_fallback = synod_errstr(status);
  return status;
}

int internal_error(const char* function, const char* what) noexcept {
  try {
    return fail(SYNOD_E_INTERNAL, std::string(function) + ": internal error: " + what);
  } catch (...) {
    return fail(SYNOD_E_INTERNAL, {});
  }
}

int status_of(node::Status status) {
  switch (status) {
    case node::Status::Ok: return SYNOD_OK;
    case node::Status::NotLeader: return SYNOD_E_NOT_LEADER;
    case node::Status::NoLeader: return SYNOD_E_NO_LEADER;
    case node::Status::UnknownPartition: return SYNOD_E_UNKNOWN_PARTITION;
    case node::Status::PayloadTooLarge: return SYNOD_E_PAYLOAD_TOO_LARGE;
    case node::Status::QueueFull: return SYNOD_E_QUEUE_FULL;
    case node::Status::Timeout: return SYNOD_E_TIMEOUT;
    case node::Status::ShuttingDown: return SYNOD_E_SHUTTING_DOWN;
    case node::Status::TransferInProgress: return SYNOD_E_TRANSFER_IN_PROGRESS;
    case node::Status::Dropped: return SYNOD_E_DROPPED;
    case node::Status::InvalidArgument: return SYNOD_E_INVALID_ARGUMENT;
    case node::Status::StorageFailure: return SYNOD_E_STORAGE;
  }
  return SYNOD_E_INTERNAL;
}

}  // namespace synod::capi

extern "C" {

SYNOD_API const char* synod_errstr(int status) {
  switch (status) {
    case SYNOD_OK: return "ok";
    case SYNOD_E_INVALID_ARGUMENT: return "invalid argument";
    case SYNOD_E_NOT_LEADER: return "not leader";
    case SYNOD_E_NO_LEADER: return "no leader";
    case SYNOD_E_UNKNOWN_PARTITION: return "unknown partition";
    case SYNOD_E_PAYLOAD_TOO_LARGE: return "payload too large";
    case SYNOD_E_QUEUE_FULL: return "queue full";
    case SYNOD_E_TIMEOUT: return "timeout";
    case SYNOD_E_SHUTTING_DOWN: return "shutting down";
    case SYNOD_E_TRANSFER_IN_PROGRESS: return "leadership transfer in progress";
    case SYNOD_E_DROPPED: return "dropped";
    case SYNOD_E_STORAGE: return "storage failure";
    case SYNOD_E_CONFIG: return "invalid configuration";
    case SYNOD_E_TRANSPORT: return "transport failure";
    case SYNOD_E_NOMEM: return "out of memory";
    case SYNOD_E_INTERNAL: return "internal error";
    default: return "unknown status";
  }
}

SYNOD_API const char* synod_last_error(void) {
  return synod::capi::last_error_fallback ? synod::capi::last_error_fallback
                                          : synod::capi::last_error.c_str();
}

SYNOD_API void synod_free(void* buffer) { std::free(buffer); }

}  // extern "C"
