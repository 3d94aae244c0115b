// The ICE server list handed to clients: parsing turn.urls and rendering the iceServers JSON array.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace turnpike::turn_auth {

struct IceServerUrls {
  std::vector<std::string> stun;  // every stun: URL, in configured order
  std::vector<std::string> turn;  // every turn: and turns: URL, in configured order
};

// Parses a comma-separated URL list (the turn.urls config value). Whitespace around entries is ignored and
// empty entries are skipped, so "" gives two empty lists. Each entry must start with "stun:", "turn:" or
// "turns:" (lowercase), have something after the scheme, and contain no whitespace or control characters;
// otherwise the error names the offending entry.
Result<IceServerUrls> parse_turn_urls(std::string_view comma_separated);

// The RTCPeerConnection iceServers array as compact JSON text:
//   [{"urls":["stun:..."]},{"urls":["turn:...",...],"username":"...","credential":"..."}]
// The stun entry is omitted when there is no stun: URL and the credential entry when there is no turn:/turns:
// URL. Field order is fixed (urls, username, credential). Invalid UTF-8 is replaced, never thrown on.
std::string ice_servers_json(const IceServerUrls& urls, std::string_view username,
                             std::string_view credential);

}  // namespace turnpike::turn_auth
