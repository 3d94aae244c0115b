// What a request handler may know about the request beyond its bytes: who asked, when, under which config.
#pragma once

#include <cstdint>
#include <string>

#include "core/address.hpp"
#include "core/config.hpp"

namespace turnpike {

struct RequestContext {
  const Config& config;
  // The client: the TCP peer, or the address a trusted proxy named in Forwarded / X-Forwarded-For.
  IpAddress peer;
  // What per-address limits count the client under: limit_key(peer, limits.ipv6_prefix_length).
  IpAddress limit_key{};
  std::int64_t now_ms;        // wall clock, for expiry
  double now;                 // monotonic seconds, for rate limits and latency
  bool admin_socket = false;  // arrived on the admin unix socket
  // "http" or "https" from a trusted proxy's X-Forwarded-Proto; empty otherwise.
  std::string forwarded_proto{};
};

}  // namespace turnpike
