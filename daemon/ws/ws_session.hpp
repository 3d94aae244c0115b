// The WebSocket side of a connection: frames in and out, heartbeat, message rate limit, and the bridge to
// the signaling protocol.
#pragma once

#include "core/rate_limiter.hpp"
#include "net/connection.hpp"
#include "signaling/signaling.hpp"
#include "ws/frame_codec.hpp"

namespace turnpike {

class App;

class WsSession : public ConnectionHandler, public SignalingClient {
 public:
  WsSession(Connection& connection, App& app);

  void on_input(evbuffer* input) override;
  void on_close() override;
  void on_shutdown() override;
  bool is_websocket() const override { return true; }

  void deliver(std::string_view json_text) override;
  void end(std::uint16_t code) override;

 private:
  static void on_heartbeat(void* self);
  void heartbeat();
  void handle(ws::Event& event);
  bool admit_message(double now);
  // Sends a close frame with `code` and ends the connection once it is written. `leave_room_now` frees the
  // signaling seat immediately (not allowed while Signaling is delivering to this session).
  void close_with(std::uint16_t code, std::string_view reason, bool leave_room_now = true);
  // Leaves the signaling room (the peer gets peer_disconnected); once.
  void leave_signaling();
  void send_frame(ws::Opcode opcode, std::string_view payload);

  Connection& connection_;
  App& app_;
  ws::FrameDecoder decoder_;
  std::vector<ws::Event> events_;
  Timer heartbeat_;
  double last_received_;
  double next_ping_;
  TokenBucket message_bucket_;
  double strike_window_start_ = 0;
  std::int64_t strikes_ = 0;
  double last_rate_error_ = -1e9;
  bool connected_ = false;
};

}  // namespace turnpike
