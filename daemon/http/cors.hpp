// The origin policy of server.allowed_origins: CORS headers on every response and the Origin check.
#pragma once

#include <string_view>

#include "core/config.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

namespace turnpike::http {

bool origin_allowed(const Config& config, std::string_view origin);
// Access-Control-Allow-Origin (and Vary) for `request`'s Origin; without a request (a connection refused or
// a request that never parsed) the policy's default.
void add_cors_headers(const Config& config, const Request* request, Response& response);
// The whole answer written to a connection refused for a limit: 503 too_many_connections, then close.
std::string refusal_bytes(const Config& config);

}  // namespace turnpike::http
