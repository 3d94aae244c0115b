// Parsing of host[:port] as the Host header and admin.allowed_hosts write it.
#include "core/host_header.hpp"

#include <charconv>

#include "core/address.hpp"

namespace turnpike {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return make_error("bad port '" + std::string(text) + "'");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view rest;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return make_error("unclosed [ in host '" + std::string(text) + "'");
    auto literal = text.substr(1, close - 1);
    if (literal.find(':') == std::string_view::npos || !IpAddress::parse(literal)) {
      return make_error("bad IPv6 literal in host '" + std::string(text) + "'");
    }
    out.host = std::string(literal);
    rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return make_error("bad host '" + std::string(text) + "'");
  } else {
    auto colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) rest = text.substr(colon);
    if (out.host.empty()) return make_error("empty host in '" + std::string(text) + "'");
  }
  for (char& c : out.host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!text.starts_with('[')) {
    for (char c : out.host) {
      if (!name_char(c)) return make_error("bad character in host '" + std::string(text) + "'");
    }
  }
  if (!rest.empty()) {
    auto port = parse_port(rest.substr(1));
    if (!port) return make_error("bad port in host '" + std::string(text) + "'");
    out.port = *port;
  }
  return out;
}

}  // namespace turnpike
