// The session dialect of seed 002 on Socket.IO.
#include "socketio/sessions_dialect.hpp"

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "turn/credential_issuer.hpp"
#include "turn/session_turn_grants.hpp"

namespace turnpike {
namespace {

using nlohmann::ordered_json;

// A non-empty string member of `object`, or nullptr.
const std::string* string_member(const ordered_json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return nullptr;
  return &it->get_ref<const std::string&>();
}

std::string error_payload(std::string_view message) {
  return R"({"message":)" + json_quote(message) + "}";
}

std::string user_payload(const std::string& user_id) {
  return R"({"userId":)" + json_quote(user_id) + "}";
}

// The payload of `ice_servers` and of POST /turn/credentials.
std::string ice_servers_payload(const std::string& ice_servers_json, std::int64_t now_ms) {
  return R"({"iceServers":)" + ice_servers_json + R"(,"timestamp":)" + std::to_string(now_ms) + "}";
}

std::string peer_payload(const std::string& user_id, const std::string& socket_id) {
  return R"({"userId":)" + json_quote(user_id) + R"(,"socketId":)" + json_quote(socket_id) + "}";
}

}  // namespace

// A session left without members, and the timer that revokes its credentials.
struct SessionsDialect::Grace {
  Grace(SessionsDialect& owner, std::string session)
      : dialect(owner),
        session_id(std::move(session)),
        timer(owner.ports_.base, &SessionsDialect::on_grace_over, this) {}
  SessionsDialect& dialect;
  std::string session_id;
  Timer timer;
};

SessionsDialect::SessionsDialect(SessionsPorts ports) : ports_(std::move(ports)) {}

SessionsDialect::~SessionsDialect() = default;

std::variant<SessionsDialect::Identity, std::string> SessionsDialect::identity(
    const ordered_json& auth) const {
  const std::string* user = string_member(auth, "userId");
  if (user == nullptr) return std::string("Authentication required");
  const std::string* session = string_member(auth, "sessionId");
  if (session == nullptr) return std::string("Session ID required");
  const auto max_bytes = static_cast<std::size_t>(ports_.config.limits.max_id_bytes);
  if (user->size() > max_bytes) return std::string("userId too long");
  if (session->size() > max_bytes) return std::string("sessionId too long");
  return Identity{*user, *session};
}

std::optional<std::string> SessionsDialect::admit(const sio::Socket&, const ordered_json& auth) {
  auto id = identity(auth);
  if (auto* refusal = std::get_if<std::string>(&id)) return *refusal;
  const Identity& admitted = std::get<Identity>(id);
  // As the seed: only handshakes with credentials count, and a refused attempt does not.
  if (!attempts_.try_attempt(admitted.user_id, ports_.clock.monotonic_seconds(),
                             ports_.config.sessions.connect_attempts_per_second)) {
    return std::string("Rate limit exceeded");
  }
  if (registry_.members(admitted.session_id).size() >=
      static_cast<std::size_t>(ports_.config.sessions.max_members)) {
    return std::string("Session is full");
  }
  return std::nullopt;
}

void SessionsDialect::on_connect(sio::Socket& socket, const ordered_json& auth) {
  Identity id = std::get<Identity>(identity(auth));  // admitted, so it has both
  Member& member = members_[socket.id()];
  member.socket = &socket;
  member.user_id = id.user_id;
  join(member, id.session_id);
}

void SessionsDialect::join(Member& member, const std::string& session_id) {
  const std::string& socket_id = member.socket->id();
  if (!registry_.join(session_id, {socket_id, member.user_id},
                      static_cast<std::size_t>(ports_.config.sessions.max_members))) {
    send(member, "error", error_payload("Session is full"));
    return;
  }
  graces_.erase(session_id);  // someone is back before its credentials were revoked
  // Its ICE servers come first; what the others send it waits behind them.
  send_ice_servers(member, session_id);
  log_debug("session_joined").kv("socket", socket_id);
  broadcast(session_id, socket_id, "peer:joined", peer_payload(member.user_id, socket_id));
  broadcast(session_id, socket_id, "user-joined", user_payload(member.user_id));
}

void SessionsDialect::leave(Member& member) {
  const std::string& socket_id = member.socket->id();
  std::optional<std::string> left = registry_.leave(socket_id);
  if (!left) return;
  member.ice_expires_ms = 0;
  broadcast(*left, socket_id, "peer:left", peer_payload(member.user_id, socket_id));
  broadcast(*left, socket_id, "user-left", user_payload(member.user_id));
  if (registry_.members(*left).empty()) start_grace(*left);
}

void SessionsDialect::on_disconnect(sio::Socket& socket, std::string_view) {
  auto it = members_.find(socket.id());
  if (it == members_.end()) return;
  leave(it->second);
  members_.erase(it);
}

void SessionsDialect::on_event(sio::Socket& socket, std::string_view event, ordered_json& args,
                               std::optional<std::uint64_t>) {
  auto it = members_.find(socket.id());
  if (it == members_.end()) return;
  Member& member = it->second;
  const bool to_user = event == "signal:offer" || event == "signal:answer" || event == "signal:ice-candidate";
  if (event != "signal" && !to_user && event != "join-session") return;  // not this dialect's
  if (args.empty() || !args.front().is_object()) {
    send(member, "error",
         error_payload("Invalid payload for " + std::string(event) + ": expected an object"));
    return;
  }
  ordered_json& payload = args.front();
  if (event == "signal") return relay_to_session(member, event, payload);
  if (to_user) return relay_to_user(member, event, payload);
  switch_session(member, payload);
}

void SessionsDialect::relay_to_session(Member& from, std::string_view event, ordered_json& payload) {
  const std::string* session = registry_.session_of(from.socket->id());
  if (session == nullptr) return;
  payload["from"] = from.user_id;  // the server's word, whatever the client claimed
  broadcast(*session, from.socket->id(), event, payload.dump());
}

void SessionsDialect::relay_to_user(Member& from, std::string_view event, ordered_json& payload) {
  const std::string* session = registry_.session_of(from.socket->id());
  const std::string* to = string_member(payload, "to");
  if (session == nullptr || to == nullptr)
    return;  // no addressee: dropped, as the README's isolation implies
  payload["from"] = from.user_id;
  const std::string text = payload.dump();
  for (const auto& other : registry_.members(*session)) {
    if (other.user_id == *to && other.socket_id != from.socket->id())
      send(members_.at(other.socket_id), event, text);
  }
}

void SessionsDialect::switch_session(Member& member, const ordered_json& payload) {
  const std::string* target = string_member(payload, "sessionId");
  if (target == nullptr) {
    send(member, "error", error_payload("Invalid payload for join-session: expected a sessionId"));
    return;
  }
  const std::string* current = registry_.session_of(member.socket->id());
  if (current != nullptr && *current == *target)
    return;  // already there (the README client joins on connect)
  if (target->size() > static_cast<std::size_t>(ports_.config.limits.max_id_bytes)) {
    send(member, "error", error_payload("sessionId too long"));
    return;
  }
  if (registry_.members(*target).size() >= static_cast<std::size_t>(ports_.config.sessions.max_members)) {
    send(member, "error", error_payload("Session is full"));
    return;
  }
  const std::string session_id = *target;
  leave(member);
  join(member, session_id);
}

void SessionsDialect::send(Member& member, std::string_view event, std::string json_arg) {
  if (member.holding != 0) {
    member.held.emplace_back(event, std::move(json_arg));
    return;
  }
  member.socket->emit(event, json_arg);
}

void SessionsDialect::broadcast(const std::string& session_id, const std::string& except,
                                std::string_view event, const std::string& json_arg) {
  for (const auto& other : registry_.members(session_id)) {
    if (other.socket_id != except) send(members_.at(other.socket_id), event, json_arg);
  }
}

std::string SessionsDialect::ice_payload(const std::string& session_id, const std::string& user_id,
                                         std::int64_t& expires_ms) {
  const Config& config = ports_.config;
  const std::int64_t now_ms = ports_.clock.wall_clock_ms();
  std::string ice_servers = stun_only_ice_servers(config);
  expires_ms = 0;
  if (ports_.turn != nullptr && config.turn.enabled()) {
    auto issued = ports_.turn->credentials(config, session_id, user_id, now_ms);
    if (issued) {
      ice_servers = std::move(issued->ice_servers_json);
      expires_ms = issued->expires_ms;
    } else {
      log_error("turn_issue_failed").kv("reason", issued.error().message);
    }
  }
  return ice_servers_payload(ice_servers, now_ms);
}

void SessionsDialect::send_ice_servers(Member& member, const std::string& session_id) {
  std::string payload = ice_payload(session_id, member.user_id, member.ice_expires_ms);
  if (member.ice_expires_ms != 0 && member.holding == 0) {
    // Credentials just written: this event and everything after it wait until they are durable.
    const std::uint64_t token = ++next_hold_;
    member.holding = token;
    ports_.when_durable([this, socket_id = member.socket->id(), token](bool durable) {
      release_held(socket_id, token, durable);
    });
  }
  send(member, "ice_servers", std::move(payload));
}

void SessionsDialect::release_held(const std::string& socket_id, std::uint64_t token, bool durable) {
  auto it = members_.find(socket_id);
  if (it == members_.end() || it->second.holding != token) return;
  Member& member = it->second;
  member.holding = 0;
  auto held = std::move(member.held);
  member.held.clear();
  if (!durable) {
    log_error("session_credentials_not_durable").kv("socket", socket_id);
    member.socket->end("server error");
    return;
  }
  for (auto& [event, json_arg] : held) member.socket->emit(event, json_arg);
}

void SessionsDialect::renew_ice_servers() {
  if (ports_.turn == nullptr || !ports_.config.turn.enabled()) return;
  const std::int64_t now_ms = ports_.clock.wall_clock_ms();
  for (auto& [socket_id, member] : members_) {
    if (member.ice_expires_ms == 0 ||
        !TurnCredentialIssuer::due_for_renewal(ports_.config, member.ice_expires_ms, now_ms)) {
      continue;
    }
    if (const std::string* session = registry_.session_of(socket_id)) send_ice_servers(member, *session);
  }
}

http::Response SessionsDialect::turn_credentials(const http::Request& request) {
  const ordered_json body = ordered_json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  const std::string* user = string_member(body, "userId");
  const std::string* session = string_member(body, "sessionId");
  bool live = false;
  if (user != nullptr && session != nullptr) {
    for (const auto& member : registry_.members(*session)) live = live || member.user_id == *user;
  }
  std::int64_t expires_ms = 0;
  if (live) return http::Response::json(200, ice_payload(*session, *user, expires_ms));
  return http::Response::json(
      200, ice_servers_payload(stun_only_ice_servers(ports_.config), ports_.clock.wall_clock_ms()));
}

void SessionsDialect::start_grace(const std::string& session_id) {
  auto grace = std::make_unique<Grace>(*this, session_id);
  grace->timer.start(ports_.config.sessions.turn_grace_seconds);
  graces_[session_id] = std::move(grace);
}

void SessionsDialect::on_grace_over(void* self) {
  auto* grace = static_cast<Grace*>(self);
  SessionsDialect& dialect = grace->dialect;
  const std::string session_id = grace->session_id;
  dialect.graces_.erase(session_id);  // destroys `grace`
  if (!dialect.registry_.members(session_id).empty() || dialect.ports_.turn == nullptr) return;
  if (auto revoked = dialect.ports_.turn->revoke(session_id); !revoked) {
    // Tried again after another grace period; until then the credentials stay valid.
    log_error("session_revoke_failed").kv("reason", revoked.error().message);
    dialect.start_grace(session_id);
    return;
  }
  log_info("session_credentials_revoked");
  if (dialect.ports_.revoked) dialect.ports_.revoked();
}

}  // namespace turnpike
