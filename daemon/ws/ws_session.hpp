// A WebSocket of the reference dialect: to the signaling core it is one Peer; it pings the client and drops
// it when the core finds it silent.
#pragma once

#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "net/connection.hpp"
#include "signaling/peer.hpp"
#include "signaling/signaling.hpp"
#include "ws/ws_endpoint.hpp"

namespace turnpike {

class Metrics;

struct WsSessionPorts {
  const Config& config;
  Signaling& signaling;
  Metrics& metrics;
  // Messages of all sockets of one client address (limit_key) share a budget.
  AddressRateLimiter& address_rates;
};

class WsSession : public WsEndpoint, public Peer {
 public:
  WsSession(Connection& connection, WsSessionPorts ports, IpAddress client);

  void on_close() override;
  void on_shutdown() override;

  PeerId id() const override { return id_; }
  const IpAddress& address() const override { return WsEndpoint::client(); }
  void send(std::string_view message) override;
  void close(std::uint16_t code, std::string_view reason) override;

 private:
  static void on_heartbeat(void* self);
  void heartbeat();
  void on_message(std::string_view payload, bool binary) override;
  void on_heard() override;
  void on_rate_limited() override;
  // Leaves the signaling core (the other member gets peer_disconnected); once.
  void on_leave() override;

  Signaling& signaling_;
  PeerId id_;
  Timer heartbeat_;
  double next_ping_;
  double last_rate_error_ = -1e9;
  bool connected_ = false;
};

}  // namespace turnpike
