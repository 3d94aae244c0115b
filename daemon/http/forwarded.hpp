// Who a request really comes from when it arrives through a trusted reverse proxy: the Forwarded
// (RFC 7239) and X-Forwarded-For / X-Forwarded-Proto header rules, as pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "http/request.hpp"

namespace turnpike::http {

// How the client address of a request was decided.
enum class ClientSource {
  direct,                 // the TCP peer is not a trusted proxy: its address, headers ignored
  forwarded,              // from a trusted proxy, taken from the Forwarded header
  x_forwarded_for,        // from a trusted proxy, taken from X-Forwarded-For
  proxy_without_header,   // from a trusted proxy that sent neither header: the proxy's own address
  proxy_header_unusable,  // from a trusted proxy whose header could not be read: the proxy's own address
};
std::string_view to_string(ClientSource source);

struct ClientOrigin {
  IpAddress address;
  ClientSource source = ClientSource::direct;
  // "http" or "https" from X-Forwarded-Proto when a trusted proxy sent it; empty otherwise.
  std::string forwarded_proto;
};

// One node of a Forwarded `for=` value or an X-Forwarded-For element: an IPv4 address, an IPv6 address
// (bare or in brackets), either with an optional ":port". nullopt for "unknown", obfuscated identifiers
// ("_hidden") and anything else.
std::optional<IpAddress> parse_forwarded_node(std::string_view node);

// The `for=` values of every element of the Forwarded header lines `values` (in order, unquoted); an
// element without `for=` gives an empty string. nullopt when the syntax is broken (unbalanced quotes, a
// pair without '=', a token with characters RFC 7239 does not allow).
std::optional<std::vector<std::string>> forwarded_for_values(const std::vector<std::string_view>& values);

// The elements of the X-Forwarded-For header lines `values`, in order, trimmed; empty elements skipped.
std::vector<std::string> x_forwarded_for_values(const std::vector<std::string_view>& values);

// The client address of a request from `tcp_peer` with `headers`. Only when `tcp_peer` is in
// `trusted_proxies` are the proxy headers read: Forwarded when present, otherwise X-Forwarded-For. The list
// is walked from the right; the first address that is not itself a trusted proxy is the client (all of
// them trusted: the left-most). A value that is not an address stops the walk and the request counts as
// from the proxy itself.
ClientOrigin resolve_client(const IpAddress& tcp_peer, const std::vector<CidrRange>& trusted_proxies,
                            const std::vector<Header>& headers);

}  // namespace turnpike::http
