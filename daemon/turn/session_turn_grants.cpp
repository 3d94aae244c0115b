// TURN credentials for the users of Socket.IO sessions.
#include "turn/session_turn_grants.hpp"

#include "core/random.hpp"
#include "turn-auth/ice_servers.hpp"
#include "turn/turn_store.hpp"

namespace turnpike {
namespace {

constexpr std::string_view kOwnerKind = "session_member";
constexpr std::size_t kOwnerIdBytes = 24;  // 48 hex characters, as turn_owners requires
constexpr int kSlot = 1;                   // one credential per owner

}  // namespace

Result<std::int64_t> SessionTurnGrants::revoke_leftovers() {
  return store_.remove_owners_of_kind(kOwnerKind);
}

Result<IceCredentials> SessionTurnGrants::credentials(const Config& config, const std::string& session,
                                                      const std::string& user, std::int64_t now_ms) {
  auto& users = owners_[session];
  auto owner = users.find(user);
  if (owner == users.end()) {
    std::string ownerid = random_hex(kOwnerIdBytes);
    if (auto added = store_.add_owner(ownerid, kOwnerKind, now_ms); !added) {
      if (users.empty()) owners_.erase(session);
      return added.error();
    }
    owner = users.emplace(user, std::move(ownerid)).first;
  }
  auto issued = issuer_.issue(config, owner->second, kSlot, now_ms);
  if (!issued) return issued.error();
  if (!*issued) return make_error("the credential owner is gone");  // only if its row was deleted by hand
  return std::move(**issued);
}

Result<void> SessionTurnGrants::revoke(const std::string& session) {
  auto it = owners_.find(session);
  if (it == owners_.end()) return {};
  for (const auto& [user, ownerid] : it->second) {
    if (auto removed = store_.remove_owner(ownerid); !removed) return removed;
  }
  owners_.erase(it);
  return {};
}

std::string stun_only_ice_servers(const Config& config) {
  IceServerUrls stun_only = config.turn.urls;
  stun_only.turn.clear();
  return turn_auth::ice_servers_json(stun_only, {}, {});
}

}  // namespace turnpike
