// Config parsing: the key table, file errors with file:line, reload diffs, and the shipped conf file.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "core/config.hpp"
#include "core/text.hpp"
#include "turn-auth/ice_servers.hpp"

namespace turnpike {
namespace {

TEST(Config, EmptyFileGivesDefaults) {
  auto config = parse_config("", "t.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server.listen, (std::vector<ListenAddress>{{"127.0.0.1", 8080}}));
  EXPECT_TRUE(config->server.tls_listen.empty());
  EXPECT_EQ(config->limits.max_body_bytes, 16384);
  EXPECT_TRUE(config->signaling.require_known_room);
  EXPECT_TRUE(config->any_origin);
  EXPECT_EQ(config->admin.allow_from.size(), 2u);
}

TEST(Config, ParsesSectionsCommentsAndValues) {
  auto config = parse_config(
      "# comment\n; other comment\n\n[server]\nlisten = [::1]:9000\nallowed_origins = https://a.example, "
      "http://b.example:8080\n[limits]\nmax_body_bytes=100\nrest_rate_per_second = 0\n[signaling]\n"
      "ping_interval_seconds = 0.2\npong_timeout_seconds = 0.5\nrequire_known_room = false\n",
      "t.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server.listen, (std::vector<ListenAddress>{{"::1", 9000}}));
  EXPECT_EQ(config->server.allowed_origins,
            (std::vector<std::string>{"https://a.example", "http://b.example:8080"}));
  EXPECT_FALSE(config->any_origin);
  EXPECT_EQ(config->limits.max_body_bytes, 100);
  EXPECT_EQ(config->limits.rest_rate_per_second, 0);
  EXPECT_DOUBLE_EQ(config->signaling.ping_interval_seconds, 0.2);
  EXPECT_FALSE(config->signaling.require_known_room);
}

struct BadConfig {
  std::string text;
  std::string expected;  // prefix of the error
};

class ConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, ReportFileAndLine) {
  auto config = parse_config(GetParam().text, "bad.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.rfind(GetParam().expected, 0), 0u) << config.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    ::testing::Values(
        BadConfig{"[nope]\n", "bad.conf:1: unknown section"},
        BadConfig{"[server]\nlisten = 1.2.3.4:8080\nbogus = 1\n", "bad.conf:3: unknown key server.bogus"},
        BadConfig{"listen = x\n", "bad.conf:1: key outside"},
        BadConfig{"[server]\njust words\n", "bad.conf:2: expected 'key = value'"},
        BadConfig{"[limits]\nmax_body_bytes = 12abc\n",
                  "bad.conf:2: limits.max_body_bytes: expected an integer"},
        BadConfig{"[limits]\nmax_body_bytes = 1\n", "bad.conf:2: limits.max_body_bytes: must be between"},
        BadConfig{"[limits]\nmax_body_bytes = 100\nmax_body_bytes = 200\n", "bad.conf:3: duplicate key"},
        BadConfig{"[server]\nlisten = localhost:80\n", "bad.conf:2: server.listen: host must be an IP"},
        BadConfig{"[server]\nlisten = 127.0.0.1:99999\n", "bad.conf:2: server.listen: bad port"},
        BadConfig{"[server]\nlisten = 127.0.0.1:80, localhost:81\n",
                  "bad.conf:2: server.listen: host must be an IP"},
        BadConfig{"[server]\nlisten =\n",
                  "bad.conf:2: server.listen or server.tls_listen must name an address"},
        BadConfig{"[server]\ntls_listen = 127.0.0.1:8443\ntls_certificate = /c.pem\n",
                  "bad.conf:3: server.tls_listen is set, so server.tls_certificate and "
                  "server.tls_private_key must be set too"},
        BadConfig{"[server]\ntls_listen = 127.0.0.1:8443\ntls_private_key = /k.pem\n",
                  "bad.conf:3: server.tls_listen is set, so server.tls_certificate"},
        BadConfig{"[signaling]\nrequire_known_room = yes\n", "bad.conf:2: signaling.require_known_room"},
        BadConfig{"[database]\nsynchronous = off\n", "bad.conf:2: database.synchronous: expected one of"},
        BadConfig{"[admin]\nallow_from = 10.0.0.0/33\n", "bad.conf:2: admin.allow_from"},
        BadConfig{"[server]\nallowed_origins = example.com\n", "bad.conf:2: server.allowed_origins"},
        BadConfig{"[signaling]\nping_interval_seconds = 0.05\n",
                  "bad.conf:2: signaling.ping_interval_seconds"},
        BadConfig{"[signaling]\nping_interval_seconds = 30\npong_timeout_seconds = 30\n",
                  "bad.conf:3: signaling.pong_timeout_seconds must be greater"},
        BadConfig{"[server\n", "bad.conf:1: section header"}));

TEST(Config, MissingFileIsAnError) {
  auto config = load_config_file("/nonexistent/turnpike.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("/nonexistent/turnpike.conf:0:"), std::string::npos);
}

// A config file and a CLI password file in the test's temp dir, removed afterwards.
class TurnPasswordFile : public ::testing::Test {
 protected:
  void TearDown() override {
    std::remove(conf_path_.c_str());
    std::remove(password_path_.c_str());
  }
  Result<Config> load(const std::string& turn_section, const char* password_content) {
    if (password_content != nullptr) std::ofstream(password_path_) << password_content;
    std::ofstream(conf_path_) << "[turn]\nrealm = example.org\nurls = turn:t.example.org:3478\n"
                              << turn_section;
    return load_config_file(conf_path_);
  }
  std::string conf_path_ = testing::TempDir() + "turnpike_pwfile_" + std::to_string(::getpid()) + ".conf";
  std::string password_path_ = testing::TempDir() + "turnpike_pwfile_" + std::to_string(::getpid()) + ".pw";
};

TEST_F(TurnPasswordFile, InlinePasswordWinsOverTheFile) {
  auto config = load("cli_password = inline\ncli_password_file = " + password_path_ + "\n", "from-file\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->turn_cli_password, "inline");
}

TEST_F(TurnPasswordFile, EmptyPasswordIsReadFromTheFileAndTrimmed) {
  auto config = load("cli_password_file = " + password_path_ + "\n", "0123abcd\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->turn_cli_password, "0123abcd");
}

TEST_F(TurnPasswordFile, MissingFileNamesTheFile) {
  auto config = load("cli_password_file = " + password_path_ + "\n", nullptr);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("cannot open " + password_path_), std::string::npos)
      << config.error().message;
}

TEST_F(TurnPasswordFile, EmptyFileIsAnError) {
  auto config = load("cli_password_file = " + password_path_ + "\n", " \n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find(password_path_ + " is empty"), std::string::npos)
      << config.error().message;
}

TEST_F(TurnPasswordFile, NeitherPasswordNorFileIsAnErrorOnTheTurnLine) {
  auto config = load("cli_password_file =\n", nullptr);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            conf_path_ + ":4: turn.urls is set, so turn.cli_password or turn.cli_password_file must be set");
}

TEST(Config, TurnWithoutRealmIsAnError) {
  auto config = parse_config("[turn]\ncli_password = pw\nurls = turn:t.example.org\n", "t.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "t.conf:3: turn.urls is set, so turn.realm must be set too");
}

TEST(Config, TurnCertAndKeyGoTogether) {
  const std::string base = "[turn]\nrealm = t\ncli_password = pw\nurls = turn:t.example.org\n";
  for (const char* only : {"cert = /etc/t/fullchain.pem\n", "pkey = /etc/t/privkey.pem\n"}) {
    auto config = parse_config(base + only, "t.conf");
    ASSERT_FALSE(config.ok()) << only;
    EXPECT_EQ(config.error().message, "t.conf:5: turn.cert and turn.pkey must be set together") << only;
  }
  EXPECT_TRUE(parse_config(base + "cert = /etc/t/fullchain.pem\npkey = /etc/t/privkey.pem\n", "t.conf").ok());
}

TEST(Config, ChangedKeysListsDifferences) {
  auto a = parse_config("", "a");
  auto b = parse_config("[limits]\nmax_body_bytes = 100\n[log]\nlevel = debug\n", "b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto changed = changed_keys(*a, *b);
  EXPECT_EQ(changed, (std::vector<std::string_view>{"limits.max_body_bytes", "log.level"}));
}

TEST(Config, EveryDefaultParsesToItself) {
  Config defaults;
  for (const auto& key : config_keys()) {
    Config probe;
    ASSERT_TRUE(key.parse(probe, key.default_value).ok()) << key.name;
    EXPECT_EQ(key.show(probe), key.show(defaults))
        << key.name << ": table default differs from the struct default";
  }
}

// Reads "[section]" and "# key = value" lines of a conf file into {"section.key": value}.
std::map<std::string, std::string> commented_keys(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    auto t = trim(line);
    if (t.starts_with("[")) {
      section = std::string(t.substr(1, t.size() - 2));
    } else if (t.starts_with("# ") && t.find(" =") != std::string_view::npos &&
               t.find(' ', 2) == t.find(" =")) {
      auto body = t.substr(2);
      auto eq = body.find(" =");
      out[section + "." + std::string(body.substr(0, eq))] = std::string(trim(body.substr(eq + 2)));
    }
  }
  return out;
}

TEST(Config, ShippedConfListsEveryKeyAtItsDefault) {
  std::ifstream file(std::string(TURNPIKE_SOURCE_DIR) + "/conf/turnpike.conf");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), render_default_config()) << "regenerate with: turnpiked --print-default-config";
  auto listed = commented_keys(text.str());
  for (const auto& key : config_keys()) {
    ASSERT_TRUE(listed.count(std::string(key.name))) << key.name << " missing from conf/turnpike.conf";
    EXPECT_EQ(listed[std::string(key.name)], key.default_value) << key.name;
  }
  EXPECT_EQ(listed.size(), config_keys().size());
}

TEST(Config, ReferenceDocumentsEveryKey) {
  std::ifstream file(std::string(TURNPIKE_SOURCE_DIR) + "/docs/CONFIG.md");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  for (const auto& key : config_keys()) {
    std::string row = "| `" + std::string(key.name) + "` | `" + std::string(key.default_value) + "` |";
    EXPECT_NE(text.str().find(row), std::string::npos) << "docs/CONFIG.md lacks the row starting " << row;
  }
}

// One row per key: a value other than the default that must parse, the canonical text `show` renders for
// it, what the daemon then sees (the typed field its users read), and values that must be refused.
struct KeyCase {
  std::string_view key;
  std::string good;
  std::string canonical;
  std::function<bool(const Config&)> used;
  std::vector<std::string> bad;
};

std::vector<KeyCase> key_cases() {
  using Urls = IceServerUrls;
  return {
      {"server.listen",
       "0.0.0.0:8080,[::]:8080 ,",
       "0.0.0.0:8080, [::]:8080",
       [](const Config& c) {
         return c.server.listen == std::vector<ListenAddress>{{"0.0.0.0", 8080}, {"::", 8080}};
       },
       {"localhost:80", "127.0.0.1:99999", "::1:80", "[::1]", "127.0.0.1", "127.0.0.1:80, x"}},
      {"server.tls_listen",
       "127.0.0.1:8443, [::1]:0",
       "127.0.0.1:8443, [::1]:0",
       [](const Config& c) {
         return c.server.tls_listen == std::vector<ListenAddress>{{"127.0.0.1", 8443}, {"::1", 0}};
       },
       {"localhost:443", "127.0.0.1:70000", "127.0.0.1"}},
      {"server.tls_certificate",
       "/etc/turnpike/tls/fullchain.pem",
       "/etc/turnpike/tls/fullchain.pem",
       [](const Config& c) { return c.server.tls_certificate == "/etc/turnpike/tls/fullchain.pem"; },
       {"/etc/\x7f", "/etc/\x01/cert"}},
      {"server.tls_private_key",
       "/etc/turnpike/tls/privkey.pem",
       "/etc/turnpike/tls/privkey.pem",
       [](const Config& c) { return c.server.tls_private_key == "/etc/turnpike/tls/privkey.pem"; },
       {"/etc/\x01key"}},
      {"server.allowed_origins",
       "https://a.example,http://b.example:8080 ,",
       "https://a.example, http://b.example:8080",
       [](const Config& c) {
         return c.server.allowed_origins ==
                std::vector<std::string>{"https://a.example", "http://b.example:8080"};
       },
       {"example.com", "https://a.example/path", "*, ftp://x"}},
      {"server.trusted_proxies",
       "127.0.0.1,  ::1, 10.0.0.0/8",
       "127.0.0.1, ::1, 10.0.0.0/8",
       [](const Config& c) {
         const auto& ranges = c.server.trusted_proxies;
         return ranges.size() == 3 && ranges[0].contains(*IpAddress::parse("127.0.0.1")) &&
                !ranges[0].contains(*IpAddress::parse("127.0.0.2")) &&
                ranges[1].contains(*IpAddress::parse("::1")) &&
                ranges[2].contains(*IpAddress::parse("10.2.3.4"));
       },
       {"10.0.0.0/33", "localhost", "127.0.0.1:80"}},
      {"server.request_timeout_seconds",
       "0.5",
       "0.5",
       [](const Config& c) { return c.server.request_timeout_seconds == 0.5; },
       {"0", "abc", "1e3", "-1"}},
      {"server.idle_timeout_seconds",
       "120",
       "120",
       [](const Config& c) { return c.server.idle_timeout_seconds == 120; },
       {"0.01", "86401"}},
      {"server.shutdown_timeout_seconds",
       "2.5",
       "2.5",
       [](const Config& c) { return c.server.shutdown_timeout_seconds == 2.5; },
       {"0", "601", "nan", "inf"}},
      {"database.path",
       "/tmp/x.db",
       "/tmp/x.db",
       [](const Config& c) { return c.database.path == "/tmp/x.db"; },
       {"", "a\tb"}},
      {"database.synchronous",
       "normal",
       "normal",
       [](const Config& c) { return c.database.synchronous == SqliteSynchronous::normal; },
       {"off", "FULL", ""}},
      {"database.busy_timeout_ms",
       "0",
       "0",
       [](const Config& c) { return c.database.busy_timeout_ms == 0; },
       {"-1", "60001", "1.5"}},
      {"database.group_commit",
       "false",
       "false",
       [](const Config& c) { return !c.database.group_commit; },
       {"no", "0", ""}},
      {"pairing.joinid_digits",
       "12",
       "12",
       [](const Config& c) { return c.pairing.joinid_digits == 12; },
       {"3", "13"}},
      {"pairing.max_expires_seconds",
       "60",
       "60",
       [](const Config& c) { return c.pairing.max_expires_seconds == 60; },
       {"0", "31536001"}},
      {"pairing.room_ttl_seconds",
       "3600",
       "3600",
       [](const Config& c) { return c.pairing.room_ttl_seconds == 3600; },
       {"0", "x"}},
      {"pairing.sweep_interval_seconds",
       "0.25",
       "0.25",
       [](const Config& c) { return c.pairing.sweep_interval_seconds == 0.25; },
       {"0", "0.01"}},
      {"signaling.require_known_room",
       "false",
       "false",
       [](const Config& c) { return !c.signaling.require_known_room; },
       {"yes"}},
      {"signaling.ping_interval_seconds",
       "5",
       "5",
       [](const Config& c) { return c.signaling.ping_interval_seconds == 5; },
       {"0.05", "3601"}},
      {"signaling.pong_timeout_seconds",
       "90",
       "90",
       [](const Config& c) { return c.signaling.pong_timeout_seconds == 90; },
       {"0", "7201"}},
      {"limits.max_header_bytes",
       "4096",
       "4096",
       [](const Config& c) { return c.limits.max_header_bytes == 4096; },
       {"255", "1048577"}},
      {"limits.max_body_bytes",
       "100",
       "100",
       [](const Config& c) { return c.limits.max_body_bytes == 100; },
       {"1", "12abc"}},
      {"limits.max_message_bytes",
       "16",
       "16",
       [](const Config& c) { return c.limits.max_message_bytes == 16; },
       {"15"}},
      {"limits.max_id_bytes",
       "64",
       "64",
       [](const Config& c) { return c.limits.max_id_bytes == 64; },
       {"0", "65537"}},
      {"limits.max_purge_ids",
       "10",
       "10",
       [](const Config& c) { return c.limits.max_purge_ids == 10; },
       {"0"}},
      {"limits.max_outbound_bytes",
       "2048",
       "2048",
       [](const Config& c) { return c.limits.max_outbound_bytes == 2048; },
       {"1023"}},
      {"limits.max_outbound_bytes_per_address",
       "0",
       "0",
       [](const Config& c) { return c.limits.max_outbound_bytes_per_address == 0; },
       {"-1", "1e3"}},
      {"limits.max_outbound_bytes_total",
       "1048576",
       "1048576",
       [](const Config& c) { return c.limits.max_outbound_bytes_total == 1048576; },
       {"-5", "many"}},
      {"limits.max_connections",
       "5",
       "5",
       [](const Config& c) { return c.limits.max_connections == 5; },
       {"0"}},
      {"limits.max_connections_per_ip",
       "7",
       "7",
       [](const Config& c) { return c.limits.max_connections_per_ip == 7; },
       {"0"}},
      {"limits.max_pending_codes",
       "9",
       "9",
       [](const Config& c) { return c.limits.max_pending_codes == 9; },
       {"0"}},
      {"limits.max_pending_codes_per_address",
       "4",
       "4",
       [](const Config& c) { return c.limits.max_pending_codes_per_address == 4; },
       {"0"}},
      {"limits.max_rooms_per_client",
       "5",
       "5",
       [](const Config& c) { return c.limits.max_rooms_per_client == 5; },
       {"0"}},
      {"limits.rest_rate_per_second",
       "0",
       "0",
       [](const Config& c) { return c.limits.rest_rate_per_second == 0; },
       {"-0.5"}},
      {"limits.rest_rate_burst",
       "1.5",
       "1.5",
       [](const Config& c) { return c.limits.rest_rate_burst == 1.5; },
       {"-1"}},
      {"limits.ws_messages_per_second",
       "0",
       "0",
       [](const Config& c) { return c.limits.ws_messages_per_second == 0; },
       {"x"}},
      {"limits.ws_message_burst",
       "3",
       "3",
       [](const Config& c) { return c.limits.ws_message_burst == 3; },
       {"-3"}},
      {"limits.ws_messages_per_second_per_address",
       "0",
       "0",
       [](const Config& c) { return c.limits.ws_messages_per_second_per_address == 0; },
       {"-1", "fast"}},
      {"limits.ws_message_burst_per_address",
       "7.5",
       "7.5",
       [](const Config& c) { return c.limits.ws_message_burst_per_address == 7.5; },
       {"-7"}},
      {"limits.ws_rate_strikes",
       "0",
       "0",
       [](const Config& c) { return c.limits.ws_rate_strikes == 0; },
       {"-1"}},
      {"limits.failed_join_per_minute",
       "0",
       "0",
       [](const Config& c) { return c.limits.failed_join_per_minute == 0; },
       {"1e9x"}},
      {"limits.failed_join_global_per_minute",
       "12.5",
       "12.5",
       [](const Config& c) { return c.limits.failed_join_global_per_minute == 12.5; },
       {"-1"}},
      {"limits.ipv6_prefix_length",
       "48",
       "48",
       [](const Config& c) { return c.limits.ipv6_prefix_length == 48; },
       {"15", "129", "64.5"}},
      {"admin.allow_from",
       "10.0.0.0/8,  2001:db8::/32, 192.168.1.5",
       "10.0.0.0/8, 2001:db8::/32, 192.168.1.5",
       [](const Config& c) {
         const auto& ranges = c.admin.allow_from;
         return ranges.size() == 3 && ranges[0].contains(*IpAddress::parse("10.9.8.7")) &&
                !ranges[0].contains(*IpAddress::parse("11.0.0.1")) &&
                ranges[1].contains(*IpAddress::parse("2001:db8::1")) &&
                ranges[2].contains(*IpAddress::parse("192.168.1.5")) &&
                !ranges[2].contains(*IpAddress::parse("192.168.1.6"));
       },
       {"10.0.0.0/33", "::1/129", "localhost", "10.0.0.0/"}},
      {"admin.socket", "", "", [](const Config& c) { return c.admin.socket.empty(); }, {"/run/a\tb"}},
      {"admin.allowed_hosts",
       "Turnpike.Example,  ops.example:8443, [2001:db8::1]:80,",
       "turnpike.example, ops.example:8443, [2001:db8::1]:80",
       [](const Config& c) {
         return c.admin.allowed_hosts == std::vector<HostPort>{{"turnpike.example", std::nullopt},
                                                               {"ops.example", 8443},
                                                               {"2001:db8::1", 80}};
       },
       {"https://turnpike.example", "a b", "host:0", "host:70000", "::1", "[::1", ":8080", "bad_name"}},
      {"turn.mode",
       "rest",
       "rest",
       [](const Config& c) { return c.turn.mode == TurnMode::rest; },
       {"long_term", "REST"}},
      {"turn.realm",
       "example.org",
       "example.org",
       [](const Config& c) { return c.turn.realm == "example.org"; },
       {"example org", "a/b"}},
      {"turn.urls",
       "turns:t.example.org:5349?transport=tcp, stun:s.example.org,,turn:t.example.org",
       "stun:s.example.org, turns:t.example.org:5349?transport=tcp, turn:t.example.org",
       [](const Config& c) {
         Urls expected{{"stun:s.example.org"},
                       {"turns:t.example.org:5349?transport=tcp", "turn:t.example.org"}};
         return c.turn.urls.stun == expected.stun && c.turn.urls.turn == expected.turn && c.turn.enabled();
       },
       {"turn:", "stun:", "turns:", "http://t.example.org", "TURN:t.example.org",
        "turn:t.example.org, turn:"}},
      {"turn.ttl_seconds",
       "600",
       "600",
       [](const Config& c) { return c.turn.ttl_seconds == 600; },
       {"9", "2592001"}},
      {"turn.cli_address",
       "[::1]:5766",
       "[::1]:5766",
       [](const Config& c) {
         auto socket = to_socket_address(c.turn.cli_address);
         return c.turn.cli_address == ListenAddress{"::1", 5766} && socket.ok() &&
                socket->family() == AF_INET6 && socket->length == sizeof(sockaddr_in6) &&
                ntohs(reinterpret_cast<const sockaddr_in6*>(socket->get())->sin6_port) == 5766;
       },
       {"coturn:5766", "[::1]:65536", "127.0.0.1"}},
      {"turn.cli_password",
       "s3cret",
       "s3cret",
       [](const Config& c) { return c.turn.cli_password == "s3cret"; },
       {"two words", "tab\there"}},
      {"turn.cli_password_file",
       "/etc/x",
       "/etc/x",
       [](const Config& c) { return c.turn.cli_password_file == "/etc/x"; },
       {"/etc/\x01"}},
      {"turn.listening_ip",
       "::",
       "::",
       [](const Config& c) { return c.turn.listening_ip == "::"; },
       {"0.0.0", "host"}},
      {"turn.relay_ip",
       "10.0.0.2",
       "10.0.0.2",
       [](const Config& c) { return c.turn.relay_ip == "10.0.0.2"; },
       {"10.0.0.256"}},
      {"turn.listening_port",
       "3479",
       "3479",
       [](const Config& c) { return c.turn.listening_port == 3479; },
       {"0", "65536"}},
      {"turn.tls_listening_port",
       "443",
       "443",
       [](const Config& c) { return c.turn.tls_listening_port == 443; },
       {"0"}},
      {"turn.min_port", "1000", "1000", [](const Config& c) { return c.turn.min_port == 1000; }, {"70000"}},
      {"turn.max_port", "60000", "60000", [](const Config& c) { return c.turn.max_port == 60000; }, {"0"}},
      {"turn.external_ip",
       "203.0.113.5/10.0.0.5",
       "203.0.113.5/10.0.0.5",
       [](const Config& c) { return c.turn.external_ip == "203.0.113.5/10.0.0.5"; },
       {"turn.example.org", "203.0.113.5/x"}},
      {"turn.cert",
       "/etc/ssl/t.pem",
       "/etc/ssl/t.pem",
       [](const Config& c) { return c.turn.cert == "/etc/ssl/t.pem"; },
       {"/etc/\x7f"}},
      {"turn.pkey",
       "/etc/ssl/t.key",
       "/etc/ssl/t.key",
       [](const Config& c) { return c.turn.pkey == "/etc/ssl/t.key"; },
       {"/a\tb"}},
      {"turn.denied_peer_ips",
       "10.0.0.0-10.255.255.255, ::1",
       "10.0.0.0-10.255.255.255, ::1",
       [](const Config& c) {
         return c.turn.denied_peer_ips == std::vector<std::string>{"10.0.0.0-10.255.255.255", "::1"};
       },
       {"10.0.0.0/8", "10.0.0.0-x"}},
      {"turn.allow_loopback_peers",
       "true",
       "true",
       [](const Config& c) { return c.turn.allow_loopback_peers; },
       {"1"}},
      {"pairing.sweep_batch_rows",
       "50",
       "50",
       [](const Config& c) { return c.pairing.sweep_batch_rows == 50; },
       {"0", "1000001", "1.5"}},
      {"pairing.sweep_turn_budget_ms",
       "2.5",
       "2.5",
       [](const Config& c) { return c.pairing.sweep_turn_budget_ms == 2.5; },
       {"0", "1001", "fast"}},
      {"turn.kill_retry_seconds",
       "0.5",
       "0.5",
       [](const Config& c) { return c.turn.kill_retry_seconds == 0.5; },
       {"0"}},
      {"turn.kills_per_login",
       "16",
       "16",
       [](const Config& c) { return c.turn.kills_per_login == 16; },
       {"0", "100001", "many"}},
      {"socketio.path",
       "/rtc/socket.io",
       "/rtc/socket.io",
       [](const Config& c) { return c.socketio.path == "/rtc/socket.io"; },
       {"", "/", "socket.io", "/socket.io/", "/ws", "/api/x", "/a?b", "/a b"}},
      {"socketio.ping_interval_seconds",
       "1.5",
       "1.5",
       [](const Config& c) { return c.socketio.ping_interval_seconds == 1.5; },
       {"0", "-1", "soon"}},
      {"socketio.ping_timeout_seconds",
       "2",
       "2",
       [](const Config& c) { return c.socketio.ping_timeout_seconds == 2; },
       {"0", "3601"}},
      {"socketio.max_payload_bytes",
       "4096",
       "4096",
       [](const Config& c) { return c.socketio.max_payload_bytes == 4096; },
       {"1023", "big"}},
      {"socketio.default_dialect",
       "sessions",
       "sessions",
       [](const Config& c) { return c.socketio.default_dialect == SocketIoDialect::sessions; },
       {"rooms2", "", "Sessions"}},
      {"socketio.max_sessions",
       "3",
       "3",
       [](const Config& c) { return c.socketio.max_sessions == 3; },
       {"0"}},
      {"socketio.max_sessions_per_address",
       "2",
       "2",
       [](const Config& c) { return c.socketio.max_sessions_per_address == 2; },
       {"0"}},
      {"socketio.connect_timeout_seconds",
       "5",
       "5",
       [](const Config& c) { return c.socketio.connect_timeout_seconds == 5; },
       {"0", "3601"}},
      {"sessions.max_members",
       "2",
       "2",
       [](const Config& c) { return c.sessions.max_members == 2; },
       {"0", "10001"}},
      {"sessions.connect_attempts_per_second",
       "0",
       "0",
       [](const Config& c) { return c.sessions.connect_attempts_per_second == 0; },
       {"-1", "fast"}},
      {"sessions.turn_grace_seconds",
       "1",
       "1",
       [](const Config& c) { return c.sessions.turn_grace_seconds == 1; },
       {"-1", "86401"}},
      {"log.level",
       "warn",
       "warn",
       [](const Config& c) { return c.log.level == LogLevel::warn; },
       {"loud", "WARN", ""}},
  };
}

TEST(ConfigKeys, EveryKeyHasACase) {
  auto cases = key_cases();
  for (const auto& key : config_keys()) {
    bool found = false;
    for (const auto& c : cases) found |= c.key == key.name;
    EXPECT_TRUE(found) << key.name << " has no row in key_cases()";
  }
  EXPECT_EQ(cases.size(), config_keys().size());
}

// What --check-config accepts is exactly what the daemon runs with: both load through the key's parser, and
// the parsed value is the one stored in Config for its users.
TEST(ConfigKeys, WhatParsesIsWhatTheDaemonUses) {
  for (const auto& c : key_cases()) {
    SCOPED_TRACE(std::string(c.key));
    const ConfigKey* key = find_config_key(c.key);
    ASSERT_NE(key, nullptr);
    Config parsed;
    auto ok = key->parse(parsed, c.good);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_TRUE(c.used(parsed)) << "parsed value differs from what the daemon reads";
    EXPECT_EQ(key->show(parsed), c.canonical);
    // socketio.default_dialect has one choice until the room and call dialects arrive.
    if (c.key != "socketio.default_dialect") {
      EXPECT_NE(key->show(parsed), key->show(Config{})) << "pick a good value other than the default";
    }
    Config again;
    ASSERT_TRUE(key->parse(again, key->show(parsed)).ok()) << "canonical text must parse back";
    EXPECT_TRUE(c.used(again));
    Config copied;
    key->copy(copied, parsed);
    EXPECT_TRUE(c.used(copied));
    // Through the file loader, as --check-config and the daemon read it.
    auto dot = c.key.find('.');
    std::string text = "[" + std::string(c.key.substr(0, dot)) + "]\n" + std::string(c.key.substr(dot + 1)) +
                       " = " + c.good + "\n";
    // turn.urls switches TURN on, which needs a realm and a CLI password.
    if (c.key == "turn.urls") text += "realm = r.example\ncli_password = pw\n";
    // TLS listeners need a certificate and key (their files are read at startup, not by the parser).
    if (c.key == "server.tls_listen") text += "tls_certificate = c.pem\ntls_private_key = k.pem\n";
    // The certificate and its key are set together.
    if (c.key == "turn.cert") text += "pkey = /etc/ssl/t.key\n";
    if (c.key == "turn.pkey") text += "cert = /etc/ssl/t.pem\n";
    auto file = parse_config(text, "t.conf");
    ASSERT_TRUE(file.ok()) << file.error().message << "\n" << text;
    EXPECT_TRUE(c.used(*file));
  }
}

TEST(ConfigKeys, BadValuesAreRefusedWithFileAndLine) {
  for (const auto& c : key_cases()) {
    SCOPED_TRACE(std::string(c.key));
    const ConfigKey* key = find_config_key(c.key);
    ASSERT_NE(key, nullptr);
    ASSERT_FALSE(c.bad.empty()) << "every key needs a value it refuses";
    for (const auto& bad : c.bad) {
      Config config;
      EXPECT_FALSE(key->parse(config, bad).ok()) << "accepted '" << bad << "'";
      auto dot = c.key.find('.');
      std::string text = "[" + std::string(c.key.substr(0, dot)) + "]\n" +
                         std::string(c.key.substr(dot + 1)) + " = " + bad + "\n";
      auto file = parse_config(text, "t.conf");
      ASSERT_FALSE(file.ok()) << "accepted '" << bad << "'";
      EXPECT_EQ(file.error().message.rfind("t.conf:2: " + std::string(c.key) + ": ", 0), 0u)
          << file.error().message;
      if (key->secret) {
        EXPECT_EQ(file.error().message.find(bad), std::string::npos) << "secret value echoed";
      }
    }
  }
}

TEST(ConfigKeys, SecretKeysAreMarkedAndNeverPrinted) {
  for (const auto& key : config_keys()) {
    bool holds_a_secret = key.name.find("password") != std::string_view::npos && !key.name.ends_with("_file");
    EXPECT_EQ(key.secret, holds_a_secret) << key.name;
  }
  auto config = parse_config("[turn]\ncli_password = hunter2\n", "t.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const ConfigKey* password = find_config_key("turn.cli_password");
  ASSERT_NE(password, nullptr);
  EXPECT_EQ(printable_value(*password, *config), "(secret)");
  EXPECT_EQ(printable_value(*find_config_key("turn.realm"), *config), "");
  EXPECT_EQ(printable_value(*find_config_key("server.listen"), *config), "127.0.0.1:8080");
  EXPECT_EQ(printable_value(*find_config_key("server.tls_listen"), *config), "");
  auto bad = parse_config("[turn]\ncli_password = \"hunter2 \x01x\"\n", "t.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("hunter2"), std::string::npos) << bad.error().message;
  EXPECT_EQ(bad.error().message.rfind("t.conf:2: turn.cli_password: ", 0), 0u) << bad.error().message;
}

// Once turn.urls = turn: passed the config check and then failed every credential issue.
TEST(ConfigKeys, TurnUrlWithoutHostIsRefusedWhenTheFileIsRead) {
  auto config = parse_config(
      "[turn]\nrealm = example.org\ncli_password = pw\nurls = stun:s.example.org, turn:\n", "t.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "t.conf:4: turn.urls: ICE server URL \"turn:\" has no host");
}

// The credential issuer hands out config.turn.urls; it renders exactly what turn-auth's parser produced.
TEST(ConfigKeys, TurnUrlsAreTheListTheIssuerRenders) {
  const std::string urls = "turn:t.example.org?transport=udp, stun:s.example.org, turns:t.example.org:5349";
  auto config =
      parse_config("[turn]\nrealm = example.org\ncli_password = pw\nurls = " + urls + "\n", "t.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto direct = parse_turn_urls(urls);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(turn_auth::ice_servers_json(config->turn.urls, "u", "c"),
            turn_auth::ice_servers_json(*direct, "u", "c"));
  EXPECT_EQ(turn_auth::ice_servers_json(config->turn.urls, "u", "c"),
            R"([{"urls":["stun:s.example.org"]},{"urls":["turn:t.example.org?transport=udp",)"
            R"("turns:t.example.org:5349"],"username":"u","credential":"c"}])");
}

// Once turn.cli_address accepted IPv6 but the session killer could only connect to IPv4.
TEST(ConfigKeys, Ipv6CliAddressIsParsedIntoASocketAddress) {
  auto config = parse_config("[turn]\ncli_address = [::1]:5766\n", "t.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->turn.cli_address, (ListenAddress{"::1", 5766}));
  auto socket = to_socket_address(config->turn.cli_address);
  ASSERT_TRUE(socket.ok()) << socket.error().message;
  ASSERT_EQ(socket->family(), AF_INET6);
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(socket->get());
  EXPECT_EQ(ntohs(v6->sin6_port), 5766);
  in6_addr loopback = IN6ADDR_LOOPBACK_INIT;
  EXPECT_EQ(std::memcmp(&v6->sin6_addr, &loopback, sizeof loopback), 0);
  auto v4 = to_socket_address(Config{}.turn.cli_address);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->length, sizeof(sockaddr_in));
}

// Two versions of one config file on disk: the running one, then the one a reload reads.
class ConfigReload : public ::testing::Test {
 protected:
  void TearDown() override {
    std::remove(conf_path_.c_str());
    std::remove(password_path_.c_str());
  }
  Result<Config> load(const std::string& text, const Config* running = nullptr) {
    std::ofstream(conf_path_) << text;
    return load_config_file(conf_path_, running, &restart_required_);
  }
  void write_password_file(const std::string& content) { std::ofstream(password_path_) << content; }
  std::string conf_path_ = testing::TempDir() + "turnpike_reload_" + std::to_string(::getpid()) + ".conf";
  std::string password_path_ = testing::TempDir() + "turnpike_reload_" + std::to_string(::getpid()) + ".pw";
  std::vector<std::string_view> restart_required_;
};

const std::string kTurnOn = "[turn]\nrealm = example.org\nurls = turn:t.example.org\n";

// Once a reload restored turn.cli_password but kept the password derived from the new file.
TEST_F(ConfigReload, ChangedCliPasswordKeepsTheRunningPassword) {
  auto running = load(kTurnOn + "cli_password = old\n");
  ASSERT_TRUE(running.ok()) << running.error().message;
  ASSERT_EQ(running->turn_cli_password, "old");
  auto reloaded = load(kTurnOn + "cli_password = new\n", &*running);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(reloaded->turn.cli_password, "old");
  EXPECT_EQ(reloaded->turn_cli_password, "old");
  EXPECT_EQ(restart_required_, (std::vector<std::string_view>{"turn.cli_password"}));
  EXPECT_TRUE(changed_keys(*running, *reloaded).empty());
}

// Switching TURN on while running: turn.urls applies at once, turn.realm (restart-only) at the next start.
// The file is valid as written, so the reload is accepted, as --check-config accepts the file.
TEST_F(ConfigReload, AValidFileIsAcceptedEvenIfItsRestartOnlyKeysMustWait) {
  auto running = load("[turn]\ncli_password = pw\n");
  ASSERT_TRUE(running.ok()) << running.error().message;
  ASSERT_FALSE(running->turn.enabled());
  auto reloaded = load(kTurnOn + "cli_password = pw\n", &*running);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_TRUE(reloaded->turn.enabled());
  EXPECT_EQ(reloaded->turn.realm, "");
  EXPECT_EQ(reloaded->turn_cli_password, "pw");
  EXPECT_EQ(restart_required_, (std::vector<std::string_view>{"turn.realm"}));
}

TEST_F(ConfigReload, PasswordFromAFileKeepsTheRunningPassword) {
  write_password_file("first\n");
  auto running = load(kTurnOn + "cli_password_file = " + password_path_ + "\n");
  ASSERT_TRUE(running.ok()) << running.error().message;
  ASSERT_EQ(running->turn_cli_password, "first");
  write_password_file("second\n");
  auto reloaded =
      load(kTurnOn + "cli_password = inline\ncli_password_file = " + password_path_ + "\n", &*running);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(reloaded->turn.cli_password, "");
  EXPECT_EQ(reloaded->turn_cli_password, "first");
}

TEST_F(ConfigReload, RestartOnlyKeysKeepTheirRunningValuesAndReloadableOnesChange) {
  auto running = load("[server]\nlisten = 127.0.0.1:8080\n[log]\nlevel = info\n");
  ASSERT_TRUE(running.ok()) << running.error().message;
  auto reloaded = load(
      "[server]\nlisten = [::1]:9000\n[database]\nsynchronous = normal\n[log]\nlevel = debug\n"
      "[admin]\nallow_from = 10.0.0.0/8\n",
      &*running);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(reloaded->server.listen, (std::vector<ListenAddress>{{"127.0.0.1", 8080}}));
  EXPECT_EQ(reloaded->database.synchronous, SqliteSynchronous::full);
  EXPECT_EQ(reloaded->log.level, LogLevel::debug);
  ASSERT_EQ(reloaded->admin.allow_from.size(), 1u);
  EXPECT_TRUE(reloaded->admin.allow_from[0].contains(*IpAddress::parse("10.1.2.3")));
  EXPECT_EQ(restart_required_, (std::vector<std::string_view>{"server.listen", "database.synchronous"}));
  EXPECT_EQ(changed_keys(*running, *reloaded),
            (std::vector<std::string_view>{"admin.allow_from", "log.level"}));
}

// Cross-key rules see the restored values: the realm a reload would drop is kept, so TURN stays valid.
// A reload accepts exactly what --check-config accepts: the file must be valid as written, whatever the
// running values of its restart-only keys.
TEST_F(ConfigReload, CrossKeyRulesCheckTheFileAsWritten) {
  auto running = load(kTurnOn + "cli_password = pw\n");
  ASSERT_TRUE(running.ok()) << running.error().message;
  auto reloaded = load("[turn]\nurls = turn:t2.example.org\ncli_password = pw\n", &*running);
  ASSERT_FALSE(reloaded.ok());
  EXPECT_NE(reloaded.error().message.find("turn.realm must be set too"), std::string::npos)
      << reloaded.error().message;
}

}  // namespace
}  // namespace turnpike
