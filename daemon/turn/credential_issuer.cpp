// Issuing per-room TURN credentials in long-term or REST mode.
#include "turn/credential_issuer.hpp"

#include "core/random.hpp"
#include "turn-auth/credentials.hpp"
#include "turn-auth/ice_servers.hpp"
#include "turn/turn_store.hpp"

namespace turnpike {
namespace {

constexpr std::size_t kPasswordBytes = 16;  // 32 hex characters
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kUserIdBytes = 16;  // 32 hex characters, from the CSPRNG: an opaque TURN user id

std::int64_t ttl_ms(const Config& config) {
  return static_cast<std::int64_t>(config.turn.ttl_seconds * 1000);
}

}  // namespace

bool TurnCredentialIssuer::due_for_renewal(const Config& config, std::int64_t expires_ms,
                                           std::int64_t now_ms) {
  return (expires_ms - now_ms) * 3 <= ttl_ms(config);
}

Result<std::optional<IceCredentials>> TurnCredentialIssuer::issue(const Config& config,
                                                                  const std::string& roomid, int slot,
                                                                  std::int64_t now_ms) {
  auto current = store_.newest(roomid, slot, now_ms, config.turn.realm, to_string(config.turn.mode));
  if (!current) return current.error();

  TurnCredential credential;
  if (*current && !due_for_renewal(config, (*current)->expires_ms, now_ms)) {
    // Its row exists, so its room does: a room's delete removes its credentials in the same statement.
    credential = std::move(**current);
  } else {
    // Expiry on a whole second, so the REST username's timestamp and the row agree exactly.
    std::int64_t expiry_s = (now_ms + ttl_ms(config)) / 1000;
    credential.created_ms = now_ms;
    credential.expires_ms = expiry_s * 1000;
    const std::string& realm = config.turn.realm;
    // The room id is the room's bearer capability and must not travel in STUN or show in coturn's logs: the
    // username is a random id that only turn_credentials maps back to (room, slot).
    std::string userid = random_hex(kUserIdBytes);
    if (config.turn.mode == TurnMode::rest) {
      auto secret = store_.room_secret(roomid, realm, random_hex(kSecretBytes));
      if (!secret) return secret.error();
      if (!*secret) return std::optional<IceCredentials>{};
      credential.username = std::to_string(expiry_s) + ":" + userid;
      credential.credential = turn_auth::rest_password(**secret, credential.username);
      if (credential.credential.empty()) return make_error("HMAC-SHA1 failed");
      auto inserted = store_.insert_rest(roomid, slot, realm, credential);
      if (!inserted) return inserted.error();
      if (!*inserted) return std::optional<IceCredentials>{};
    } else {
      credential.username = userid;
      credential.credential = random_hex(kPasswordBytes);
      auto hmackey = turn_auth::lt_hmackey(credential.username, realm, credential.credential);
      if (hmackey.empty()) return make_error("MD5 failed");
      auto inserted = store_.insert_long_term(roomid, slot, realm, credential, hmackey);
      if (!inserted) return inserted.error();
      if (!*inserted) return std::optional<IceCredentials>{};
    }
  }
  return std::optional<IceCredentials>(IceCredentials{
      turn_auth::ice_servers_json(config.turn.urls, credential.username, credential.credential),
      credential.expires_ms});
}

}  // namespace turnpike
