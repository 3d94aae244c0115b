// Rendering of the iceServers JSON with nlohmann::ordered_json.
#include "turn-auth/ice_servers.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace turnpike::turn_auth {

std::string ice_servers_json(const IceServerUrls& urls, std::string_view username,
                             std::string_view credential) {
  nlohmann::ordered_json servers = nlohmann::ordered_json::array();
  if (!urls.stun.empty()) {
    nlohmann::ordered_json stun = nlohmann::ordered_json::object();
    stun["urls"] = urls.stun;
    servers.push_back(std::move(stun));
  }
  if (!urls.turn.empty()) {
    nlohmann::ordered_json turn = nlohmann::ordered_json::object();
    turn["urls"] = urls.turn;
    turn["username"] = std::string(username);
    turn["credential"] = std::string(credential);
    servers.push_back(std::move(turn));
  }
  return servers.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace turnpike::turn_auth
