// The framing side of a WebSocket connection: frames in and out, the close handshake, the per-socket and
// per-address message budgets and the outbound cap. What the messages mean is up to the subclass.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "net/connection.hpp"
#include "ws/frame_codec.hpp"

namespace turnpike {

class Metrics;

struct WsEndpointPorts {
  const Config& config;
  Metrics& metrics;
  // Messages of all sockets of one client address (limit_key) share a budget.
  AddressRateLimiter& address_rates;
};

class WsEndpoint : public ConnectionHandler {
 public:
  // `client` is the address resolved at the upgrade request (through a trusted proxy, the real client).
  WsEndpoint(Connection& connection, WsEndpointPorts ports, IpAddress client);

  void on_input(evbuffer* input) override;
  bool is_websocket() const override { return true; }

 protected:
  // One complete text or binary message that the budgets admitted.
  virtual void on_message(std::string_view payload, bool binary) = 0;
  // Any frame arrived (a pong included), before its events are handled.
  virtual void on_heard() {}
  // A message went over the budget and was dropped (the socket is closed after ws_rate_strikes of them).
  virtual void on_rate_limited() {}
  // The client is gone or being closed: leave whatever the socket is part of; called once at most.
  virtual void on_leave() = 0;
  // The largest message this socket takes (checked again before each read).
  virtual std::size_t max_message_bytes() const;

  void send_frame(ws::Opcode opcode, std::string_view payload);
  // Sends a close frame with `code` and ends the connection once it is written. `leave_now` calls on_leave at
  // once rather than when the connection ends (not allowed while the socket is being delivered to).
  void close_with(std::uint16_t code, std::string_view reason, bool leave_now = true);
  // Calls on_leave, once.
  void leave();

  Connection& connection() { return connection_; }
  const WsEndpointPorts& ports() const { return ports_; }
  const IpAddress& client() const { return client_; }
  bool left() const { return left_; }

 private:
  void handle(ws::Event& event);
  bool admit_message(double now);

  Connection& connection_;
  WsEndpointPorts ports_;
  IpAddress client_;
  IpAddress limit_key_;  // what its per-address message budget is counted under, fixed at the upgrade
  ws::FrameDecoder decoder_;
  std::vector<ws::Event> events_;
  TokenBucket message_bucket_;
  double strike_window_start_ = 0;
  std::int64_t strikes_ = 0;
  bool left_ = false;
};

}  // namespace turnpike
