// The WebSocket transport of Engine.IO.
#include "socketio/engine_websocket.hpp"

#include <utility>

#include "core/log.hpp"

namespace turnpike::eio {

EngineWebSocket::EngineWebSocket(Connection& connection, WsEndpointPorts ports, IpAddress client,
                                 std::size_t max_payload_bytes)
    : WsEndpoint(connection, ports, client), max_payload_bytes_(max_payload_bytes) {}

void EngineWebSocket::on_message(std::string_view payload, bool binary) {
  if (session_ == nullptr) return;
  if (binary) return session_->on_websocket_binary(*this);
  session_->on_websocket_packet(*this, payload);
}

void EngineWebSocket::send_text(std::string_view packet) {
  send_frame(ws::Opcode::text, packet);
}

void EngineWebSocket::end(std::uint16_t code, std::string_view reason) {
  session_ = nullptr;  // the session already let go of this WebSocket
  close_with(code, reason, /*leave_now=*/false);
}

void EngineWebSocket::on_leave() {
  if (Session* session = std::exchange(session_, nullptr)) session->on_websocket_gone(*this);
}

void EngineWebSocket::on_close() {
  leave();
}

void EngineWebSocket::on_shutdown() {
  close_with(ws::close_code::going_away, "server shutting down");
}

}  // namespace turnpike::eio
