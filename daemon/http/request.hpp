// HTTP/1.1 request value type: method, target split into path and query, header fields and de-chunked body.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace turnpike::http {

struct Header {
  std::string name;   // as received (original case)
  std::string value;  // leading and trailing OWS (SP / HTAB) removed

  friend bool operator==(const Header&, const Header&) = default;
};

struct Request {
  std::string method;  // case-sensitive token as received, e.g. "GET"
  std::string target;  // raw request-target
  std::string path;   // target up to '?' (raw, not decoded); "/..." also for absolute-form, "*" for OPTIONS *
  std::string query;  // after the first '?', raw, without the '?'; empty if none
  int version_minor = 1;  // HTTP/1.0 -> 0, HTTP/1.1 -> 1
  std::vector<Header> headers;
  std::string body;  // de-chunked

  // Value of the first header whose name matches case-insensitively, or nullptr.
  const std::string* header(std::string_view name) const;
  // True when any header named `name` holds `token` as one element of its comma-separated list
  // (elements trimmed of OWS, compared case-insensitively), e.g. Connection: keep-alive, Upgrade.
  bool header_has_token(std::string_view name, std::string_view token) const;
  // HTTP/1.1: persistent unless "Connection: close"; HTTP/1.0: only with "Connection: keep-alive".
  bool keep_alive() const;
  // "Expect: 100-continue" on an HTTP/1.1 request (RFC 9110 §10.1.1: ignored for HTTP/1.0).
  bool expects_continue() const;
  // First value of `key` in the query string; keys and values are '+'- and percent-decoded the way
  // application/x-www-form-urlencoded is (malformed %-escapes are kept literally). A key without '='
  // has the empty value. nullopt when the key is absent.
  std::optional<std::string> query_param(std::string_view key) const;

  friend bool operator==(const Request&, const Request&) = default;
};

// The path as routes match it: lower-case, without one trailing slash (Express 5 matching rules).
std::string normalize_path(std::string_view path);

// ASCII case-insensitive comparison.
bool ascii_iequals(std::string_view a, std::string_view b);

// Decodes one application/x-www-form-urlencoded component: '+' -> SP, %XX -> byte; a '%' not followed by
// two hex digits is kept as is.
std::string decode_query_component(std::string_view text);

}  // namespace turnpike::http
