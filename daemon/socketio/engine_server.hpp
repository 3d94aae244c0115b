// Engine.IO v4 on the daemon's port: the handshake, long-polling requests and WebSocket upgrades under
// socketio.path, the sessions by sid, and their bounds (socketio.max_sessions, per address).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/address.hpp"
#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "http/http_session.hpp"
#include "http/request.hpp"
#include "http/request_context.hpp"
#include "http/response.hpp"
#include "net/event_handles.hpp"
#include "socketio/engine_session.hpp"

namespace turnpike {
class Metrics;
}

namespace turnpike::eio {

struct EnginePorts {
  const Config& config;
  Metrics& metrics;
  // Messages of all sessions and sockets of one client address share a budget (as WebSocket messages do).
  AddressRateLimiter& address_rates;
  SessionListener& listener;
  // The listener's accounting of bytes queued for clients: polling queues count in it too.
  OutboundMemory& outbound;
};

class EngineServer {
 public:
  EngineServer(event_base* base, EnginePorts ports);
  EngineServer(const EngineServer&) = delete;
  EngineServer& operator=(const EngineServer&) = delete;

  // True for a request path under socketio.path ("/socket.io/", "/socket.io/?EIO=4…").
  bool serves(std::string_view path) const;
  // A long-polling request, a handshake, or a CORS preflight.
  void handle(const http::Request& request, const RequestContext& ctx, http::Respond respond);
  // A WebSocket upgrade: opens a session on it, or starts the upgrade of a polling session (sid).
  HttpUpgrade upgrade(const http::Request& request, const RequestContext& ctx);
  // A request under socketio.path that HTTP refused before it was complete (its body is over
  // socketio.max_payload_bytes): its session is closed, as engine.io closes it.
  void refused(const http::Request& request);
  // Let go of the WebSockets of every session (so that their connections, closed later, find none).
  ~EngineServer();
  // Closes every session (waiting polls get the close packet).
  void shutdown();

 private:
  static void on_reap(void* self);
  // The settings sessions read, from the current config.
  void refresh_settings();
  // Why no new session may open for `ctx` now, or nullopt.
  std::optional<http::Response> session_refusal(const RequestContext& ctx) const;
  Session& create_session(const RequestContext& ctx);
  void retire(Session& session);
  // A GET poll: answered now or once the session has something to send.
  void poll(Session& session, http::Respond answer);

  event_base* base_;
  EnginePorts ports_;
  EngineSettings settings_;
  std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> sessions_per_address_;
  // Closed sessions, destroyed on the next loop turn (never inside their own callbacks).
  std::vector<std::unique_ptr<Session>> retired_;
  Timer reaper_;
};

}  // namespace turnpike::eio
