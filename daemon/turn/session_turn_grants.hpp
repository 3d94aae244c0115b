// TURN credentials for the users of Socket.IO sessions (the session dialect): each (session, user) is an
// owner of credentials in turn_owners, issued like a pairing room's, and revoked, live relays included, when
// the session ends. Sessions live in memory, so owners left by an earlier run are revoked at start.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "core/config.hpp"
#include "core/result.hpp"
#include "turn/credential_issuer.hpp"

namespace turnpike {

class TurnStore;

class SessionTurnGrants {
 public:
  SessionTurnGrants(TurnStore& store, TurnCredentialIssuer& issuer) : store_(store), issuer_(issuer) {}

  // Revokes the owners an earlier run left behind; how many there were.
  Result<std::int64_t> revoke_leftovers();
  // The user's credentials in the session, issued on first use and renewed when due; TURN must be enabled.
  Result<IceCredentials> credentials(const Config& config, const std::string& session,
                                     const std::string& user, std::int64_t now_ms);
  // Revokes the credentials of every user of the session.
  Result<void> revoke(const std::string& session);
  std::size_t session_count() const { return owners_.size(); }

 private:
  TurnStore& store_;
  TurnCredentialIssuer& issuer_;
  // session id -> user id -> owner id
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> owners_;
};

// The iceServers array for a client that gets no credentials: the STUN URLs of turn.urls only ("[]" when
// none).
std::string stun_only_ice_servers(const Config& config);

}  // namespace turnpike
