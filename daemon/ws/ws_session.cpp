// The WebSocket side of a connection.
#include "ws/ws_session.hpp"

#include <event2/buffer.h>

#include <algorithm>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace turnpike {
namespace {

constexpr double kStrikeWindowSeconds = 10;
constexpr double kCloseLingerSeconds = 2;

}  // namespace

WsSession::WsSession(Connection& connection, WsSessionPorts ports, IpAddress client)
    : connection_(connection),
      ports_(ports),
      client_(client),
      limit_key_(limit_key(client, static_cast<int>(ports.config.limits.ipv6_prefix_length))),
      decoder_(static_cast<std::size_t>(ports.config.limits.max_message_bytes)),
      heartbeat_(connection.base(), &WsSession::on_heartbeat, this),
      next_ping_(monotonic_seconds() + ports.config.signaling.ping_interval_seconds) {
  log_debug("websocket_opened").kv("conn", connection_.id()).kv("peer", client_.to_string());
  ports_.signaling.connect(*this);
  connected_ = true;
  heartbeat();
}

void WsSession::on_heartbeat(void* self) {
  static_cast<WsSession*>(self)->heartbeat();
}

void WsSession::heartbeat() {
  if (connection_.closing() || !connected_) return;
  // A peer silent for too long is dropped by the core, which closes it through close().
  if (ports_.signaling.expire_if_silent(id())) return;
  const auto& settings = ports_.config.signaling;
  double now = monotonic_seconds();
  if (now >= next_ping_) {
    send_frame(ws::Opcode::ping, {});
    next_ping_ = now + settings.ping_interval_seconds;
  }
  double last_heard = ports_.signaling.last_heard(id()).value_or(now);
  double deadline = std::min(next_ping_, last_heard + settings.pong_timeout_seconds);
  heartbeat_.start(std::max(0.001, deadline - now));
}

void WsSession::on_input(evbuffer* input) {
  decoder_.set_max_message_bytes(static_cast<std::size_t>(ports_.config.limits.max_message_bytes));
  while (!connection_.closing() && evbuffer_get_length(input) > 0) {
    evbuffer_iovec chunk;
    if (evbuffer_peek(input, -1, nullptr, &chunk, 1) < 1) break;
    events_.clear();
    auto failure = decoder_.feed({static_cast<const char*>(chunk.iov_base), chunk.iov_len}, events_);
    evbuffer_drain(input, chunk.iov_len);
    if (connected_) ports_.signaling.heard_from(id());
    for (auto& event : events_) {
      if (connection_.closing()) return;
      handle(event);
    }
    if (failure && !connection_.closing()) {
      log_info("websocket_protocol_error")
          .kv("conn", connection_.id())
          .kv("code", failure->close_code)
          .kv("reason", failure->reason);
      close_with(failure->close_code, failure->reason);
    }
  }
}

void WsSession::handle(ws::Event& event) {
  switch (event.kind) {
    case ws::Event::Kind::text:
    case ws::Event::Kind::binary:
      if (admit_message(monotonic_seconds())) ports_.signaling.handle_message(id(), event.payload);
      break;
    case ws::Event::Kind::ping:
      send_frame(ws::Opcode::pong, event.payload);
      break;
    case ws::Event::Kind::pong:
      break;
    case ws::Event::Kind::close: {
      // Echo the peer's code (RFC 6455 §5.5.1); an empty close is answered with an empty close.
      std::string reply = event.close_code == ws::close_code::no_status
                              ? ws::encode_frame(ws::Opcode::close, {})
                              : ws::encode_close(event.close_code);
      (void)connection_.send(reply);
      connection_.close_after_flush(kCloseLingerSeconds);
      leave_signaling();
      break;
    }
  }
}

bool WsSession::admit_message(double now) {
  const auto& limits = ports_.config.limits;
  RateSettings rate{limits.ws_messages_per_second, limits.ws_message_burst};
  RateSettings per_address{limits.ws_messages_per_second_per_address, limits.ws_message_burst_per_address};
  // The socket's own bucket first, so that a socket over its rate does not drain its address's budget.
  if (message_bucket_.try_take(rate, now) && ports_.address_rates.try_take(limit_key_, per_address, now)) {
    return true;
  }
  ports_.metrics.count_rate_limited("ws");
  if (now - strike_window_start_ > kStrikeWindowSeconds) {
    strike_window_start_ = now;
    strikes_ = 0;
  }
  if (++strikes_ > limits.ws_rate_strikes) {
    log_warn("websocket_rate_closed").kv("conn", connection_.id()).kv("peer", client_.to_string());
    close_with(ws::close_code::policy_violation, "rate limit exceeded");
    return false;
  }
  if (now - last_rate_error_ >= 1.0) {
    last_rate_error_ = now;
    send(R"({"type":"error","error":"Rate limit exceeded"})");
  }
  return false;
}

void WsSession::send_frame(ws::Opcode opcode, std::string_view payload) {
  if (connection_.closing()) return;
  if (!connection_.send(ws::encode_frame_header(opcode, payload.size()), payload)) {
    // The client is not reading: what is queued is dropped, and it is told why if it ever reads again.
    log_warn("websocket_outbound_overflow").kv("conn", connection_.id());
    connection_.discard_output();
    close_with(ws::close_code::policy_violation, "outbound queue full", /*leave_room_now=*/false);
  }
}

void WsSession::send(std::string_view message) {
  send_frame(ws::Opcode::text, message);
}

void WsSession::close(std::uint16_t code, std::string_view reason) {
  connected_ = false;  // the core already forgot this peer
  log_info("websocket_closed_by_signaling").kv("conn", id()).kv("code", code).kv("reason", reason);
  close_with(code, reason, /*leave_room_now=*/false);
}

void WsSession::close_with(std::uint16_t code, std::string_view reason, bool leave_room_now) {
  if (connection_.closing()) return;
  ports_.metrics.count_ws_close(code);
  (void)connection_.send(ws::encode_close(code, reason));
  heartbeat_.stop();
  connection_.close_after_flush(kCloseLingerSeconds);
  // Free the seat at once rather than after the close frame drains; not while Signaling is delivering.
  if (leave_room_now) leave_signaling();
}

void WsSession::leave_signaling() {
  if (!connected_) return;
  connected_ = false;
  ports_.signaling.disconnect(id());
}

void WsSession::on_close() {
  heartbeat_.stop();
  leave_signaling();
  log_debug("websocket_closed").kv("conn", connection_.id());
}

void WsSession::on_shutdown() {
  close_with(ws::close_code::going_away, "server shutting down", /*leave_room_now=*/false);
}

}  // namespace turnpike
