// Matching a Host header against the listen addresses and admin.allowed_hosts.
#include "http/admin_host.hpp"

#include "core/address.hpp"
#include "core/host_header.hpp"

namespace turnpike::http {
namespace {

bool is_wildcard(const IpAddress& address) {
  return address == *IpAddress::parse("0.0.0.0") || address == *IpAddress::parse("::");
}

bool is_loopback(const IpAddress& address) {
  return CidrRange::parse("127.0.0.0/8")->contains(address) || address == *IpAddress::parse("::1");
}

// Whether a listen address admits `host` (already lower-case, brackets removed); ports are not compared.
bool listen_admits(const ListenAddress& listen, const std::string& host) {
  auto bound = IpAddress::parse(listen.host);
  if (!bound) return false;
  if (host == "localhost") return is_wildcard(*bound) || is_loopback(*bound);
  auto literal = IpAddress::parse(host);
  if (!literal) return false;
  return is_wildcard(*bound) || *literal == *bound;
}

}  // namespace

bool admin_host_allowed(const Config& config, std::string_view host) {
  auto asked = parse_host_port(host);
  if (!asked) return false;
  for (const auto& entry : config.admin.allowed_hosts) {
    if (entry.host == asked->host && (!entry.port || entry.port == asked->port)) return true;
  }
  for (const auto* addresses : {&config.server.listen, &config.server.tls_listen}) {
    for (const auto& listen : *addresses) {
      if (listen_admits(listen, asked->host)) return true;
    }
  }
  return false;
}

}  // namespace turnpike::http
