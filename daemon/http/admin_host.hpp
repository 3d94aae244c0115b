// The Host check of the admin routes: a browser tricked by DNS rebinding names a foreign host there.
#pragma once

#include <string_view>

#include "core/config.hpp"

namespace turnpike::http {

// True when `host` (the Host header's value) names this server: an IP literal of server.listen or
// server.tls_listen (any IP literal when one of them is a wildcard address), `localhost` when one of them is
// a loopback or wildcard address (in both cases with any port or none), or an entry of admin.allowed_hosts
// (a name alone matches any port or none; name:port only that port).
bool admin_host_allowed(const Config& config, std::string_view host);

}  // namespace turnpike::http
