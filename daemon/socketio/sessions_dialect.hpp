// The session dialect of seed 002 on Socket.IO: the handshake's userId and sessionId join the socket to its
// session; `signal` goes to the other members, `signal:offer|answer|ice-candidate` to the member named by
// `to`; members learn of each other through peer:joined/peer:left and user-joined/user-left. Each member gets
// its TURN credentials for the session in an `ice_servers` event before anything else, and POST
// /turn/credentials hands the same to a user with a live socket in the session; they are revoked, live relays
// included, sessions.turn_grace_seconds after the session's last member left.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "http/request.hpp"
#include "http/response.hpp"
#include "net/event_handles.hpp"
#include "sessions/connect_attempt_limiter.hpp"
#include "sessions/session_registry.hpp"
#include "socketio/socketio_server.hpp"

namespace turnpike {

class Clock;
class SessionTurnGrants;
struct Config;

struct SessionsPorts {
  event_base* base;
  const Config& config;
  const Clock& clock;
  // Null when the daemon issues no TURN credentials (tests).
  SessionTurnGrants* turn;
  // Runs `then` once the writes made so far are durable, with false if their commit failed.
  std::function<void(std::function<void(bool durable)> then)> when_durable;
  // Credentials were revoked and the kills of their relays queued.
  std::function<void()> revoked;
};

class SessionsDialect : public sio::NamespaceHandler {
 public:
  explicit SessionsDialect(SessionsPorts ports);
  ~SessionsDialect() override;

  std::optional<std::string> admit(const sio::Socket& socket, const nlohmann::ordered_json& auth) override;
  void on_connect(sio::Socket& socket, const nlohmann::ordered_json& auth) override;
  void on_event(sio::Socket& socket, std::string_view event, nlohmann::ordered_json& args,
                std::optional<std::uint64_t> ack_id) override;
  void on_disconnect(sio::Socket& socket, std::string_view reason) override;

  // POST /turn/credentials {userId, sessionId}: the user's credentials when it has a live socket in the
  // session, STUN only otherwise.
  http::Response turn_credentials(const http::Request& request);
  // Members whose credentials are due for renewal get an `ice_servers` event with fresh ones.
  void renew_ice_servers();

  const SessionRegistry& sessions() const { return registry_; }

 private:
  struct Member {
    sio::Socket* socket;
    std::string user_id;
    std::int64_t ice_expires_ms = 0;  // of the credentials it was sent; 0: none
    // While credentials sent to it wait for their commit, everything for it waits too, in order.
    std::uint64_t holding = 0;
    std::vector<std::pair<std::string, std::string>> held;  // event, argument
  };
  struct Grace;

  // The handshake's ids, or the CONNECT_ERROR text.
  struct Identity {
    std::string user_id, session_id;
  };
  std::variant<Identity, std::string> identity(const nlohmann::ordered_json& auth) const;
  void join(Member& member, const std::string& session_id);
  void leave(Member& member);
  void relay_to_session(Member& from, std::string_view event, nlohmann::ordered_json& payload);
  void relay_to_user(Member& from, std::string_view event, nlohmann::ordered_json& payload);
  void switch_session(Member& member, const nlohmann::ordered_json& payload);
  // Sends `event` with `json_arg` to the member (held while its credentials are not durable).
  void send(Member& member, std::string_view event, std::string json_arg);
  // Sends `event` to every member of `session_id` except `except`.
  void broadcast(const std::string& session_id, const std::string& except, std::string_view event,
                 const std::string& json_arg);
  // Sends the member its ICE servers for its session, issuing TURN credentials when TURN is on.
  void send_ice_servers(Member& member, const std::string& session_id);
  void release_held(const std::string& socket_id, std::uint64_t token, bool durable);
  // The {iceServers, timestamp} payload for a user of a session; `expires_ms` set when it holds credentials.
  std::string ice_payload(const std::string& session_id, const std::string& user_id,
                          std::int64_t& expires_ms);
  void start_grace(const std::string& session_id);
  static void on_grace_over(void* grace);

  SessionsPorts ports_;
  SessionRegistry registry_;
  ConnectAttemptLimiter attempts_;
  std::unordered_map<std::string, Member> members_;                 // by socket id
  std::unordered_map<std::string, std::unique_ptr<Grace>> graces_;  // sessions left empty, by id
  std::uint64_t next_hold_ = 0;
};

}  // namespace turnpike
