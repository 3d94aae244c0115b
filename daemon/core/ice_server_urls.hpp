// The ICE server URLs of turn.urls, parsed once: what the config holds and what iceServers lists render.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace turnpike {

struct IceServerUrls {
  std::vector<std::string> stun;  // every stun: URL, in configured order
  std::vector<std::string> turn;  // every turn: and turns: URL, in configured order
};

// Parses a comma-separated URL list (the turn.urls config value). Whitespace around entries is ignored and
// empty entries are skipped, so "" gives two empty lists. Each entry must start with "stun:", "turn:" or
// "turns:" (lowercase), have something after the scheme, and contain no whitespace or control characters;
// otherwise the error names the offending entry.
Result<IceServerUrls> parse_turn_urls(std::string_view comma_separated);

}  // namespace turnpike
