// The admin routes' Host check, the host[:port] parser it uses and the fixed metrics label of a method.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/host_header.hpp"
#include "core/metrics.hpp"
#include "http/admin_host.hpp"

namespace turnpike {
namespace {

TEST(HostHeader, Parses) {
  struct Case {
    std::string text;
    std::optional<HostPort> expected;
  };
  for (const auto& c : std::vector<Case>{
           {"example.com", HostPort{"example.com", std::nullopt}},
           {"Example.COM:8080", HostPort{"example.com", 8080}},
           {"127.0.0.1:80", HostPort{"127.0.0.1", 80}},
           {"[::1]:8080", HostPort{"::1", 8080}},
           {"[::1]", HostPort{"::1", std::nullopt}},
           {"localhost", HostPort{"localhost", std::nullopt}},
           {"", std::nullopt},
           {":80", std::nullopt},
           {"example.com:", std::nullopt},
           {"example.com:0", std::nullopt},
           {"example.com:65536", std::nullopt},
           {"example.com:80x", std::nullopt},
           {"example.com:80:81", std::nullopt},
           {"::1", std::nullopt},
           {"[::1", std::nullopt},
           {"[::1]x", std::nullopt},
           {"[example.com]", std::nullopt},
           {"[127.0.0.1]", std::nullopt},
           {"a b", std::nullopt},
           {"a_b.example", std::nullopt},
           {"evil.example/x", std::nullopt},
       }) {
    auto parsed = parse_host_port(c.text);
    ASSERT_EQ(parsed.ok(), c.expected.has_value()) << c.text;
    if (c.expected) {
      EXPECT_EQ(*parsed, *c.expected) << c.text;
    }
  }
}

Config config_with(std::vector<ListenAddress> listen, std::vector<ListenAddress> tls_listen,
                   std::vector<HostPort> allowed_hosts) {
  Config config;
  config.server.listen = std::move(listen);
  config.server.tls_listen = std::move(tls_listen);
  config.admin.allowed_hosts = std::move(allowed_hosts);
  return config;
}

TEST(AdminHost, MatchesListenAddressesLoopbackNamesAndTheList) {
  struct Case {
    Config config;
    std::string host;
    bool allowed;
  };
  Config loopback = config_with({{"127.0.0.1", 8080}}, {}, {});
  Config v6_loopback = config_with({{"::1", 8080}}, {}, {});
  Config wildcard = config_with({{"0.0.0.0", 8080}}, {}, {});
  Config public_ip = config_with({{"192.0.2.10", 80}}, {{"192.0.2.11", 443}},
                                 {{"turnpike.example", std::nullopt}, {"ops.example", 8443}});
  for (const auto& c : std::vector<Case>{
           {loopback, "127.0.0.1:8080", true},
           {loopback, "127.0.0.1", true},
           {loopback, "localhost:8080", true},
           {loopback, "LocalHost", true},
           {loopback, "127.0.0.2", false},
           {loopback, "[::1]:8080", false},
           {loopback, "evil.example", false},
           {loopback, "localhost.evil.example", false},
           {loopback, "127.0.0.1.evil.example", false},
           {loopback, "", false},
           {loopback, "127.0.0.1:99999", false},
           {v6_loopback, "[::1]:8080", true},
           {v6_loopback, "localhost", true},
           {v6_loopback, "127.0.0.1", false},
           {wildcard, "203.0.113.5:8080", true},
           {wildcard, "[2001:db8::5]", true},
           {wildcard, "localhost:8080", true},
           {wildcard, "rebind.example:8080", false},
           {public_ip, "192.0.2.10", true},
           {public_ip, "192.0.2.11:443", true},
           {public_ip, "192.0.2.12", false},
           {public_ip, "localhost", false},
           {public_ip, "turnpike.example", true},
           {public_ip, "TURNPIKE.example:443", true},
           {public_ip, "ops.example:8443", true},
           {public_ip, "ops.example", false},
           {public_ip, "ops.example:443", false},
           {public_ip, "sub.turnpike.example", false},
       }) {
    EXPECT_EQ(http::admin_host_allowed(c.config, c.host), c.allowed) << c.host;
  }
}

TEST(MetricsLabels, MethodsOutsideTheFixedSetAreOther) {
  for (std::string_view known : {"GET", "HEAD", "POST", "DELETE", "OPTIONS"})
    EXPECT_EQ(method_label(known), known);
  for (std::string_view other : {"PUT", "PATCH", "get", "BREW", "", "GETX", "X\"} 1\n"}) {
    EXPECT_EQ(method_label(other), "other") << other;
  }
}

TEST(MetricsLabels, InventedMethodsShareOneSeries) {
  Metrics metrics;
  for (std::string_view method : {"BREW", "FOO", "PROPFIND", "QWERTY"}) {
    metrics.count_request(std::string(method_label(method)) + " /rooms", 405, 0.001);
  }
  auto text = metrics.render(Gauges{});
  EXPECT_NE(text.find("turnpike_http_requests_total{route=\"other /rooms\",status=\"405\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("BREW"), std::string::npos);
}

}  // namespace
}  // namespace turnpike
