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
int fail(int status, std::string message);

// The C status of a NodeHost status.
int status_of(node::Status status);

// Runs `body` (which returns an int status) and turns any exception into a status with
// its text in synod_last_error(), naming the public function `function`.
template <typename Body>
int guarded(const char* function, Body&& body) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    return fail(SYNOD_E_NOMEM, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(SYNOD_E_INTERNAL, std::string(function) + ": internal error: " + e.what());
  } catch (...) {
    return fail(SYNOD_E_INTERNAL, std::string(function) + ": internal error");
  }
}

}  // namespace synod::capi
