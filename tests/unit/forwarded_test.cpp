// Forwarded / X-Forwarded-For rules: node syntax, header syntax and the choice of client address.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "http/forwarded.hpp"

namespace turnpike::http {
namespace {

IpAddress ip(std::string_view text) {
  return *IpAddress::parse(text);
}

std::vector<CidrRange> ranges(std::vector<std::string_view> texts) {
  std::vector<CidrRange> out;
  for (auto t : texts) out.push_back(*CidrRange::parse(t));
  return out;
}

TEST(Forwarded, Node) {
  struct Case {
    std::string node;
    std::optional<std::string> expected;
  };
  for (const auto& c : std::vector<Case>{
           {"192.0.2.60", "192.0.2.60"},
           {"192.0.2.60:4711", "192.0.2.60"},
           {"192.0.2.60:_abc", "192.0.2.60"},
           {"[2001:db8::1]", "2001:db8::1"},
           {"[2001:db8::1]:4711", "2001:db8::1"},
           {"[2001:db8::1]:_port", "2001:db8::1"},
           {"2001:db8::1", "2001:db8::1"},
           {"::ffff:10.0.0.1", "10.0.0.1"},
           {"unknown", std::nullopt},
           {"_hidden", std::nullopt},
           {"_SEVKISEK", std::nullopt},
           {"", std::nullopt},
           {"garbage", std::nullopt},
           {"192.0.2.60:", std::nullopt},
           {"192.0.2.60:65536", std::nullopt},
           {"192.0.2.60:123456", std::nullopt},
           {"192.0.2.60:12x", std::nullopt},
           {"[192.0.2.60]", std::nullopt},
           {"[2001:db8::1", std::nullopt},
           {"[2001:db8::1]4711", std::nullopt},
           {"[2001:db8::zz]", std::nullopt},
           {"fe80::1%eth0", std::nullopt},
           {"256.1.1.1", std::nullopt},
           {"1.2.3", std::nullopt},
       }) {
    auto got = parse_forwarded_node(c.node);
    if (c.expected) {
      ASSERT_TRUE(got.has_value()) << c.node;
      EXPECT_EQ(got->to_string(), *c.expected) << c.node;
    } else {
      EXPECT_FALSE(got.has_value()) << c.node << " -> " << got->to_string();
    }
  }
}

TEST(Forwarded, HeaderSyntax) {
  struct Case {
    std::vector<std::string_view> lines;
    std::optional<std::vector<std::string>> expected;
  };
  using V = std::vector<std::string>;
  for (const auto& c : std::vector<Case>{
           {{"for=192.0.2.60"}, V{"192.0.2.60"}},
           {{"For=192.0.2.60"}, V{"192.0.2.60"}},
           {{R"(for="[2001:db8::1]:4711")"}, V{"[2001:db8::1]:4711"}},
           {{"for=192.0.2.60;proto=https;by=203.0.113.43"}, V{"192.0.2.60"}},
           {{"proto=https;for=192.0.2.60"}, V{"192.0.2.60"}},
           {{"for=192.0.2.43, for=198.51.100.17"}, V{"192.0.2.43", "198.51.100.17"}},
           {{"for=192.0.2.43,for=198.51.100.17"}, V{"192.0.2.43", "198.51.100.17"}},
           {{"for=192.0.2.43", "for=198.51.100.17"}, V{"192.0.2.43", "198.51.100.17"}},
           {{R"(for="a,b";proto=http, for=1.2.3.4)"}, V{"a,b", "1.2.3.4"}},
           {{R"(for="x\"y")"}, V{"x\"y"}},
           {{"proto=https"}, V{""}},
           {{"for=unknown"}, V{"unknown"}},
           {{"for=_hidden"}, V{"_hidden"}},
           {{""}, V{}},
           {{" , ,"}, V{}},
           {{"for=1.2.3.4;"}, V{"1.2.3.4"}},
           {{"for"}, std::nullopt},
           {{"for="}, std::nullopt},
           {{"=1.2.3.4"}, std::nullopt},
           {{R"(for="1.2.3.4)"}, std::nullopt},
           {{R"(for="1.2.3.4\)"}, std::nullopt},
           {{"for=1.2.3.4 5.6.7.8"}, std::nullopt},
           {{"for=[2001:db8::1]"}, std::nullopt},  // unquoted ':' and brackets are not token characters
           {{"for=1.2.3.4;for=5.6.7.8"}, std::nullopt},
           {{"for=1.2.3.4", "garbage"}, std::nullopt},
       }) {
    auto got = forwarded_for_values(c.lines);
    std::string shown;
    for (auto l : c.lines) shown += std::string(l) + " | ";
    ASSERT_EQ(got.has_value(), c.expected.has_value()) << shown;
    if (got) {
      EXPECT_EQ(*got, *c.expected) << shown;
    }
  }
}

TEST(Forwarded, XForwardedForSyntax) {
  using V = std::vector<std::string>;
  EXPECT_EQ(x_forwarded_for_values({"203.0.113.195"}), V{"203.0.113.195"});
  EXPECT_EQ(x_forwarded_for_values({"203.0.113.195, 70.41.3.18,150.172.238.178"}),
            (V{"203.0.113.195", "70.41.3.18", "150.172.238.178"}));
  EXPECT_EQ(x_forwarded_for_values({"1.1.1.1", " 2.2.2.2 ,, "}), (V{"1.1.1.1", "2.2.2.2"}));
  EXPECT_EQ(x_forwarded_for_values({""}), V{});
}

std::vector<Header> headers(std::vector<std::pair<std::string, std::string>> pairs) {
  std::vector<Header> out;
  for (auto& [name, value] : pairs) out.push_back({name, value});
  return out;
}

TEST(Forwarded, ResolveClient) {
  const auto trusted = ranges({"127.0.0.1", "::1", "10.0.0.0/8"});
  struct Case {
    std::string name;
    std::string tcp_peer;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string expected;
    ClientSource source;
  };
  for (const auto& c : std::vector<Case>{
           {"untrusted peer: headers ignored",
            "192.0.2.9",
            {{"X-Forwarded-For", "127.0.0.1"}},
            "192.0.2.9",
            ClientSource::direct},
           {"untrusted peer: Forwarded ignored",
            "192.0.2.9",
            {{"Forwarded", "for=127.0.0.1"}},
            "192.0.2.9",
            ClientSource::direct},
           {"untrusted peer, no header", "192.0.2.9", {}, "192.0.2.9", ClientSource::direct},
           {"trusted peer, no header", "127.0.0.1", {}, "127.0.0.1", ClientSource::proxy_without_header},
           {"trusted peer, empty XFF",
            "127.0.0.1",
            {{"X-Forwarded-For", ""}},
            "127.0.0.1",
            ClientSource::proxy_without_header},
           {"XFF single",
            "127.0.0.1",
            {{"X-Forwarded-For", "198.51.100.7"}},
            "198.51.100.7",
            ClientSource::x_forwarded_for},
           {"XFF header name any case",
            "127.0.0.1",
            {{"x-forwarded-for", "198.51.100.7"}},
            "198.51.100.7",
            ClientSource::x_forwarded_for},
           {"XFF forged entry on the left is skipped",
            "127.0.0.1",
            {{"X-Forwarded-For", "127.0.0.1, 198.51.100.7"}},
            "198.51.100.7",
            ClientSource::x_forwarded_for},
           {"XFF garbage on the left is never reached",
            "127.0.0.1",
            {{"X-Forwarded-For", "garbage, 198.51.100.7"}},
            "198.51.100.7",
            ClientSource::x_forwarded_for},
           {"XFF chain of trusted proxies",
            "127.0.0.1",
            {{"X-Forwarded-For", "203.0.113.5, 198.51.100.7, 10.1.2.3"}},
            "198.51.100.7",
            ClientSource::x_forwarded_for},
           {"XFF several lines",
            "127.0.0.1",
            {{"X-Forwarded-For", "203.0.113.5"}, {"X-Forwarded-For", "198.51.100.7, 10.1.2.3"}},
            "198.51.100.7",
            ClientSource::x_forwarded_for},
           {"XFF all trusted: the left-most",
            "127.0.0.1",
            {{"X-Forwarded-For", "10.0.0.1, 10.0.0.2"}},
            "10.0.0.1",
            ClientSource::x_forwarded_for},
           {"XFF IPv6 with brackets and port",
            "::1",
            {{"X-Forwarded-For", "[2001:db8::1]:4711"}},
            "2001:db8::1",
            ClientSource::x_forwarded_for},
           {"XFF unknown right-most",
            "127.0.0.1",
            {{"X-Forwarded-For", "198.51.100.7, unknown"}},
            "127.0.0.1",
            ClientSource::proxy_header_unusable},
           {"XFF garbage behind a trusted hop",
            "127.0.0.1",
            {{"X-Forwarded-For", "garbage, 10.0.0.5"}},
            "127.0.0.1",
            ClientSource::proxy_header_unusable},
           {"Forwarded single",
            "127.0.0.1",
            {{"Forwarded", "for=198.51.100.7;proto=https"}},
            "198.51.100.7",
            ClientSource::forwarded},
           {"Forwarded quoted IPv6",
            "127.0.0.1",
            {{"Forwarded", R"(for="[2001:db8::1]:4711")"}},
            "2001:db8::1",
            ClientSource::forwarded},
           {"Forwarded several elements",
            "127.0.0.1",
            {{"Forwarded", "for=203.0.113.5, for=198.51.100.7, for=10.9.9.9"}},
            "198.51.100.7",
            ClientSource::forwarded},
           {"Forwarded several lines",
            "127.0.0.1",
            {{"Forwarded", "for=203.0.113.5"}, {"Forwarded", "for=198.51.100.7"}},
            "198.51.100.7",
            ClientSource::forwarded},
           {"Forwarded preferred over XFF",
            "127.0.0.1",
            {{"X-Forwarded-For", "203.0.113.5"}, {"Forwarded", "for=198.51.100.7"}},
            "198.51.100.7",
            ClientSource::forwarded},
           {"Forwarded without elements: XFF used",
            "127.0.0.1",
            {{"Forwarded", ""}, {"X-Forwarded-For", "203.0.113.5"}},
            "203.0.113.5",
            ClientSource::x_forwarded_for},
           {"Forwarded for=unknown",
            "127.0.0.1",
            {{"Forwarded", "for=unknown"}},
            "127.0.0.1",
            ClientSource::proxy_header_unusable},
           {"Forwarded obfuscated",
            "127.0.0.1",
            {{"Forwarded", "for=_hidden"}},
            "127.0.0.1",
            ClientSource::proxy_header_unusable},
           {"Forwarded element without for=",
            "127.0.0.1",
            {{"Forwarded", "proto=https"}},
            "127.0.0.1",
            ClientSource::proxy_header_unusable},
           {"Forwarded broken syntax",
            "127.0.0.1",
            {{"Forwarded", R"(for="1.2.3.4)"}},
            "127.0.0.1",
            ClientSource::proxy_header_unusable},
           {"Forwarded broken syntax, XFF not consulted",
            "127.0.0.1",
            {{"Forwarded", "for"}, {"X-Forwarded-For", "203.0.113.5"}},
            "127.0.0.1",
            ClientSource::proxy_header_unusable},
       }) {
    auto origin = resolve_client(ip(c.tcp_peer), trusted, headers(c.headers));
    EXPECT_EQ(origin.address.to_string(), c.expected) << c.name;
    EXPECT_EQ(origin.source, c.source) << c.name << ": " << to_string(origin.source);
  }
}

TEST(Forwarded, NoTrustedProxiesMeansHeadersAreIgnored) {
  auto origin = resolve_client(ip("127.0.0.1"), {}, headers({{"X-Forwarded-For", "198.51.100.7"}}));
  EXPECT_EQ(origin.address.to_string(), "127.0.0.1");
  EXPECT_EQ(origin.source, ClientSource::direct);
}

TEST(Forwarded, ProtoOnlyFromTrustedProxies) {
  const auto trusted = ranges({"127.0.0.1"});
  struct Case {
    std::string tcp_peer;
    std::string value;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{{"127.0.0.1", "https", "https"},
                                         {"127.0.0.1", "HTTP", "http"},
                                         {"127.0.0.1", "http, https", "https"},
                                         {"127.0.0.1", "ftp", ""},
                                         {"192.0.2.1", "https", ""}}) {
    auto origin =
        resolve_client(ip(c.tcp_peer), trusted,
                       headers({{"X-Forwarded-Proto", c.value}, {"X-Forwarded-For", "198.51.100.7"}}));
    EXPECT_EQ(origin.forwarded_proto, c.expected) << c.tcp_peer << " " << c.value;
  }
}

}  // namespace
}  // namespace turnpike::http
