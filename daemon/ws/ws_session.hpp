// The WebSocket side of a connection: frames in and out, heartbeat pings, message rate limit; to the
// signaling core it is one Peer of the reference dialect.
#pragma once

#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "net/connection.hpp"
#include "signaling/peer.hpp"
#include "signaling/signaling.hpp"
#include "ws/frame_codec.hpp"

namespace turnpike {

class Metrics;

struct WsSessionPorts {
  const Config& config;
  Signaling& signaling;
  Metrics& metrics;
  // Messages of all sockets of one client address (limit_key) share a budget.
  AddressRateLimiter& address_rates;
};

class WsSession : public ConnectionHandler, public Peer {
 public:
  // `client` is the address resolved at the upgrade request (through a trusted proxy, the real client).
  WsSession(Connection& connection, WsSessionPorts ports, IpAddress client);

  void on_input(evbuffer* input) override;
  void on_close() override;
  void on_shutdown() override;
  bool is_websocket() const override { return true; }

  PeerId id() const override { return connection_.id(); }
  const IpAddress& address() const override { return client_; }
  void send(std::string_view message) override;
  void close(std::uint16_t code, std::string_view reason) override;

 private:
  static void on_heartbeat(void* self);
  void heartbeat();
  void handle(ws::Event& event);
  bool admit_message(double now);
  // Sends a close frame with `code` and ends the connection once it is written. `leave_room_now` frees the
  // signaling seat immediately (not allowed while Signaling is delivering to this session).
  void close_with(std::uint16_t code, std::string_view reason, bool leave_room_now = true);
  // Leaves the signaling core (the other member gets peer_disconnected); once.
  void leave_signaling();
  void send_frame(ws::Opcode opcode, std::string_view payload);

  Connection& connection_;
  WsSessionPorts ports_;
  IpAddress client_;
  IpAddress limit_key_;  // what its per-address message budget is counted under, fixed at the upgrade
  ws::FrameDecoder decoder_;
  std::vector<ws::Event> events_;
  Timer heartbeat_;
  double next_ping_;
  TokenBucket message_bucket_;
  double strike_window_start_ = 0;
  std::int64_t strikes_ = 0;
  double last_rate_error_ = -1e9;
  bool connected_ = false;
};

}  // namespace turnpike
