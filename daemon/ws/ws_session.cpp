// A WebSocket of the reference dialect.
#include "ws/ws_session.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace turnpike {

WsSession::WsSession(Connection& connection, WsSessionPorts ports, IpAddress client)
    : WsEndpoint(connection, {ports.config, ports.metrics, ports.address_rates}, client),
      signaling_(ports.signaling),
      id_(connection.id()),
      heartbeat_(connection.base(), &WsSession::on_heartbeat, this),
      next_ping_(monotonic_seconds() + ports.config.signaling.ping_interval_seconds) {
  log_debug("websocket_opened").kv("conn", id_).kv("peer", client.to_string());
  signaling_.connect(*this);
  connected_ = true;
  heartbeat();
}

void WsSession::on_heartbeat(void* self) {
  static_cast<WsSession*>(self)->heartbeat();
}

void WsSession::heartbeat() {
  if (connection().closing() || !connected_) return;
  // A peer silent for too long is dropped by the core, which closes it through close().
  if (signaling_.expire_if_silent(id())) return;
  const auto& settings = ports().config.signaling;
  double now = monotonic_seconds();
  if (now >= next_ping_) {
    send_frame(ws::Opcode::ping, {});
    next_ping_ = now + settings.ping_interval_seconds;
  }
  double last_heard = signaling_.last_heard(id()).value_or(now);
  double deadline = std::min(next_ping_, last_heard + settings.pong_timeout_seconds);
  heartbeat_.start(std::max(0.001, deadline - now));
}

void WsSession::on_message(std::string_view payload, bool /*binary: read as text, as the reference did*/) {
  signaling_.handle_message(id(), payload);
}

void WsSession::on_heard() {
  if (connected_) signaling_.heard_from(id());
}

void WsSession::on_rate_limited() {
  double now = monotonic_seconds();
  if (now - last_rate_error_ < 1.0) return;
  last_rate_error_ = now;
  send(R"({"type":"error","error":"Rate limit exceeded"})");
}

void WsSession::send(std::string_view message) {
  send_frame(ws::Opcode::text, message);
}

void WsSession::close(std::uint16_t code, std::string_view reason) {
  connected_ = false;  // the core already forgot this peer
  log_info("websocket_closed_by_signaling").kv("conn", id()).kv("code", code).kv("reason", reason);
  heartbeat_.stop();
  close_with(code, reason, /*leave_now=*/false);
}

void WsSession::on_leave() {
  heartbeat_.stop();
  if (!connected_) return;
  connected_ = false;
  signaling_.disconnect(id());
}

void WsSession::on_close() {
  leave();
  log_debug("websocket_closed").kv("conn", id());
}

void WsSession::on_shutdown() {
  heartbeat_.stop();
  close_with(ws::close_code::going_away, "server shutting down", /*leave_now=*/false);
}

}  // namespace turnpike
