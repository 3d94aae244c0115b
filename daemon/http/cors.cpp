// CORS headers and the Origin check from server.allowed_origins.
#include "http/cors.hpp"

namespace turnpike::http {

bool origin_allowed(const Config& config, std::string_view origin) {
  if (config.any_origin) return true;
  for (const auto& allowed : config.server.allowed_origins) {
    if (allowed == origin) return true;
  }
  return false;
}

void add_cors_headers(const Config& config, const Request* request, Response& response) {
  const std::string* origin = request ? request->header("Origin") : nullptr;
  if (config.any_origin) {
    response.with_header("Access-Control-Allow-Origin", "*");
  } else {
    bool listed = origin != nullptr && origin_allowed(config, *origin);
    response.with_header("Access-Control-Allow-Origin",
                         listed ? *origin : config.server.allowed_origins.front());
    response.with_header("Vary", "Origin");
  }
  // The reference's CORS middleware sent these two on every response, not only on preflights.
  response.with_header("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept");
  response.with_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
  response.with_header("Access-Control-Expose-Headers", "Retry-After");
}

std::string refusal_bytes(const Config& config) {
  Response response = Response::error(503, "too_many_connections");
  add_cors_headers(config, nullptr, response);
  return serialize(response, /*keep_alive=*/false, /*head_only=*/false);
}

}  // namespace turnpike::http
