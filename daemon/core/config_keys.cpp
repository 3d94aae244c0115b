// The key table: every configuration key declared once, with its type, default, reload rule and doc line.
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/config.hpp"
#include "core/text.hpp"

namespace turnpike {
namespace {

template <auto Section, auto Member>
auto& field(Config& c) {
  return (c.*Section).*Member;
}
template <auto Section, auto Member>
const auto& field(const Config& c) {
  return (c.*Section).*Member;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

Result<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return make_error("expected an integer, got '" + std::string(text) + "'");
  }
  return v;
}

Result<double> parse_decimal(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return make_error("expected a number, got '" + std::string(text) + "'");
  }
  return v;
}

// A key whose text `parse` turns into the field's value and `show` renders back canonically.
template <auto Section, auto Member, class Parse, class Show>
ConfigKey typed_key(std::string_view name, std::string_view def, bool reloadable, std::string_view doc,
                    Parse parse, Show show) {
  return {name,
          def,
          reloadable,
          doc,
          [parse](Config& c, std::string_view text) -> Result<void> {
            auto value = parse(text);
            if (!value) return value.error();
            field<Section, Member>(c) = std::move(*value);
            return {};
          },
          [show](const Config& c) -> std::string { return show(field<Section, Member>(c)); },
          [](Config& to, const Config& from) { field<Section, Member>(to) = field<Section, Member>(from); }};
}

ConfigKey secret(ConfigKey key) {
  key.secret = true;
  return key;
}

template <auto Section, auto Member>
ConfigKey integer_key(std::string_view name, std::string_view def, std::int64_t min, std::int64_t max,
                      bool reloadable, std::string_view doc) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc,
      [min, max](std::string_view text) -> Result<std::int64_t> {
        auto v = parse_integer(text);
        if (!v) return v.error();
        if (*v < min || *v > max) {
          return make_error("must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        return *v;
      },
      [](std::int64_t v) { return std::to_string(v); });
}

// Seconds and rates: decimal numbers within [min, max]; min == 0 allows 0 (= off for rates).
template <auto Section, auto Member>
ConfigKey decimal_key(std::string_view name, std::string_view def, double min, double max, bool reloadable,
                      std::string_view doc) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc,
      [min, max](std::string_view text) -> Result<double> {
        auto v = parse_decimal(text);
        if (!v) return v.error();
        if (*v < min || *v > max) {
          return make_error("must be between " + format_number(min) + " and " + format_number(max));
        }
        return *v;
      },
      [](double v) { return format_number(v); });
}

template <auto Section, auto Member>
ConfigKey bool_key(std::string_view name, std::string_view def, bool reloadable, std::string_view doc) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc,
      [](std::string_view text) -> Result<bool> {
        if (text == "true") return true;
        if (text == "false") return false;
        return make_error("expected true or false, got '" + std::string(text) + "'");
      },
      [](bool v) { return std::string(v ? "true" : "false"); });
}

template <class Enum>
struct Choice {
  std::string_view text;
  Enum value;
};

constexpr std::array<Choice<SqliteSynchronous>, 2> kSynchronousChoices = {
    {{"full", SqliteSynchronous::full}, {"normal", SqliteSynchronous::normal}}};
constexpr std::array<Choice<TurnMode>, 2> kTurnModeChoices = {
    {{"long-term", TurnMode::long_term}, {"rest", TurnMode::rest}}};
constexpr std::array<Choice<SocketIoDialect>, 1> kSocketIoDialectChoices = {
    {{"sessions", SocketIoDialect::sessions}}};
constexpr std::array<Choice<LogLevel>, 4> kLogLevelChoices = {{{"debug", LogLevel::debug},
                                                               {"info", LogLevel::info},
                                                               {"warn", LogLevel::warn},
                                                               {"error", LogLevel::error}}};

template <class Enum, std::size_t N>
std::string_view choice_text(const std::array<Choice<Enum>, N>& choices, Enum value) {
  for (const auto& choice : choices) {
    if (choice.value == value) return choice.text;
  }
  return "?";
}

// One of a fixed set of words, stored as the matching enum value.
template <auto Section, auto Member, class Enum, std::size_t N>
ConfigKey choice_key(std::string_view name, std::string_view def, const std::array<Choice<Enum>, N>& choices,
                     bool reloadable, std::string_view doc) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc,
      [&choices](std::string_view text) -> Result<Enum> {
        for (const auto& choice : choices) {
          if (text == choice.text) return choice.value;
        }
        std::string all;
        for (const auto& choice : choices) all += (all.empty() ? "" : ", ") + std::string(choice.text);
        return make_error("expected one of " + all + ", got '" + std::string(text) + "'");
      },
      [&choices](Enum value) { return std::string(choice_text(choices, value)); });
}

// Free text, checked by `validate`.
template <auto Section, auto Member>
ConfigKey text_key(std::string_view name, std::string_view def, bool reloadable, std::string_view doc,
                   Result<void> (*validate)(std::string_view)) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc,
      [validate](std::string_view text) -> Result<std::string> {
        if (auto ok = validate(text); !ok) return ok.error();
        return std::string(text);
      },
      [](const std::string& v) { return v; });
}

// Comma-separated list; each item turned into an Item by `parse_item`. `show` joins items with ", ".
template <auto Section, auto Member, class Item>
ConfigKey list_key(std::string_view name, std::string_view def, bool reloadable, std::string_view doc,
                   Result<Item> (*parse_item)(std::string_view), std::string (*show_item)(const Item&)) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc,
      [parse_item](std::string_view text) -> Result<std::vector<Item>> {
        std::vector<Item> items;
        for (auto item : split_trimmed(text, ',')) {
          if (item.empty()) continue;
          auto parsed = parse_item(item);
          if (!parsed) return parsed.error();
          items.push_back(std::move(*parsed));
        }
        return items;
      },
      [show_item](const std::vector<Item>& items) {
        std::string out;
        for (const auto& item : items) out += (out.empty() ? "" : ", ") + show_item(item);
        return out;
      });
}

// host:port, stored parsed.
template <auto Section, auto Member>
ConfigKey address_key(std::string_view name, std::string_view def, bool reloadable, std::string_view doc) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc, [](std::string_view text) { return parse_listen_address(text); },
      [](const ListenAddress& address) { return address.to_string(); });
}

// turn.urls: parsed once by parse_turn_urls (core/ice_server_urls); the credential issuer hands out this
// list.
template <auto Section, auto Member>
ConfigKey ice_urls_key(std::string_view name, std::string_view def, bool reloadable, std::string_view doc) {
  return typed_key<Section, Member>(
      name, def, reloadable, doc, [](std::string_view text) { return parse_turn_urls(text); },
      [](const IceServerUrls& urls) {
        std::vector<std::string> all = urls.stun;
        all.insert(all.end(), urls.turn.begin(), urls.turn.end());
        return join(all, ", ");
      });
}

Result<std::string> checked_origin(std::string_view text) {
  if (text == "*") return std::string(text);
  if (text.starts_with("http://") || text.starts_with("https://")) {
    if (text.find_first_of(" /", text.find("//") + 2) == std::string_view::npos) return std::string(text);
  }
  return make_error("origin must be * or scheme://host[:port], got '" + std::string(text) + "'");
}

Result<std::string> checked_peer_range(std::string_view text) {
  auto dash = text.find('-');
  if (auto first = IpAddress::parse(text.substr(0, dash)); !first) return first.error();
  if (dash != std::string_view::npos) {
    if (auto last = IpAddress::parse(text.substr(dash + 1)); !last) return last.error();
  }
  return std::string(text);
}

std::string show_host_port(const HostPort& entry) {
  bool v6 = entry.host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + entry.host + "]" : entry.host;
  if (entry.port) out += ":" + std::to_string(*entry.port);
  return out;
}

std::string show_text(const std::string& text) {
  return text;
}

std::string show_cidr(const CidrRange& range) {
  return range.to_string();
}

std::string show_listen_address(const ListenAddress& address) {
  return address.to_string();
}

Result<void> validate_path(std::string_view text) {
  if (text.empty()) return make_error("must not be empty");
  for (unsigned char c : text) {
    if (c < ' ' || c == 0x7f) return make_error("must not contain control characters");
  }
  return {};
}

// An absolute path of its own: not "/", no query, no trailing slash, and clear of the REST and WebSocket
// routes.
Result<void> validate_socketio_path(std::string_view text) {
  if (text.size() < 2 || text.front() != '/' || text.back() == '/') {
    return make_error("expected an absolute path such as /socket.io, without a trailing slash");
  }
  for (char c : text) {
    if (c == '?' || c == '#' || c == '%' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return make_error("the path may not contain '?', '#', '%', spaces or control characters");
    }
  }
  for (std::string_view taken : {"/ws", "/api", "/health", "/metrics", "/rooms", "/admin", "/demo"}) {
    if (text == taken || (text.starts_with(taken) && text[taken.size()] == '/')) {
      return make_error("the path overlaps the route " + std::string(taken));
    }
  }
  return {};
}

Result<void> validate_realm(std::string_view text) {
  for (char c : text) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return make_error("realm may hold only letters, digits, '.' and '-'");
  }
  return {};
}

Result<void> validate_secret(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= ' ' || c == 0x7f) return make_error("must not contain spaces or control characters");
  }
  return {};
}

Result<void> validate_optional_ip(std::string_view text) {
  if (text.empty()) return {};
  auto parsed = IpAddress::parse(text);
  if (!parsed) return parsed.error();
  return {};
}

// Optional file names: empty or printable text.
Result<void> validate_optional_path(std::string_view text) {
  for (unsigned char c : text) {
    if (c < ' ' || c == 0x7f) return make_error("must not contain control characters");
  }
  return {};
}

// coturn's external-ip: empty, a public address, or public/private.
Result<void> validate_external_ip(std::string_view text) {
  if (text.empty()) return {};
  auto slash = text.find('/');
  if (auto public_ip = IpAddress::parse(text.substr(0, slash)); !public_ip) return public_ip.error();
  if (slash != std::string_view::npos) {
    if (auto private_ip = IpAddress::parse(text.substr(slash + 1)); !private_ip) return private_ip.error();
  }
  return {};
}

constexpr double kYear = 365.0 * 86400;
constexpr std::int64_t kMaxBytes = std::int64_t{1} << 30;

std::vector<ConfigKey> build_table() {
  using C = Config;
  return {
      // [server]
      list_key<&C::server, &ServerConfig::listen>(
          "server.listen", "127.0.0.1:8080", false,
          "Comma-separated addresses and ports for HTTP and WebSocket (IPv6 as [::1]:8080, IPv6 only: list "
          "0.0.0.0:8080, [::]:8080 for both; port 0 picks a free port); empty: none (then server.tls_listen "
          "must be set).",
          parse_listen_address, show_listen_address),
      list_key<&C::server, &ServerConfig::tls_listen>(
          "server.tls_listen", "", false,
          "Comma-separated addresses and ports for HTTPS and WSS (TLS 1.2 and 1.3), same form as "
          "server.listen; needs server.tls_certificate and server.tls_private_key.",
          parse_listen_address, show_listen_address),
      text_key<&C::server, &ServerConfig::tls_certificate>(
          "server.tls_certificate", "", true,
          "PEM file with the certificate and its intermediates (full chain) for server.tls_listen; a reload "
          "reads it again.",
          validate_optional_path),
      text_key<&C::server, &ServerConfig::tls_private_key>(
          "server.tls_private_key", "", true,
          "PEM file with the unencrypted private key of server.tls_certificate (readable by the service "
          "user).",
          validate_optional_path),
      list_key<&C::server, &ServerConfig::allowed_origins>(
          "server.allowed_origins", "*", true,
          "Comma-separated origins allowed by CORS and the WebSocket Origin check; * allows any.",
          checked_origin, show_text),
      decimal_key<&C::server, &ServerConfig::request_timeout_seconds>(
          "server.request_timeout_seconds", "10", 0.1, 3600, true,
          "Seconds a request may take to arrive completely before 408 request_timeout."),
      decimal_key<&C::server, &ServerConfig::idle_timeout_seconds>(
          "server.idle_timeout_seconds", "60", 0.1, 86400, true,
          "Seconds an idle keep-alive HTTP connection is kept open."),
      decimal_key<&C::server, &ServerConfig::shutdown_timeout_seconds>(
          "server.shutdown_timeout_seconds", "10", 0.1, 600, true,
          "On SIGTERM, seconds to wait for connections to finish before exiting."),
      list_key<&C::server, &ServerConfig::trusted_proxies>(
          "server.trusted_proxies", "", true,
          "Addresses or CIDR ranges of reverse proxies whose Forwarded / X-Forwarded-For headers are "
          "believed; "
          "empty: none.",
          CidrRange::parse, show_cidr),
      // [database]
      text_key<&C::database, &DatabaseConfig::path>(
          "database.path", "/var/lib/turnpike/turnpike.db", false,
          "The SQLite file shared with coturn (WAL mode; never replace it by renaming).", validate_path),
      choice_key<&C::database, &DatabaseConfig::synchronous>(
          "database.synchronous", "full", kSynchronousChoices, false,
          "SQLite durability: full syncs every commit; normal may lose the last commits on power loss."),
      integer_key<&C::database, &DatabaseConfig::busy_timeout_ms>(
          "database.busy_timeout_ms", "2000", 0, 60000, false,
          "Milliseconds to wait for a lock held by another process (coturn, sqlite3) before failing."),
      bool_key<&C::database, &DatabaseConfig::group_commit>(
          "database.group_commit", "true", false,
          "Commit the writes of all requests handled in one event-loop turn together (one sync); responses "
          "wait "
          "for it. false: one commit per request."),
      // [pairing]
      integer_key<&C::pairing, &PairingConfig::joinid_digits>("pairing.joinid_digits", "6", 4, 12, true,
                                                              "Number of ASCII digits in a join code."),
      integer_key<&C::pairing, &PairingConfig::max_expires_seconds>(
          "pairing.max_expires_seconds", "86400", 1, 31536000, true,
          "Largest expiresInSeconds a join code may ask for."),
      decimal_key<&C::pairing, &PairingConfig::room_ttl_seconds>(
          "pairing.room_ttl_seconds", "604800", 0.1, 10 * kYear, true,
          "Seconds a room lives without activity before it expires."),
      decimal_key<&C::pairing, &PairingConfig::sweep_interval_seconds>(
          "pairing.sweep_interval_seconds", "1", 0.05, 3600, true,
          "Seconds between sweeps that remove expired join codes and idle rooms."),
      integer_key<&C::pairing, &PairingConfig::sweep_batch_rows>(
          "pairing.sweep_batch_rows", "1000", 1, 1000000, true,
          "Most expired join codes, rooms or TURN credentials one sweep step removes; a full step runs again "
          "in the next loop turn."),
      decimal_key<&C::pairing, &PairingConfig::sweep_turn_budget_ms>(
          "pairing.sweep_turn_budget_ms", "5", 0.1, 1000, true,
          "Milliseconds one sweep step may hold the event loop: slower steps remove fewer rows (adapting "
          "down to 1), and the TURN credentials of a step that is over it wait for the next turn."),
      // [signaling]
      bool_key<&C::signaling, &SignalingConfig::require_known_room>(
          "signaling.require_known_room", "true", true,
          "WebSocket rooms must have been created through the pairing API (false: any roomId, as the "
          "reference server)."),
      decimal_key<&C::signaling, &SignalingConfig::ping_interval_seconds>(
          "signaling.ping_interval_seconds", "30", 0.1, 3600, true,
          "Seconds between WebSocket pings the server sends."),
      decimal_key<&C::signaling, &SignalingConfig::pong_timeout_seconds>(
          "signaling.pong_timeout_seconds", "60", 0.1, 7200, true,
          "Seconds without any frame from a client before its socket is closed and its seat freed; must "
          "exceed ping_interval_seconds."),
      // [limits]
      integer_key<&C::limits, &LimitsConfig::max_header_bytes>(
          "limits.max_header_bytes", "8192", 256, 1048576, true,
          "Largest HTTP request line plus headers, in bytes (431 headers_too_large)."),
      integer_key<&C::limits, &LimitsConfig::max_body_bytes>(
          "limits.max_body_bytes", "16384", 2, kMaxBytes, true,
          "Largest HTTP request body (413 body_too_large)."),
      integer_key<&C::limits, &LimitsConfig::max_message_bytes>(
          "limits.max_message_bytes", "65536", 16, kMaxBytes, true,
          "Largest WebSocket message; a larger one closes the socket with 1009."),
      integer_key<&C::limits, &LimitsConfig::max_id_bytes>(
          "limits.max_id_bytes", "128", 1, 65536, true,
          "Largest client id, device id or room id, in UTF-8 bytes."),
      integer_key<&C::limits, &LimitsConfig::max_purge_ids>(
          "limits.max_purge_ids", "1000", 1, 1000000, true,
          "Most device ids one purge request may name (400 too_many_device_ids)."),
      integer_key<&C::limits, &LimitsConfig::max_outbound_bytes>(
          "limits.max_outbound_bytes", "1048576", 1024, kMaxBytes, true,
          "Bytes queued for one socket that does not read before it is closed (WebSocket: 1008)."),
      integer_key<&C::limits, &LimitsConfig::max_outbound_bytes_per_address>(
          "limits.max_outbound_bytes_per_address", "16777216", 0, kMaxBytes, true,
          "Bytes queued for all sockets of one client address together (IPv6: per limits.ipv6_prefix_length "
          "network); a socket that holds a queue and whose message would go over it is closed (WebSocket: "
          "1008). server.trusted_proxies are not held to it. 0 = no limit."),
      integer_key<&C::limits, &LimitsConfig::max_outbound_bytes_total>(
          "limits.max_outbound_bytes_total", "268435456", 0, kMaxBytes, true,
          "Bytes queued for all sockets together, the memory slow readers may pin; a socket that holds a "
          "queue and whose message would go over it is closed (WebSocket: 1008). 0 = no limit."),
      integer_key<&C::limits, &LimitsConfig::max_connections>(
          "limits.max_connections", "10000", 1, 10000000, true,
          "Most open client connections; more get 503 too_many_connections."),
      integer_key<&C::limits, &LimitsConfig::max_connections_per_ip>(
          "limits.max_connections_per_ip", "100", 1, 10000000, true,
          "Most open connections from one TCP peer address (IPv6: per limits.ipv6_prefix_length network); "
          "server.trusted_proxies are not held to it."),
      integer_key<&C::limits, &LimitsConfig::max_pending_codes>(
          "limits.max_pending_codes", "100000", 1, 100000000, true,
          "Most live join codes; more get 503 too_many_pending_codes."),
      integer_key<&C::limits, &LimitsConfig::max_pending_codes_per_address>(
          "limits.max_pending_codes_per_address", "1000", 1, 100000000, true,
          "Most live join codes created from one client address; more get 429 "
          "too_many_pending_codes_for_address."),
      integer_key<&C::limits, &LimitsConfig::max_rooms_per_client>(
          "limits.max_rooms_per_client", "100", 1, 100000000, true,
          "Most rooms one device id may be a member of; an accept beyond it gets 403 too_many_rooms."),
      decimal_key<&C::limits, &LimitsConfig::rest_rate_per_second>(
          "limits.rest_rate_per_second", "100", 0, 1e9, true,
          "REST requests per second per client address (token bucket refill); 0 = off."),
      decimal_key<&C::limits, &LimitsConfig::rest_rate_burst>("limits.rest_rate_burst", "200", 0, 1e9, true,
                                                              "REST burst per client address."),
      decimal_key<&C::limits, &LimitsConfig::ws_messages_per_second>(
          "limits.ws_messages_per_second", "50", 0, 1e9, true,
          "WebSocket messages per second per connection; 0 = off."),
      decimal_key<&C::limits, &LimitsConfig::ws_message_burst>("limits.ws_message_burst", "200", 0, 1e9, true,
                                                               "WebSocket message burst per connection."),
      decimal_key<&C::limits, &LimitsConfig::ws_messages_per_second_per_address>(
          "limits.ws_messages_per_second_per_address", "500", 0, 1e9, true,
          "WebSocket messages per second from all connections of one client address together; 0 = off."),
      decimal_key<&C::limits, &LimitsConfig::ws_message_burst_per_address>(
          "limits.ws_message_burst_per_address", "2000", 0, 1e9, true,
          "WebSocket message burst of all connections of one client address together."),
      integer_key<&C::limits, &LimitsConfig::ws_rate_strikes>(
          "limits.ws_rate_strikes", "100", 0, 1000000000, true,
          "Dropped messages within 10 s after which a connection is closed with 1008."),
      decimal_key<&C::limits, &LimitsConfig::failed_join_per_minute>(
          "limits.failed_join_per_minute", "30", 0, 1e9, true,
          "Join-code guesses per minute per client address: every create and every failed (404) accept/check "
          "spends one; 0 = off."),
      decimal_key<&C::limits, &LimitsConfig::failed_join_global_per_minute>(
          "limits.failed_join_global_per_minute", "600", 0, 1e9, true,
          "Failed (404) accept/check attempts per minute from all addresses together (creates are not "
          "counted); 0 = off."),
      integer_key<&C::limits, &LimitsConfig::ipv6_prefix_length>(
          "limits.ipv6_prefix_length", "64", 16, 128, true,
          "Per-address limits count an IPv6 client under its network of this many bits (one subscriber "
          "usually has a whole /64); IPv4 clients count under their address. 128 = each IPv6 address alone."),
      // [admin]
      list_key<&C::admin, &AdminConfig::allow_from>(
          "admin.allow_from", "127.0.0.0/8, ::1", true,
          "Addresses or CIDR ranges allowed on /rooms, /metrics and /admin/*.", CidrRange::parse, show_cidr),
      text_key<&C::admin, &AdminConfig::socket>(
          "admin.socket", "/run/turnpike/admin.sock", false,
          "Unix socket of the admin API used by turnpikectl (mode 0660); empty: none.",
          validate_optional_path),
      list_key<&C::admin, &AdminConfig::allowed_hosts>(
          "admin.allowed_hosts", "", true,
          "Comma-separated Host names (name or name:port) admitted on admin routes besides the listen "
          "addresses' IP literals and localhost; a name alone matches any port.",
          parse_host_port, show_host_port),
      // [turn]
      choice_key<&C::turn, &TurnConfig::mode>(
          "turn.mode", "long-term", kTurnModeChoices, false,
          "long-term: one coturn user per room and device (O(1) logins); rest: one shared secret per room."),
      text_key<&C::turn, &TurnConfig::realm>("turn.realm", "", false,
                                             "coturn realm; required when turn.urls is set.", validate_realm),
      ice_urls_key<&C::turn, &TurnConfig::urls>(
          "turn.urls", "", true,
          "Comma-separated stun:/turn:/turns: URLs handed to clients; empty switches per-room TURN off."),
      decimal_key<&C::turn, &TurnConfig::ttl_seconds>("turn.ttl_seconds", "3600", 10, 30 * 86400, true,
                                                      "Lifetime of one TURN credential."),
      address_key<&C::turn, &TurnConfig::cli_address>(
          "turn.cli_address", "127.0.0.1:5766", false,
          "coturn's admin CLI (telnet), used to end revoked sessions."),
      secret(text_key<&C::turn, &TurnConfig::cli_password>(
          "turn.cli_password", "", false,
          "Password of coturn's admin CLI; empty: read from turn.cli_password_file.", validate_secret)),
      text_key<&C::turn, &TurnConfig::cli_password_file>(
          "turn.cli_password_file", "/etc/turnpike/coturn-cli-password", false,
          "File holding the CLI password when turn.cli_password is empty (the packages generate it).",
          validate_optional_path),
      text_key<&C::turn, &TurnConfig::listening_ip>("turn.listening_ip", "", false,
                                                    "Address coturn listens on; empty: all addresses.",
                                                    validate_optional_ip),
      text_key<&C::turn, &TurnConfig::relay_ip>(
          "turn.relay_ip", "", false, "Address coturn relays from (coturn relay-ip); empty: coturn's choice.",
          validate_optional_ip),
      integer_key<&C::turn, &TurnConfig::listening_port>("turn.listening_port", "3478", 1, 65535, false,
                                                         "coturn's STUN/TURN port (UDP and TCP)."),
      integer_key<&C::turn, &TurnConfig::tls_listening_port>("turn.tls_listening_port", "5349", 1, 65535,
                                                             false,
                                                             "coturn's TURN-over-TLS port (with turn.cert)."),
      integer_key<&C::turn, &TurnConfig::min_port>("turn.min_port", "49152", 1, 65535, false,
                                                   "Lowest relay port."),
      integer_key<&C::turn, &TurnConfig::max_port>("turn.max_port", "65535", 1, 65535, false,
                                                   "Highest relay port."),
      text_key<&C::turn, &TurnConfig::external_ip>(
          "turn.external_ip", "", false, "Public address of a TURN server behind NAT (coturn external-ip).",
          validate_external_ip),
      text_key<&C::turn, &TurnConfig::cert>(
          "turn.cert", "", false,
          "TLS certificate file for turns: (empty: server.tls_certificate; neither: no TLS/DTLS listeners).",
          validate_optional_path),
      text_key<&C::turn, &TurnConfig::pkey>(
          "turn.pkey", "", false, "TLS private key file for turn.cert (empty: server.tls_private_key).",
          validate_optional_path),
      list_key<&C::turn, &TurnConfig::denied_peer_ips>(
          "turn.denied_peer_ips",
          "0.0.0.0-0.255.255.255, 10.0.0.0-10.255.255.255, 100.64.0.0-100.127.255.255, "
          "127.0.0.0-127.255.255.255, "
          "169.254.0.0-169.254.255.255, 172.16.0.0-172.31.255.255, 192.0.0.0-192.0.0.255, "
          "192.168.0.0-192.168.255.255, 198.18.0.0-198.19.255.255, 240.0.0.0-255.255.255.255, ::1, "
          "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          false, "Peer address ranges (a or a-b) the relay must never reach.", checked_peer_range, show_text),
      bool_key<&C::turn, &TurnConfig::allow_loopback_peers>(
          "turn.allow_loopback_peers", "false", false,
          "Let the relay reach loopback peers (tests on one machine only)."),
      decimal_key<&C::turn, &TurnConfig::kill_retry_seconds>(
          "turn.kill_retry_seconds", "2", 0.1, 3600, true,
          "First retry interval for ending revoked sessions while coturn is unreachable (backs off to 30 "
          "s)."),
      integer_key<&C::turn, &TurnConfig::kills_per_login>(
          "turn.kills_per_login", "256", 1, 100000, true,
          "Queued session kills (rooms or credentials) done in one login to coturn's CLI."),
      // [socketio]
      text_key<&C::socketio, &SocketIoConfig::path>(
          "socketio.path", "/socket.io", false,
          "Where Engine.IO/Socket.IO clients connect (socket.io-client's `path` option).",
          validate_socketio_path),
      decimal_key<&C::socketio, &SocketIoConfig::ping_interval_seconds>(
          "socketio.ping_interval_seconds", "25", 0.1, 3600, true,
          "Seconds between the Engine.IO pings the server sends (the open packet's pingInterval)."),
      decimal_key<&C::socketio, &SocketIoConfig::ping_timeout_seconds>(
          "socketio.ping_timeout_seconds", "20", 0.1, 3600, true,
          "Seconds the server waits for the pong to a ping before the session is closed (pingTimeout)."),
      integer_key<&C::socketio, &SocketIoConfig::max_payload_bytes>(
          "socketio.max_payload_bytes", "1000000", 1024, kMaxBytes, true,
          "Largest Engine.IO packet (WebSocket message, 1009) or long-polling POST body (413); the open "
          "packet's maxPayload."),
      choice_key<&C::socketio, &SocketIoConfig::default_dialect>(
          "socketio.default_dialect", "sessions", kSocketIoDialectChoices, false,
          "The dialect served on the Socket.IO namespace \"/\" (its own namespace serves it too)."),
      integer_key<&C::socketio, &SocketIoConfig::max_sessions>(
          "socketio.max_sessions", "10000", 1, 10000000, true,
          "Most open Engine.IO sessions (long-polling or WebSocket); a handshake over it gets 503."),
      integer_key<&C::socketio, &SocketIoConfig::max_sessions_per_address>(
          "socketio.max_sessions_per_address", "100", 1, 10000000, true,
          "Most open Engine.IO sessions of one client address (IPv6: per limits.ipv6_prefix_length "
          "network)."),
      decimal_key<&C::socketio, &SocketIoConfig::connect_timeout_seconds>(
          "socketio.connect_timeout_seconds", "45", 0.1, 3600, true,
          "Seconds an Engine.IO session may stay open without a connected Socket.IO namespace."),
      // [sessions]
      integer_key<&C::sessions, &SessionsConfig::max_members>(
          "sessions.max_members", "8", 1, 10000, true,
          "Most sockets in one session of the session dialect; one more gets connect_error \"Session is "
          "full\"."),
      decimal_key<&C::sessions, &SessionsConfig::connect_attempts_per_second>(
          "sessions.connect_attempts_per_second", "10", 0, 1e9, true,
          "Socket.IO connects per userId per second in the session dialect (fixed one-second window, as the "
          "seed); more get \"Rate limit exceeded\"; 0 = off."),
      decimal_key<&C::sessions, &SessionsConfig::turn_grace_seconds>(
          "sessions.turn_grace_seconds", "30", 0, 86400, true,
          "Seconds a session's TURN credentials outlive its last member before they are revoked."),
      // [log]
      choice_key<&C::log, &LogConfig::level>("log.level", "info", kLogLevelChoices, true,
                                             "Lowest level written to stderr."),
  };
}

}  // namespace

std::string_view to_string(SqliteSynchronous value) {
  return choice_text(kSynchronousChoices, value);
}

std::string_view to_string(TurnMode value) {
  return choice_text(kTurnModeChoices, value);
}

std::string_view to_string(SocketIoDialect value) {
  return choice_text(kSocketIoDialectChoices, value);
}

std::string_view to_string(LogLevel value) {
  return choice_text(kLogLevelChoices, value);
}

std::string printable_value(const ConfigKey& key, const Config& config) {
  return key.secret ? std::string("(secret)") : key.show(config);
}

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> table = build_table();
  return table;
}

const ConfigKey* find_config_key(std::string_view name) {
  for (const auto& key : config_keys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

}  // namespace turnpike
