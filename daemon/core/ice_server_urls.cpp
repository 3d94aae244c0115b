// Parsing of the turn.urls list into stun: and turn:/turns: URLs.
#include "core/ice_server_urls.hpp"

#include <array>
#include <string>

namespace turnpike {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool has_space_or_control(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

Result<IceServerUrls> parse_turn_urls(std::string_view comma_separated) {
  struct Scheme {
    std::string_view prefix;
    bool is_turn;
  };
  static constexpr std::array<Scheme, 3> kSchemes = {{{"stun:", false}, {"turn:", true}, {"turns:", true}}};

  IceServerUrls urls;
  std::string_view rest = comma_separated;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view entry = trim(rest.substr(0, comma));
    if (!entry.empty()) {
      const Scheme* scheme = nullptr;
      for (const Scheme& s : kSchemes)
        if (entry.substr(0, s.prefix.size()) == s.prefix) scheme = &s;
      if (scheme == nullptr)
        return make_error("ICE server URL \"" + std::string(entry) +
                          "\" does not start with stun:, turn: or turns:");
      if (entry.size() == scheme->prefix.size())
        return make_error("ICE server URL \"" + std::string(entry) + "\" has no host");
      if (has_space_or_control(entry))
        return make_error("ICE server URL \"" + std::string(entry) +
                          "\" contains whitespace or a control character");
      (scheme->is_turn ? urls.turn : urls.stun).emplace_back(entry);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return urls;
}

}  // namespace turnpike
