// render_coturn_config: the TLS part of the turnserver.conf rendered from turnpike.conf.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "core/config.hpp"
#include "turn/coturn_config.hpp"

namespace turnpike {
namespace {

// turn_section: lines of [turn], possibly followed by other sections.
std::set<std::string> rendered_lines(const std::string& turn_section) {
  auto config = parse_config("[turn]\nrealm = t.example.org\ncli_password = pw\n" + turn_section, "t.conf");
  EXPECT_TRUE(config.ok()) << config.error().message;
  std::set<std::string> lines;
  std::istringstream in(render_coturn_config(*config, "t.conf"));
  for (std::string line; std::getline(in, line);) lines.insert(line);
  return lines;
}

struct TlsCase {
  const char* name;
  const char* turn_section;
  std::set<std::string> present;
  std::set<std::string> absent;
};

TEST(CoturnConfig, TlsListenerFollowsTurnCert) {
  const TlsCase cases[] = {
      {"no certificate: no TLS or DTLS listener",
       "urls = turn:t.example.org:3478\n",
       {"no-tls", "no-dtls", "tls-listening-port=5349"},
       {}},
      {"certificate: cert, pkey, TLS 1.2+ on tls-listening-port",
       "urls = turn:t.example.org:3478, turns:t.example.org:443?transport=tcp\n"
       "tls_listening_port = 443\ncert = /etc/turnpike/tls/fullchain.pem\npkey = "
       "/etc/turnpike/tls/privkey.pem\n",
       {"cert=/etc/turnpike/tls/fullchain.pem", "pkey=/etc/turnpike/tls/privkey.pem",
        "tls-listening-port=443"},
       {"no-tls", "no-dtls"}},
      {"no turn.cert: the daemon's own certificate serves turns: too",
       "urls = turns:t.example.org:5349?transport=tcp\n"
       "[server]\ntls_certificate = /etc/turnpike/tls/fullchain.pem\n"
       "tls_private_key = /etc/turnpike/tls/privkey.pem\n",
       {"cert=/etc/turnpike/tls/fullchain.pem", "pkey=/etc/turnpike/tls/privkey.pem"},
       {"no-tls", "no-dtls"}},
      {"turn.cert wins over the daemon's certificate",
       "cert = /etc/coturn/c.pem\npkey = /etc/coturn/k.pem\n"
       "[server]\ntls_certificate = /etc/turnpike/tls/fullchain.pem\n"
       "tls_private_key = /etc/turnpike/tls/privkey.pem\n",
       {"cert=/etc/coturn/c.pem", "pkey=/etc/coturn/k.pem"},
       {"cert=/etc/turnpike/tls/fullchain.pem", "no-tls"}},
  };
  for (const auto& c : cases) {
    const auto lines = rendered_lines(c.turn_section);
    for (const auto& want : c.present) EXPECT_TRUE(lines.contains(want)) << c.name << ": lacks " << want;
    for (const auto& unwanted : c.absent)
      EXPECT_FALSE(lines.contains(unwanted)) << c.name << ": has " << unwanted;
    bool any_cert = false;
    for (const auto& line : lines) any_cert |= line.starts_with("cert=") || line.starts_with("pkey=");
    EXPECT_EQ(any_cert, !c.present.contains("no-tls")) << c.name;
  }
}

}  // namespace
}  // namespace turnpike
