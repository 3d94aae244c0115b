// HTTP response construction and serialisation.
#include "http/response.hpp"

#include <algorithm>
#include <cmath>

#include "core/json_text.hpp"

namespace turnpike::http {

Response Response::json(int status, std::string body) {
  return Response{status, "application/json; charset=utf-8", std::move(body), {}, false};
}

Response Response::error(int status, std::string_view code) {
  return json(status, R"({"error":)" + json_quote(code) + "}");
}

Response Response::empty(int status) {
  return Response{status, "", "", {}, false};
}

Response Response::text(int status, std::string body, std::string content_type) {
  return Response{status, std::move(content_type), std::move(body), {}, false};
}

Response& Response::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

Response& Response::without_cors() {
  cors = false;
  return *this;
}

Response rate_limited(double retry_after_seconds) {
  auto seconds = static_cast<long long>(std::max(1.0, std::ceil(retry_after_seconds)));
  return Response::error(429, "rate_limited").with_header("Retry-After", std::to_string(seconds));
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 421:
      return "Misdirected Request";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string serialize(const Response& response, bool keep_alive, bool head_only) {
  std::string out;
  out.reserve(256 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  if (!response.content_type.empty()) {
    out += "Content-Type: ";
    out += response.content_type;
    out += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (response.status != 204 && response.status != 101 && response.status != 100) {
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  if (response.status != 101) out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

}  // namespace turnpike::http
