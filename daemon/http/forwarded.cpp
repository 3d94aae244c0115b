// The Forwarded / X-Forwarded-For / X-Forwarded-Proto rules: parsing the headers and picking the client.
#include "http/forwarded.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace turnpike::http {
namespace {

bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c)) != 0) return true;
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return extra.find(c) != std::string_view::npos;
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

// ":4711" or an obfuscated port ":_abc" (RFC 7239 §6.3).
bool is_port_suffix(std::string_view text) {
  if (text.size() < 2 || text.front() != ':') return false;
  auto port = text.substr(1);
  if (port.front() == '_') {
    return port.size() > 1 && std::all_of(port.begin() + 1, port.end(), [](char c) {
             return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
           });
  }
  if (port.size() > 5) return false;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return ec == std::errc() && end == port.data() + port.size() && value <= 65535;
}

bool in_ranges(const std::vector<CidrRange>& ranges, const IpAddress& address) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const CidrRange& r) { return r.contains(address); });
}

// Parses one Forwarded header line into `out`; false on a syntax error.
bool parse_forwarded_line(std::string_view s, std::vector<std::string>& out) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto skip_ows = [&] {
    while (i < n && is_ows(s[i])) ++i;
  };
  while (true) {
    std::optional<std::string> for_value;
    bool any_pair = false;
    while (true) {
      skip_ows();
      if (i == n || s[i] == ',') break;
      if (s[i] == ';') {
        ++i;
        continue;
      }
      std::size_t name_start = i;
      while (i < n && is_tchar(s[i])) ++i;
      if (i == name_start || i == n || s[i] != '=') return false;
      auto name = s.substr(name_start, i - name_start);
      ++i;
      std::string value;
      if (i < n && s[i] == '"') {
        ++i;
        bool closed = false;
        while (i < n) {
          char c = s[i++];
          if (c == '\\') {
            if (i == n) return false;
            value += s[i++];
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value += c;
          }
        }
        if (!closed) return false;
      } else {
        std::size_t value_start = i;
        while (i < n && is_tchar(s[i])) ++i;
        if (i == value_start) return false;
        value = std::string(s.substr(value_start, i - value_start));
      }
      any_pair = true;
      if (ascii_iequals(name, "for")) {
        if (for_value) return false;  // one for= per element
        for_value = std::move(value);
      }
      skip_ows();
      if (i < n && s[i] != ';' && s[i] != ',') return false;
    }
    if (any_pair) out.push_back(for_value.value_or(""));
    if (i == n) return true;
    ++i;  // ','
  }
}

}  // namespace

std::string_view to_string(ClientSource source) {
  switch (source) {
    case ClientSource::direct:
      return "direct";
    case ClientSource::forwarded:
      return "forwarded";
    case ClientSource::x_forwarded_for:
      return "x_forwarded_for";
    case ClientSource::proxy_without_header:
      return "proxy_without_header";
    case ClientSource::proxy_header_unusable:
      return "proxy_header_unusable";
  }
  return "direct";
}

std::optional<IpAddress> parse_forwarded_node(std::string_view node) {
  if (node.empty()) return std::nullopt;
  if (node.front() == '[') {
    auto close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto host = node.substr(1, close - 1);
    auto rest = node.substr(close + 1);
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // brackets hold IPv6 only
    if (!rest.empty() && !is_port_suffix(rest)) return std::nullopt;
    auto address = IpAddress::parse(host);
    if (!address) return std::nullopt;
    return *address;
  }
  if (auto whole = IpAddress::parse(node)) return *whole;  // bare IPv4 or IPv6
  auto colon = node.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto host = node.substr(0, colon);
  if (host.find('.') == std::string_view::npos || !is_port_suffix(node.substr(colon))) return std::nullopt;
  auto address = IpAddress::parse(host);
  if (!address) return std::nullopt;
  return *address;
}

std::optional<std::vector<std::string>> forwarded_for_values(const std::vector<std::string_view>& values) {
  std::vector<std::string> result;
  for (auto line : values) {
    if (!parse_forwarded_line(line, result)) return std::nullopt;
  }
  return result;
}

std::vector<std::string> x_forwarded_for_values(const std::vector<std::string_view>& values) {
  std::vector<std::string> result;
  for (auto line : values) {
    while (true) {
      auto comma = line.find(',');
      auto element = trim(line.substr(0, comma));
      if (!element.empty()) result.emplace_back(element);
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
  }
  return result;
}

ClientOrigin resolve_client(const IpAddress& tcp_peer, const std::vector<CidrRange>& trusted_proxies,
                            const std::vector<Header>& headers) {
  ClientOrigin origin{tcp_peer, ClientSource::direct, {}};
  if (!in_ranges(trusted_proxies, tcp_peer)) return origin;

  std::vector<std::string_view> forwarded;
  std::vector<std::string_view> x_forwarded_for;
  const std::string* proto = nullptr;
  for (const auto& header : headers) {
    if (ascii_iequals(header.name, "Forwarded")) forwarded.emplace_back(header.value);
    if (ascii_iequals(header.name, "X-Forwarded-For")) x_forwarded_for.emplace_back(header.value);
    if (ascii_iequals(header.name, "X-Forwarded-Proto")) proto = &header.value;
  }
  if (proto != nullptr) {
    std::string_view last = *proto;
    if (auto comma = last.rfind(','); comma != std::string_view::npos) last.remove_prefix(comma + 1);
    last = trim(last);
    if (ascii_iequals(last, "https")) origin.forwarded_proto = "https";
    if (ascii_iequals(last, "http")) origin.forwarded_proto = "http";
  }

  std::vector<std::string> nodes;
  ClientSource source = ClientSource::proxy_without_header;
  if (!forwarded.empty()) {
    auto values = forwarded_for_values(forwarded);
    if (!values) {
      origin.source = ClientSource::proxy_header_unusable;
      return origin;
    }
    nodes = std::move(*values);
    source = ClientSource::forwarded;
  }
  if (nodes.empty() && !x_forwarded_for.empty()) {
    nodes = x_forwarded_for_values(x_forwarded_for);
    source = ClientSource::x_forwarded_for;
  }
  if (nodes.empty()) {
    origin.source = ClientSource::proxy_without_header;
    return origin;
  }
  IpAddress client = tcp_peer;
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    auto address = parse_forwarded_node(*it);
    if (!address) {
      origin.source = ClientSource::proxy_header_unusable;
      return origin;
    }
    client = *address;
    if (!in_ranges(trusted_proxies, client)) break;
  }
  origin.address = client;
  origin.source = source;
  return origin;
}

}  // namespace turnpike::http
