// Engine.IO v4 on the daemon's port.
#include "socketio/engine_server.hpp"

#include <utility>

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/random.hpp"
#include "http/cors.hpp"
#include "socketio/engine_websocket.hpp"
#include "ws/handshake.hpp"

namespace turnpike::eio {
namespace {

constexpr std::size_t kSidBytes = 15;  // 20 base64url characters

// The errors engine.io answers with, and their codes (engine.io's Server.errors).
enum class EngineError { unknown_transport = 0, unknown_sid = 1, bad_handshake_method = 2, bad_request = 3 };
constexpr int kUnsupportedProtocolVersion = 5;

std::string_view message_of(EngineError error) {
  switch (error) {
    case EngineError::unknown_transport:
      return "Transport unknown";
    case EngineError::unknown_sid:
      return "Session ID unknown";
    case EngineError::bad_handshake_method:
      return "Bad handshake method";
    case EngineError::bad_request:
      return "Bad request";
  }
  return "Bad request";
}

http::Response engine_error(int code, std::string_view message) {
  return http::Response::json(
      400, R"({"code":)" + std::to_string(code) + R"(,"message":)" + json_quote(message) + "}");
}

http::Response engine_error(EngineError error) {
  return engine_error(static_cast<int>(error), message_of(error));
}

// CORS the way the seeds configure Socket.IO (`cors: {origin, credentials: true}`): an allowed Origin is
// reflected with credentials allowed; another one gets no Access-Control-Allow-Origin at all.
using Headers = std::vector<std::pair<std::string, std::string>>;

Headers cors_headers(const Config& config, const http::Request& request) {
  Headers headers;
  const std::string* origin = request.header("Origin");
  if (origin == nullptr) return headers;
  headers.emplace_back("Vary", "Origin");
  if (!http::origin_allowed(config, *origin)) return headers;
  headers.emplace_back("Access-Control-Allow-Origin", *origin);
  headers.emplace_back("Access-Control-Allow-Credentials", "true");
  return headers;
}

http::Response preflight(const http::Request& request) {
  http::Response response = http::Response::empty(204);
  response.with_header("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE");
  if (const std::string* asked = request.header("Access-Control-Request-Headers")) {
    response.with_header("Access-Control-Allow-Headers", *asked);
  }
  return response;
}

http::Response payload_response(std::string payload) {
  return http::Response::text(200, std::move(payload), "text/plain; charset=UTF-8");
}

}  // namespace

EngineServer::EngineServer(event_base* base, EnginePorts ports)
    : base_(base), ports_(ports), reaper_(base, &EngineServer::on_reap, this) {
  refresh_settings();
}

EngineServer::~EngineServer() {
  for (auto& [sid, session] : sessions_) session->release_websockets();
}

void EngineServer::refresh_settings() {
  const Config& config = ports_.config;
  settings_.ping_interval_seconds = config.socketio.ping_interval_seconds;
  settings_.ping_timeout_seconds = config.socketio.ping_timeout_seconds;
  settings_.max_payload_bytes = static_cast<std::size_t>(config.socketio.max_payload_bytes);
  settings_.max_queued_bytes = static_cast<std::size_t>(config.limits.max_outbound_bytes);
  settings_.message_rate = {config.limits.ws_messages_per_second, config.limits.ws_message_burst};
  settings_.message_rate_per_address = {config.limits.ws_messages_per_second_per_address,
                                        config.limits.ws_message_burst_per_address};
  settings_.rate_strikes = config.limits.ws_rate_strikes;
}

bool EngineServer::serves(std::string_view path) const {
  const std::string& base = ports_.config.socketio.path;
  return path.size() > base.size() && path.starts_with(base) && path[base.size()] == '/';
}

std::optional<http::Response> EngineServer::session_refusal(const RequestContext& ctx) const {
  const auto& limits = ports_.config.socketio;
  if (static_cast<std::int64_t>(sessions_.size()) >= limits.max_sessions) {
    return http::Response::error(503, "too_many_sessions");
  }
  auto it = sessions_per_address_.find(ctx.limit_key);
  if (it != sessions_per_address_.end() &&
      static_cast<std::int64_t>(it->second) >= limits.max_sessions_per_address) {
    return http::Response::error(503, "too_many_sessions_for_address");
  }
  return std::nullopt;
}

Session& EngineServer::create_session(const RequestContext& ctx) {
  std::string sid = random_base64url(kSidBytes);
  auto session = std::make_unique<Session>(base_, sid, ctx.peer, ctx.limit_key, settings_, ports_.listener,
                                           ports_.address_rates, ports_.metrics, ports_.outbound,
                                           [this](Session& closed) { retire(closed); });
  Session& added = *session;
  sessions_.emplace(std::move(sid), std::move(session));
  ++sessions_per_address_[ctx.limit_key];
  return added;
}

void EngineServer::retire(Session& session) {
  auto it = sessions_.find(session.sid());
  if (it == sessions_.end()) return;
  auto count = sessions_per_address_.find(session.limit_key());
  if (count != sessions_per_address_.end() && --count->second == 0) sessions_per_address_.erase(count);
  retired_.push_back(std::move(it->second));
  sessions_.erase(it);
  reaper_.start(0);
}

void EngineServer::on_reap(void* self) {
  static_cast<EngineServer*>(self)->retired_.clear();
}

void EngineServer::handle(const http::Request& request, const RequestContext& ctx, http::Respond respond) {
  refresh_settings();
  http::Respond answer = [cors = cors_headers(ports_.config, request),
                          respond = std::move(respond)](http::Response response) {
    response.cors = false;
    for (const auto& [name, value] : cors) response.with_header(name, value);
    respond(std::move(response));
  };
  if (request.method == "OPTIONS") return answer(preflight(request));
  std::optional<std::string> transport = request.query_param("transport");
  if (!transport || (*transport != "polling" && *transport != "websocket")) {
    return answer(engine_error(EngineError::unknown_transport));
  }
  std::optional<std::string> sid = request.query_param("sid");
  if (!sid) {
    if (request.method != "GET" && request.method != "HEAD") {
      return answer(engine_error(EngineError::bad_handshake_method));
    }
    if (request.query_param("EIO") != "4") {
      return answer(engine_error(kUnsupportedProtocolVersion, "Unsupported protocol version"));
    }
    if (*transport != "polling") return answer(engine_error(EngineError::bad_request));
    if (auto refusal = session_refusal(ctx)) return answer(std::move(*refusal));
    Session& session = create_session(ctx);
    log_debug("engineio_opened").kv("session", session.log_id()).kv("peer", ctx.peer.to_string());
    session.open_polling();
    return poll(session, std::move(answer));
  }
  auto it = sessions_.find(*sid);
  if (it == sessions_.end()) return answer(engine_error(EngineError::unknown_sid));
  Session& session = *it->second;
  if (*transport != "polling" || session.on_websocket())
    return answer(engine_error(EngineError::bad_request));
  if (request.method == "GET" || request.method == "HEAD") return poll(session, std::move(answer));
  if (request.method != "POST") return answer(engine_error(EngineError::bad_request));
  if (auto malformed = session.post(request.body)) {
    log_info("engineio_bad_post").kv("session", session.log_id()).kv("error", *malformed);
    return answer(engine_error(EngineError::bad_request));
  }
  answer(http::Response::text(200, "ok", "text/html"));
}

void EngineServer::poll(Session& session, http::Respond answer) {
  // An overlapping poll closes the session and is refused; the poll that waited gets the close packet.
  auto shared = std::make_shared<http::Respond>(std::move(answer));
  if (!session.poll([shared](std::string payload) { (*shared)(payload_response(std::move(payload))); })) {
    (*shared)(engine_error(EngineError::bad_request));
  }
}

HttpUpgrade EngineServer::upgrade(const http::Request& request, const RequestContext& ctx) {
  refresh_settings();
  // engine.io refuses an upgrade with the bare message as text/html (its abortUpgrade).
  auto refuse = [](std::string_view message) {
    return HttpUpgrade{{}, nullptr, http::Response::text(400, std::string(message), "text/html")};
  };
  if (request.query_param("transport") != "websocket")
    return refuse(message_of(EngineError::unknown_transport));
  std::optional<std::string> sid = request.query_param("sid");
  if (sid) {
    auto it = sessions_.find(*sid);
    if (it == sessions_.end()) return refuse(message_of(EngineError::unknown_sid));
    const Session& upgrading = *it->second;
    if (upgrading.on_websocket() || upgrading.upgrading() || upgrading.closed()) {
      return refuse(message_of(EngineError::bad_request));
    }
  } else {
    if (request.query_param("EIO") != "4") return refuse("Unsupported protocol version");
    if (auto refusal = session_refusal(ctx)) return HttpUpgrade{{}, nullptr, std::move(*refusal)};
  }
  auto answer = ws::answer_handshake(request, ports_.config);
  if (!answer.switching_protocols) return HttpUpgrade{{}, nullptr, std::move(answer.refusal)};
  WsEndpointPorts ws_ports{ports_.config, ports_.metrics, ports_.address_rates};
  return {std::move(*answer.switching_protocols),
          [this, ws_ports, ctx,
           sid = std::move(sid)](Connection& connection) -> std::unique_ptr<ConnectionHandler> {
            auto websocket = std::make_unique<EngineWebSocket>(connection, ws_ports, ctx.peer,
                                                               settings_.max_payload_bytes);
            if (sid) {
              auto it = sessions_.find(*sid);
              if (it == sessions_.end() || it->second->closed()) {
                websocket->end(ws::close_code::normal, "Session ID unknown");
                return websocket;
              }
              websocket->bind(*it->second);
              it->second->begin_upgrade(*websocket);
              return websocket;
            }
            Session& session = create_session(ctx);
            log_debug("engineio_opened").kv("session", session.log_id()).kv("peer", ctx.peer.to_string());
            websocket->bind(session);
            session.open_on_websocket(*websocket);
            return websocket;
          },
          {}};
}

void EngineServer::refused(const http::Request& request) {
  std::optional<std::string> sid = request.query_param("sid");
  if (!sid) return;
  auto it = sessions_.find(*sid);
  if (it != sessions_.end()) it->second->fail("payload too large");
}

void EngineServer::shutdown() {
  std::vector<Session*> open;
  for (auto& [sid, session] : sessions_) open.push_back(session.get());
  for (Session* session : open) session->close("server shutting down");
}

}  // namespace turnpike::eio
