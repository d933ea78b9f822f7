// Status codes, the thread-local error text, and the guard that keeps C++ exceptions
// from crossing the C boundary.
#pragma once

#include <new>
#include <string>
#include <utility>

#include "synod.h"
#include "synod/node/node_host.h"

namespace synod::capi {

// Records `message` as this thread's synod_last_error() and returns `status`.
int fail(int status, std::string message) noexcept;

// The C status of a NodeHost status.
int status_of(node::Status status);
// The NodeHost status of a C status, into *out; false for a C code without one
// (SYNOD_E_CONFIG, SYNOD_E_TRANSPORT, SYNOD_E_NOMEM, SYNOD_E_INTERNAL, unknown codes).
bool status_from_c(int status, node::Status* out);

// SYNOD_E_INTERNAL with a message naming `function` and `what`; never throws.
int internal_error(const char* function, const char* what) noexcept;

// Runs `body` (which returns an int status) and turns any exception into a status with
// its text in synod_last_error(), naming the public function `function`.
template <typename Body>
int guarded(const char* function, Body&& body) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    return fail(SYNOD_E_NOMEM, {});
  } catch (const std::exception& e) {
    return internal_error(function, e.what());
  } catch (...) {
    return internal_error(function, "unknown exception");
  }
}

}  // namespace synod::capi
