// An HTTP response and its wire form (status line, headers, body).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace turnpike::http {

struct Response {
  int status = 200;
  std::string content_type;  // empty: no Content-Type (e.g. 204)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after sending
  bool cors = true;    // false: no CORS headers (admin routes are not for web pages)

  static Response json(int status, std::string body);
  // {"error":"<code>"} with Content-Type application/json.
  static Response error(int status, std::string_view code);
  static Response empty(int status);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  Response& with_header(std::string name, std::string value);
  Response& without_cors();
};

// How a handler answers a request: exactly once, during the handler's call or in a later loop turn.
using Respond = std::function<void(Response)>;

// 429 rate_limited with Retry-After in whole seconds (at least 1).
Response rate_limited(double retry_after_seconds);

std::string_view reason_phrase(int status);

// Status line, headers (plus Content-Length and Connection) and, unless `head_only`, the body.
std::string serialize(const Response& response, bool keep_alive, bool head_only);

}  // namespace turnpike::http
