// Rendering of coturn's turnserver.conf from turnpike's config.
#include "turn/coturn_config.hpp"

#include <filesystem>

namespace turnpike {

std::string render_coturn_config(const Config& config, std::string_view source_path) {
  const TurnConfig& turn = config.turn;
  std::string out;
  auto line = [&out](std::string_view key, std::string_view value = {}) {
    out += key;
    if (!value.empty()) {
      out += '=';
      out += value;
    }
    out += '\n';
  };
  out += "# Generated from " + std::string(source_path) +
         " by `turnpikectl coturn-config`.\n# Edit turnpike.conf and render again; changes made here are "
         "lost.\n";
  line("listening-port", std::to_string(turn.listening_port));
  line("tls-listening-port", std::to_string(turn.tls_listening_port));
  if (!turn.listening_ip.empty()) line("listening-ip", turn.listening_ip);
  if (!turn.relay_ip.empty()) line("relay-ip", turn.relay_ip);
  if (!turn.external_ip.empty()) line("external-ip", turn.external_ip);
  line("min-port", std::to_string(turn.min_port));
  line("max-port", std::to_string(turn.max_port));
  line("realm", turn.realm);
  // coturn reads users (long-term) or secrets (rest) from turnpike's own database file.
  line("userdb", std::filesystem::absolute(config.database.path).string());
  line(turn.mode == TurnMode::rest ? "use-auth-secret" : "lt-cred-mech");
  line("fingerprint");
  line("no-multicast-peers");
  for (const auto& range : turn.denied_peer_ips) line("denied-peer-ip", range);
  if (turn.allow_loopback_peers) line("allow-loopback-peers");
  line("cli-ip", turn.cli_address.host);
  line("cli-port", std::to_string(turn.cli_address.port));
  line("cli-password", config.turn_cli_password);
  // Without a certificate of its own, coturn uses the daemon's (server.tls_certificate), so one certbot
  // certificate serves https:, wss: and turns:.
  const bool own = !turn.cert.empty();
  const std::string& cert = own ? turn.cert : config.server.tls_certificate;
  const std::string& pkey = own ? turn.pkey : config.server.tls_private_key;
  if (!cert.empty() && !pkey.empty()) {
    // TLS (turns:) and DTLS on tls-listening-port; coturn re-reads both files on SIGUSR2. No no-tlsv1*: with
    // OpenSSL 3, coturn 4.6.1 already refuses TLS 1.0 and 1.1, and the option makes its uclient hang.
    line("cert", cert);
    line("pkey", pkey);
  } else {
    line("no-tls");
    line("no-dtls");
  }
  line("no-software-attribute");
  line("simple-log");
  return out;
}

}  // namespace turnpike
