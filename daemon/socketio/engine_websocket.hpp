// The WebSocket transport of Engine.IO: a WebSocket whose text frames are the packets of one session.
#pragma once

#include <string>

#include "socketio/engine_session.hpp"
#include "ws/ws_endpoint.hpp"

namespace turnpike::eio {

class EngineWebSocket : public WsEndpoint, public SessionWebSocket {
 public:
  EngineWebSocket(Connection& connection, WsEndpointPorts ports, IpAddress client,
                  std::size_t max_payload_bytes);

  // The session this WebSocket carries or probes for; set once, by the server.
  void bind(Session& session) { session_ = &session; }

  void on_close() override;
  void on_shutdown() override;

  void send_text(std::string_view packet) override;
  void end(std::uint16_t code, std::string_view reason) override;

 private:
  void on_message(std::string_view payload, bool binary) override;
  void on_leave() override;
  std::size_t max_message_bytes() const override { return max_payload_bytes_; }

  Session* session_ = nullptr;
  std::size_t max_payload_bytes_;
};

}  // namespace turnpike::eio
