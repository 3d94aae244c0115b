// IP address parsing, formatting and CIDR matching.
#include "core/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>

namespace turnpike {
namespace {

IpAddress mapped_v4(const void* four_bytes) {
  IpAddress a;
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  std::memcpy(&a.bytes[12], four_bytes, 4);
  return a;
}

bool is_mapped_v4(const IpAddress& a) {
  for (int i = 0; i < 10; ++i)
    if (a.bytes[i] != 0) return false;
  return a.bytes[10] == 0xff && a.bytes[11] == 0xff;
}

}  // namespace

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_mapped_v4(*this)) {
    inet_ntop(AF_INET, &bytes[12], buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  unsigned char raw[16];
  if (inet_pton(AF_INET, s.c_str(), raw) == 1) return mapped_v4(raw);
  if (inet_pton(AF_INET6, s.c_str(), raw) == 1) {
    IpAddress a;
    std::memcpy(a.bytes.data(), raw, 16);
    return a;
  }
  return make_error("not an IP address: " + s);
}

IpAddress IpAddress::from_sockaddr(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    return mapped_v4(&reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  }
  IpAddress a;
  if (addr->sa_family == AF_INET6) {
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, 16);
  }
  return a;
}

IpAddress limit_key(const IpAddress& address, int ipv6_prefix_bits) {
  if (is_mapped_v4(address)) return address;
  const int bits = std::clamp(ipv6_prefix_bits, 0, 128);
  IpAddress key = address;
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(bits - i * 8, 0, 8);
    key.bytes[static_cast<std::size_t>(i)] &= static_cast<std::uint8_t>(0xff00 >> keep);
  }
  return key;
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const {
  std::uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  return std::hash<std::uint64_t>()(hi * 0x9e3779b97f4a7c15ULL ^ lo);
}

bool CidrRange::contains(const IpAddress& a) const {
  int full = prefix_bits / 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), full) != 0) return false;
  int rest = prefix_bits % 8;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (network.bytes[full] & mask);
}

Result<CidrRange> CidrRange::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return address.error();
  int max_bits = is_mapped_v4(*address) ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || bits < 0 ||
        bits > max_bits) {
      return make_error("bad prefix length in " + std::string(text));
    }
  }
  CidrRange range{*address, bits + (128 - max_bits)};
  return range;
}

std::string CidrRange::to_string() const {
  int max_bits = is_mapped_v4(network) ? 32 : 128;
  int bits = prefix_bits - (128 - max_bits);
  if (bits == max_bits) return network.to_string();
  return network.to_string() + "/" + std::to_string(bits);
}

std::string ListenAddress::to_string() const {
  std::string shown_host = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return shown_host + ":" + std::to_string(port);
}

Result<SocketAddress> to_socket_address(const ListenAddress& address) {
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  out.storage = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  return make_error("host must be an IP address: " + address.host);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("expected [ipv6]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return make_error("expected host:port");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos)
      return make_error("an IPv6 address needs brackets: [::1]:8080");
  }
  if (!IpAddress::parse(out.host)) return make_error("host must be an IP address: " + out.host);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return make_error("bad port: " + std::string(port_text));
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace turnpike
