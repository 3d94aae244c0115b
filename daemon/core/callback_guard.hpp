// The one way a libevent callback runs its body: no exception may cross into C, so one that escapes is
// logged with the callback's name and the loop keeps serving.
#pragma once

#include <exception>
#include <string_view>

#include "core/log.hpp"

namespace turnpike {

// Runs `body`; false if it threw (the exception is logged and swallowed).
template <typename Body>
bool guarded(std::string_view where, Body&& body) noexcept {
  try {
    body();
    return true;
  } catch (const std::exception& error) {
    log_error("callback_failed").kv("where", where).kv("reason", error.what());
  } catch (...) {
    log_error("callback_failed").kv("where", where).kv("reason", "unknown exception");
  }
  return false;
}

}  // namespace turnpike
