// The daemon's configuration: typed values, the table that declares every key once, and file loading.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/host_header.hpp"
#include "core/ice_server_urls.hpp"
#include "core/log.hpp"
#include "core/result.hpp"

namespace turnpike {

// Every value below is stored as its key's parser produced it: the text in the file is parsed once, when
// the file is loaded, and the daemon uses these values as they are.

enum class SqliteSynchronous { full, normal };
enum class TurnMode { long_term, rest };
// The dialect served on the Socket.IO namespace "/".
enum class SocketIoDialect { sessions };
std::string_view to_string(SqliteSynchronous value);  // "full", "normal"
std::string_view to_string(TurnMode value);           // "long-term", "rest"
std::string_view to_string(LogLevel value);           // "debug", "info", "warn", "error"
std::string_view to_string(SocketIoDialect value);    // "sessions"

struct ServerConfig {
  std::vector<ListenAddress> listen{{"127.0.0.1", 8080}};
  std::vector<ListenAddress> tls_listen;
  std::string tls_certificate;
  std::string tls_private_key;
  std::vector<std::string> allowed_origins{"*"};
  double request_timeout_seconds = 10;
  double idle_timeout_seconds = 60;
  double shutdown_timeout_seconds = 10;
  // Reverse proxies whose Forwarded / X-Forwarded-For headers name the real client (docs/SETUP.md).
  std::vector<CidrRange> trusted_proxies;
};

struct DatabaseConfig {
  std::string path = "/var/lib/turnpike/turnpike.db";
  SqliteSynchronous synchronous = SqliteSynchronous::full;
  std::int64_t busy_timeout_ms = 2000;
  bool group_commit = true;
};

struct PairingConfig {
  std::int64_t joinid_digits = 6;
  std::int64_t max_expires_seconds = 86400;
  double room_ttl_seconds = 604800;
  double sweep_interval_seconds = 1;
  std::int64_t sweep_batch_rows = 1000;
  double sweep_turn_budget_ms = 5;
};

struct SignalingConfig {
  bool require_known_room = true;
  double ping_interval_seconds = 30;
  double pong_timeout_seconds = 60;
};

struct LimitsConfig {
  std::int64_t max_header_bytes = 8192;
  std::int64_t max_body_bytes = 16384;
  std::int64_t max_message_bytes = 65536;
  std::int64_t max_id_bytes = 128;
  std::int64_t max_purge_ids = 1000;
  std::int64_t max_outbound_bytes = 1048576;
  std::int64_t max_outbound_bytes_per_address = 16777216;
  std::int64_t max_outbound_bytes_total = 268435456;
  std::int64_t max_connections = 10000;
  std::int64_t max_connections_per_ip = 100;
  std::int64_t max_pending_codes = 100000;
  std::int64_t max_pending_codes_per_address = 1000;
  std::int64_t max_rooms_per_client = 100;
  double rest_rate_per_second = 100;
  double rest_rate_burst = 200;
  double ws_messages_per_second = 50;
  double ws_message_burst = 200;
  double ws_messages_per_second_per_address = 500;
  double ws_message_burst_per_address = 2000;
  std::int64_t ws_rate_strikes = 100;
  double failed_join_per_minute = 30;
  double failed_join_global_per_minute = 600;
  std::int64_t ipv6_prefix_length = 64;
};

struct AdminConfig {
  std::vector<CidrRange> allow_from{*CidrRange::parse("127.0.0.0/8"), *CidrRange::parse("::1")};
  std::string socket = "/run/turnpike/admin.sock";
  std::vector<HostPort> allowed_hosts;  // Host names admitted on admin routes besides the listen addresses
};

struct TurnConfig {
  TurnMode mode = TurnMode::long_term;
  std::string realm;
  IceServerUrls urls;
  double ttl_seconds = 3600;
  ListenAddress cli_address{"127.0.0.1", 5766};
  std::string cli_password;
  std::string cli_password_file = "/etc/turnpike/coturn-cli-password";
  std::string listening_ip;
  std::string relay_ip;
  std::int64_t listening_port = 3478;
  std::int64_t tls_listening_port = 5349;
  std::int64_t min_port = 49152;
  std::int64_t max_port = 65535;
  std::string external_ip;
  std::string cert;
  std::string pkey;
  std::vector<std::string> denied_peer_ips{kDefaultDeniedPeerIps.begin(), kDefaultDeniedPeerIps.end()};
  bool allow_loopback_peers = false;
  double kill_retry_seconds = 2;
  std::int64_t kills_per_login = 256;

  // Private, loopback, link-local, shared (CGNAT), benchmark and reserved ranges: a relay must not reach
  // them.
  static constexpr std::array<std::string_view, 13> kDefaultDeniedPeerIps = {
      "0.0.0.0-0.255.255.255",
      "10.0.0.0-10.255.255.255",
      "100.64.0.0-100.127.255.255",
      "127.0.0.0-127.255.255.255",
      "169.254.0.0-169.254.255.255",
      "172.16.0.0-172.31.255.255",
      "192.0.0.0-192.0.0.255",
      "192.168.0.0-192.168.255.255",
      "198.18.0.0-198.19.255.255",
      "240.0.0.0-255.255.255.255",
      "::1",
      "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
  bool enabled() const { return !urls.stun.empty() || !urls.turn.empty(); }
};

struct SocketIoConfig {
  std::string path = "/socket.io";
  double ping_interval_seconds = 25;
  double ping_timeout_seconds = 20;
  std::int64_t max_payload_bytes = 1000000;
  SocketIoDialect default_dialect = SocketIoDialect::sessions;
  std::int64_t max_sessions = 10000;
  std::int64_t max_sessions_per_address = 100;
  double connect_timeout_seconds = 45;
};

// The session dialect (seed 002).
struct SessionsConfig {
  std::int64_t max_members = 8;
  double connect_attempts_per_second = 10;
  double turn_grace_seconds = 30;
};

struct LogConfig {
  LogLevel level = LogLevel::info;
};

struct Config {
  ServerConfig server;
  DatabaseConfig database;
  PairingConfig pairing;
  SignalingConfig signaling;
  LimitsConfig limits;
  AdminConfig admin;
  TurnConfig turn;
  SocketIoConfig socketio;
  SessionsConfig sessions;
  LogConfig log;

  // Derived from several keys, in one place (load_config_file), after a reload has restored the keys that
  // need a restart.
  bool any_origin = true;  // server.allowed_origins holds "*"
  // turn.cli_password, or else the content of turn.cli_password_file. Both keys need a restart, so a reload
  // keeps the running value.
  std::string turn_cli_password;
};

// One declared key. `parse` is the key's only parser: it stores a textual value, parsed, into a Config (or
// explains why it cannot); the daemon and --check-config both go through it. `show` renders the stored
// value in canonical textual form, which `parse` reads back to the same value. `copy` copies the key's value
// from one Config to another (a reload keeps restart-only keys this way).
struct ConfigKey {
  std::string_view name;  // "section.key"
  std::string_view default_value;
  bool reloadable;
  std::string_view doc;
  std::function<Result<void>(Config&, std::string_view)> parse;
  std::function<std::string(const Config&)> show;
  std::function<void(Config& to, const Config& from)> copy;
  // The value must never be printed: logs and error messages name the key only.
  bool secret = false;
};

// `show` for values that may be printed: secret keys read "(secret)".
std::string printable_value(const ConfigKey& key, const Config& config);

const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(std::string_view name);

// Parses INI text. Errors read `<origin>:<line>: <reason>`.
Result<Config> parse_config(std::string_view text, std::string_view origin);

// Reads and parses a config file and computes the derived values. Startup and --check-config pass no
// `running`; a reload passes the running config, whose restart-only keys (and the values derived from them)
// then replace the file's, and whose names are listed in `restart_required` when the file changed them.
Result<Config> load_config_file(const std::string& path, const Config* running = nullptr,
                                std::vector<std::string_view>* restart_required = nullptr);

// Keys whose rendered values differ between two configs, in table order.
std::vector<std::string_view> changed_keys(const Config& before, const Config& after);

// The shipped config file text: every key, commented, at its default.
std::string render_default_config();
// The key table as a Markdown table for docs/CONFIG.md.
std::string render_config_reference();
// The key table as the turnpike.conf(5) man page (roff).
std::string render_config_man();

}  // namespace turnpike
