// The iceServers array handed to clients, rendered from the parsed turn.urls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ice_server_urls.hpp"

namespace turnpike::turn_auth {

// The RTCPeerConnection iceServers array as compact JSON text:
//   [{"urls":["stun:..."]},{"urls":["turn:...",...],"username":"...","credential":"..."}]
// The stun entry is omitted when there is no stun: URL and the credential entry when there is no turn:/turns:
// URL. Field order is fixed (urls, username, credential). Invalid UTF-8 is replaced, never thrown on.
std::string ice_servers_json(const IceServerUrls& urls, std::string_view username,
                             std::string_view credential);

}  // namespace turnpike::turn_auth
