// IP addresses: parsing host:port listen specs, printing peers, and matching CIDR ranges.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace turnpike {

// An IPv4 or IPv6 address, IPv4 stored as ::ffff:a.b.c.d so both families compare alike.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
  std::string to_string() const;
  static Result<IpAddress> parse(std::string_view text);
  static IpAddress from_sockaddr(const sockaddr* addr);
};

// The key per-address limits count an address under: an IPv4 address itself; for IPv6 its network of
// `ipv6_prefix_bits` (a subscriber usually gets a whole /64, so counting each /128 would multiply every
// limit).
IpAddress limit_key(const IpAddress& address, int ipv6_prefix_bits);

struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const;
};

struct CidrRange {
  IpAddress network;
  int prefix_bits = 128;  // in the 128-bit space
  bool contains(const IpAddress& a) const;
  static Result<CidrRange> parse(std::string_view text);  // "10.0.0.0/8", "::1", "192.168.1.5"
  // The text parse() reads back: "10.0.0.0/8", and a single address without a prefix ("::1").
  std::string to_string() const;
  bool operator==(const CidrRange&) const = default;
};

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
  // "127.0.0.1:8080" or "[::1]:8080", the form parse_listen_address reads.
  std::string to_string() const;
  bool operator==(const ListenAddress&) const = default;
};
Result<ListenAddress> parse_listen_address(
    std::string_view text);  // "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0"

// A socket address to connect or bind to, IPv4 or IPv6.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};
Result<SocketAddress> to_socket_address(const ListenAddress& address);

}  // namespace turnpike
