// What a request handler may know about the request beyond its bytes: who asked, when, under which config.
#pragma once

#include <cstdint>

#include "core/address.hpp"
#include "core/config.hpp"

namespace turnpike {

struct RequestContext {
  const Config& config;
  IpAddress peer;
  std::int64_t now_ms;        // wall clock, for expiry
  double now;                 // monotonic seconds, for rate limits and latency
  bool admin_socket = false;  // arrived on the admin unix socket
};

}  // namespace turnpike
