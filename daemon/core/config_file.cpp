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

LogLevel level_from_name(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "warn") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  return LogLevel::info;
}

// Fills the derived fields and checks rules that span keys. `line_of` gives a line to blame.
Result<void> finish(Config& c, std::string_view origin, int pong_line, int turn_line) {
  if (c.turn.enabled() && (c.turn.realm.empty() || c.turn.cli_password.empty())) {
    return located(origin, turn_line,
                   "turn.urls is set, so turn.realm and turn.cli_password must be set too");
  }
  if (c.turn.min_port > c.turn.max_port) {
    return located(origin, turn_line, "turn.min_port must not exceed turn.max_port");
  }
  if (c.signaling.pong_timeout_seconds <= c.signaling.ping_interval_seconds) {
    return located(origin, pong_line,
                   "signaling.pong_timeout_seconds must be greater than signaling.ping_interval_seconds");
  }
  c.admin_ranges.clear();
  for (const auto& text : c.admin.allow_from) c.admin_ranges.push_back(*CidrRange::parse(text));
  c.any_origin = false;
  for (const auto& origin_entry : c.server.allowed_origins) c.any_origin |= origin_entry == "*";
  c.log_level = level_from_name(c.log.level);
  return {};
}

}  // namespace

Result<Config> parse_config(std::string_view text, std::string_view origin) {
  Config config;
  std::string section;
  std::set<std::string> seen;
  int line_number = 0;
  int pong_line = 0;
  int turn_line = 0;
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
    if (auto ok = key->parse(config, value); !ok) {
      return located(origin, line_number, name + ": " + ok.error().message);
    }
    if (name == "signaling.pong_timeout_seconds" || name == "signaling.ping_interval_seconds") {
      pong_line = std::max(pong_line, line_number);
    }
    if (name.starts_with("turn.")) turn_line = std::max(turn_line, line_number);
  }
  if (auto ok = finish(config, origin, pong_line, turn_line); !ok) return ok.error();
  return config;
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return make_error(path + ":0: cannot open the config file");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return make_error(path + ":0: cannot read the config file");
  return parse_config(text.str(), path);
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

}  // namespace turnpike
