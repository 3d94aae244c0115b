// The Host header's host[:port] form, parsed for the admin routes' Host check and admin.allowed_hosts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace turnpike {

struct HostPort {
  std::string host;  // lower-case; an IPv6 literal without its brackets
  std::optional<std::uint16_t> port;
  bool operator==(const HostPort&) const = default;
};

// "example.com", "Example.COM:8080", "127.0.0.1:80", "[::1]:8080", "[::1]". A name is letters, digits,
// '-' and '.'; an IPv6 literal must be bracketed; a port is 1-65535.
Result<HostPort> parse_host_port(std::string_view text);

}  // namespace turnpike
