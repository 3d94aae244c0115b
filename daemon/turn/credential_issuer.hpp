// TurnCredentialIssuer: hands out one TURN credential per (room, device), stable until a third of its
// lifetime is left, written into coturn's tables through TurnStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/result.hpp"

namespace turnpike {

class TurnStore;

struct IceCredentials {
  std::string ice_servers_json;  // the iceServers array, ready for RTCPeerConnection
  std::int64_t expires_ms = 0;
};

class TurnCredentialIssuer {
 public:
  explicit TurnCredentialIssuer(TurnStore& store) : store_(store) {}

  // slot 1 = the room's client1, 2 = client2; TURN must be enabled. nullopt when the room is not live (no row
  // in rooms as this connection sees it now, an uncommitted delete of this loop turn included): nothing is
  // issued or renewed for it.
  Result<std::optional<IceCredentials>> issue(const Config& config, const std::string& roomid, int slot,
                                              std::int64_t now_ms);
  // True when a credential that expires at expires_ms should be replaced by a fresh one.
  static bool due_for_renewal(const Config& config, std::int64_t expires_ms, std::int64_t now_ms);

 private:
  TurnStore& store_;
};

}  // namespace turnpike
