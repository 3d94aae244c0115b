// Fuzzes the Forwarded / X-Forwarded-For rules: no crash or UB, and the client is an address they saw.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/forwarded.hpp"

namespace {

using turnpike::CidrRange;
using turnpike::IpAddress;
using turnpike::http::ClientSource;
using turnpike::http::Header;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // First byte: which headers the lines are; the rest: header values, one per line.
  const std::uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }

  for (const auto line : lines) {
    // A node that parses prints as an address that parses back to itself.
    if (const auto node = turnpike::http::parse_forwarded_node(line)) {
      const auto again = IpAddress::parse(node->to_string());
      if (!again.ok() || !(*again == *node)) std::abort();
    }
  }
  const auto forwarded = turnpike::http::forwarded_for_values(lines);
  const auto x_forwarded = turnpike::http::x_forwarded_for_values(lines);
  for (const auto& element : x_forwarded) {
    if (element.empty() || element.front() == ' ' || element.back() == ' ') std::abort();
  }

  std::vector<Header> headers;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const bool as_forwarded = ((selector >> (i % 8)) & 1) != 0;
    headers.push_back({as_forwarded ? "Forwarded" : "X-Forwarded-For", std::string(lines[i])});
  }
  if ((selector & 0x80) != 0) headers.push_back({"X-Forwarded-Proto", "https"});
  const IpAddress proxy = *IpAddress::parse("10.0.0.1");
  const std::vector<CidrRange> trusted = {*CidrRange::parse("10.0.0.0/8"), *CidrRange::parse("fd00::/8")};
  const auto origin = turnpike::http::resolve_client(proxy, trusted, headers);
  switch (origin.source) {
    case ClientSource::direct:
      std::abort();  // the peer is a trusted proxy
    case ClientSource::proxy_without_header:
    case ClientSource::proxy_header_unusable:
      if (!(origin.address == proxy)) std::abort();
      break;
    case ClientSource::forwarded:
    case ClientSource::x_forwarded_for:
      break;
  }
  if (!origin.forwarded_proto.empty() && origin.forwarded_proto != "http" &&
      origin.forwarded_proto != "https") {
    std::abort();
  }
  // A peer that is not trusted is taken as it is.
  const IpAddress stranger = *IpAddress::parse("198.51.100.9");
  const auto direct = turnpike::http::resolve_client(stranger, trusted, headers);
  if (direct.source != ClientSource::direct || !(direct.address == stranger) ||
      !direct.forwarded_proto.empty()) {
    std::abort();
  }
  return 0;
}
