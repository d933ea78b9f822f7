// The thread-local error message and synod_free. synod_errstr() and status_of() are
// generated from the status table (scripts/status_table.py capi-source).
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

}  // namespace synod::capi

extern "C" {

SYNOD_API const char* synod_last_error(void) {
  return synod::capi::last_error_fallback ? synod::capi::last_error_fallback
                                          : synod::capi::last_error.c_str();
}

SYNOD_API void synod_free(void* buffer) { std::free(buffer); }

}  // extern "C"
