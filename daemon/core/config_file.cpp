// Reading turnpike.conf (INI) into a Config, comparing configs, and rendering the shipped default file.
#include <fstream>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "core/text.hpp"

namespace turnpike {
namespace {

Error located(std::string_view origin, int line, const std::string& why) {
  return make_error(std::string(origin) + ":" + std::to_string(line) + ": " + why);
}

// A parsed file before the cross-key checks, with the lines to blame for them.
struct ParsedFile {
  Config config;
  int pong_line = 0;
  int turn_line = 0;
  int server_line = 0;
};

// A secret key's error must not echo its value, whatever the parser wrote.
std::string without_value(std::string message, std::string_view value) {
  if (value.empty()) return message;
  for (auto at = message.find(value); at != std::string::npos; at = message.find(value, at)) {
    message.replace(at, value.size(), "(secret)");
  }
  return message;
}

Result<ParsedFile> parse_keys(std::string_view text, std::string_view origin) {
  ParsedFile parsed;
  std::string section;
  std::set<std::string> seen;
  int line_number = 0;
  std::istringstream in{std::string(text)};
  for (std::string raw; std::getline(in, raw);) {
    ++line_number;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return located(origin, line_number, "section header must end with ']'");
      section = std::string(trim(line.substr(1, line.size() - 2)));
      bool known = false;
      for (const auto& key : config_keys()) known |= key.name.starts_with(section + ".");
      if (!known) return located(origin, line_number, "unknown section [" + section + "]");
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return located(origin, line_number, "expected 'key = value'");
    if (section.empty()) return located(origin, line_number, "key outside of a [section]");
    std::string name = section + "." + std::string(trim(line.substr(0, eq)));
    auto value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    const ConfigKey* key = find_config_key(name);
    if (key == nullptr) return located(origin, line_number, "unknown key " + name);
    if (!seen.insert(name).second) return located(origin, line_number, "duplicate key " + name);
    if (auto ok = key->parse(parsed.config, value); !ok) {
      std::string why = name + ": ";
      why += key->secret ? without_value(ok.error().message, value) : ok.error().message;
      return located(origin, line_number, why);
    }
    if (name == "signaling.pong_timeout_seconds" || name == "signaling.ping_interval_seconds") {
      parsed.pong_line = std::max(parsed.pong_line, line_number);
    }
    if (name.starts_with("turn.")) parsed.turn_line = std::max(parsed.turn_line, line_number);
    if (name.starts_with("server.")) parsed.server_line = std::max(parsed.server_line, line_number);
  }
  return parsed;
}

// Restart-only keys keep their running value; returns the ones the file changed.
std::vector<std::string_view> keep_restart_only_keys(Config& fresh, const Config& running) {
  std::vector<std::string_view> kept;
  for (const auto& key : config_keys()) {
    if (key.reloadable || key.show(fresh) == key.show(running)) continue;
    key.copy(fresh, running);
    kept.push_back(key.name);
  }
  return kept;
}

// Checks rules that span keys and fills the derived fields other than the CLI password.
Result<void> finish(const ParsedFile& parsed, Config& c, std::string_view origin) {
  if (c.server.listen.empty() && c.server.tls_listen.empty()) {
    return located(origin, parsed.server_line, "server.listen or server.tls_listen must name an address");
  }
  if (!c.server.tls_listen.empty() &&
      (c.server.tls_certificate.empty() || c.server.tls_private_key.empty())) {
    return located(
        origin, parsed.server_line,
        "server.tls_listen is set, so server.tls_certificate and server.tls_private_key must be set "
        "too");
  }
  if (c.turn.enabled() && c.turn.realm.empty()) {
    return located(origin, parsed.turn_line, "turn.urls is set, so turn.realm must be set too");
  }
  if (c.turn.enabled() && c.turn.cli_password.empty() && c.turn.cli_password_file.empty()) {
    return located(origin, parsed.turn_line,
                   "turn.urls is set, so turn.cli_password or turn.cli_password_file must be set");
  }
  if (c.turn.cert.empty() != c.turn.pkey.empty()) {
    return located(origin, parsed.turn_line, "turn.cert and turn.pkey must be set together");
  }
  if (c.turn.min_port > c.turn.max_port) {
    return located(origin, parsed.turn_line, "turn.min_port must not exceed turn.max_port");
  }
  if (c.signaling.pong_timeout_seconds <= c.signaling.ping_interval_seconds) {
    return located(origin, parsed.pong_line,
                   "signaling.pong_timeout_seconds must be greater than signaling.ping_interval_seconds");
  }
  c.any_origin = false;
  for (const auto& origin_entry : c.server.allowed_origins) c.any_origin |= origin_entry == "*";
  return {};
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return make_error("cannot open " + path);
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return make_error("cannot read " + path);
  return text.str();
}

// The CLI password: given inline, or kept in a file of its own (generated by the packages, 0640). Its
// source keys need a restart, so a running daemon keeps the password it started with.
Result<void> derive_cli_password(Config& c, const std::string& path, const Config* running) {
  if (running != nullptr && !running->turn_cli_password.empty()) {
    c.turn_cli_password = running->turn_cli_password;
    return {};
  }
  c.turn_cli_password = c.turn.cli_password;
  if (c.turn.enabled() && c.turn_cli_password.empty()) {
    auto secret = read_file(c.turn.cli_password_file);
    if (!secret) {
      return make_error(
          path + ":0: turn.cli_password is empty and turn.cli_password_file: " + secret.error().message);
    }
    c.turn_cli_password = std::string(trim(*secret));
    if (c.turn_cli_password.empty())
      return make_error(path + ":0: " + c.turn.cli_password_file + " is empty");
  }
  return {};
}

}  // namespace

Result<Config> parse_config(std::string_view text, std::string_view origin) {
  auto parsed = parse_keys(text, origin);
  if (!parsed) return parsed.error();
  if (auto ok = finish(*parsed, parsed->config, origin); !ok) return ok.error();
  return std::move(parsed->config);
}

Result<Config> load_config_file(const std::string& path, const Config* running,
                                std::vector<std::string_view>* restart_required) {
  auto text = read_file(path);
  if (!text) return make_error(path + ":0: " + text.error().message);
  auto parsed = parse_keys(*text, path);
  if (!parsed) return parsed.error();
  Config& config = parsed->config;
  // The file as written must be valid, exactly what --check-config accepts; only then do restart-only keys
  // take back their running values (the new ones wait for a restart, with a warning).
  if (auto ok = finish(*parsed, config, path); !ok) return ok.error();
  if (running != nullptr) {
    auto kept = keep_restart_only_keys(config, *running);
    if (restart_required != nullptr) *restart_required = std::move(kept);
  }
  if (auto ok = derive_cli_password(config, path, running); !ok) return ok.error();
  return std::move(config);
}

std::vector<std::string_view> changed_keys(const Config& before, const Config& after) {
  std::vector<std::string_view> out;
  for (const auto& key : config_keys()) {
    if (key.show(before) != key.show(after)) out.push_back(key.name);
  }
  return out;
}

std::string render_default_config() {
  std::string out =
      "# turnpike.conf: the one file an admin edits. Every key is listed at its default, commented out.\n"
      "# Uncomment and change what you need; `turnpiked --check-config` validates the file, and\n"
      "# `systemctl reload turnpike` applies it (keys marked 'restart' need a restart).\n";
  std::string section;
  for (const auto& key : config_keys()) {
    auto dot = key.name.find('.');
    auto key_section = key.name.substr(0, dot);
    if (key_section != section) {
      section = key_section;
      out += "\n[" + section + "]\n";
    }
    out += "# " + std::string(key.doc) + (key.reloadable ? "" : " (restart)") + "\n";
    out += "# " + std::string(key.name.substr(dot + 1)) + " = " + std::string(key.default_value) + "\n";
  }
  return out;
}

std::string render_config_reference() {
  std::string out = "| key | default | reload | meaning |\n|---|---|---|---|\n";
  for (const auto& key : config_keys()) {
    out += "| `" + std::string(key.name) + "` | `" + std::string(key.default_value) + "` | " +
           (key.reloadable ? "yes" : "restart") + " | " + std::string(key.doc) + " |\n";
  }
  return out;
}

std::string render_config_man() {
  auto roff = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c == '\\') {
        out += "\\e";
      } else if (c == '-') {
        out += "\\-";
      } else {
        out += c;
      }
    }
    if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
    return out;
  };
  std::string out =
      ".TH TURNPIKE.CONF 5 \"\" \"turnpike\" \"File Formats\"\n"
      ".SH NAME\nturnpike.conf \\- configuration of the turnpike WebRTC rendezvous appliance\n"
      ".SH SYNOPSIS\n/etc/turnpike/turnpike.conf\n"
      ".SH DESCRIPTION\n"
      "An INI file read by \\fBturnpiked\\fR(8) and \\fBturnpikectl\\fR(8): \\fB[section]\\fR headers, "
      "\\fIkey\\fR \\fB=\\fR \\fIvalue\\fR lines, and comments starting with \\fB#\\fR or \\fB;\\fR on lines "
      "of "
      "their own. Every key is optional. An unknown section or key, a duplicate key or a bad value is an "
      "error "
      "reported as \\fIfile\\fR:\\fIline\\fR: \\fIreason\\fR. Durations accept fractions; rates of 0 switch "
      "that limit off.\n"
      ".PP\nSIGHUP (\\fBsystemctl reload turnpike\\fR) re-reads the file and applies it only if all of it is "
      "valid; keys marked \\fIrestart\\fR keep their running value until the next start.\n"
      ".SH KEYS\n.ad l\n";
  std::string section;
  for (const auto& key : config_keys()) {
    auto dot = key.name.find('.');
    auto key_section = key.name.substr(0, dot);
    if (key_section != section) {
      section = key_section;
      out += ".SS [" + section + "]\n";
    }
    out += ".TP\n\\fB" + roff(key.name.substr(dot + 1)) + "\\fR\n" + roff(key.doc) + "\nDefault: " +
           (key.default_value.empty() ? std::string("empty") : "\\fI" + roff(key.default_value) + "\\fR") +
           (key.reloadable ? "." : "; needs a restart.") + "\n";
  }
  out +=
      ".SH FILES\n.TP\n/etc/turnpike/turnpike.conf\nthis file\n.TP\n/var/lib/turnpike/turnpike.db\n"
      "the database shared with coturn\n"
      ".SH SEE ALSO\n\\fBturnpiked\\fR(8), \\fBturnpikectl\\fR(8), \\fBturnserver\\fR(1)\n";
  return out;
}

}  // namespace turnpike
