// The framing side of a WebSocket connection.
#include "ws/ws_endpoint.hpp"

#include <event2/buffer.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace turnpike {
namespace {

constexpr double kStrikeWindowSeconds = 10;
constexpr double kCloseLingerSeconds = 2;

}  // namespace

WsEndpoint::WsEndpoint(Connection& connection, WsEndpointPorts ports, IpAddress client)
    : connection_(connection),
      ports_(ports),
      client_(client),
      limit_key_(limit_key(client, static_cast<int>(ports.config.limits.ipv6_prefix_length))),
      decoder_(static_cast<std::size_t>(ports.config.limits.max_message_bytes)) {}

std::size_t WsEndpoint::max_message_bytes() const {
  return static_cast<std::size_t>(ports_.config.limits.max_message_bytes);
}

void WsEndpoint::on_input(evbuffer* input) {
  decoder_.set_max_message_bytes(max_message_bytes());
  while (!connection_.closing() && evbuffer_get_length(input) > 0) {
    evbuffer_iovec chunk;
    if (evbuffer_peek(input, -1, nullptr, &chunk, 1) < 1) break;
    events_.clear();
    auto failure = decoder_.feed({static_cast<const char*>(chunk.iov_base), chunk.iov_len}, events_);
    evbuffer_drain(input, chunk.iov_len);
    if (!left_) on_heard();
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

void WsEndpoint::handle(ws::Event& event) {
  switch (event.kind) {
    case ws::Event::Kind::text:
    case ws::Event::Kind::binary:
      if (admit_message(monotonic_seconds()))
        on_message(event.payload, event.kind == ws::Event::Kind::binary);
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
      leave();
      break;
    }
  }
}

bool WsEndpoint::admit_message(double now) {
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
  on_rate_limited();
  return false;
}

void WsEndpoint::send_frame(ws::Opcode opcode, std::string_view payload) {
  if (connection_.closing()) return;
  if (!connection_.send(ws::encode_frame_header(opcode, payload.size()), payload)) {
    // The client is not reading: what is queued is dropped, and it is told why if it ever reads again.
    log_warn("websocket_outbound_overflow").kv("conn", connection_.id());
    connection_.discard_output();
    close_with(ws::close_code::policy_violation, "outbound queue full", /*leave_now=*/false);
  }
}

void WsEndpoint::close_with(std::uint16_t code, std::string_view reason, bool leave_now) {
  if (connection_.closing()) return;
  ports_.metrics.count_ws_close(code);
  (void)connection_.send(ws::encode_close(code, reason));
  connection_.close_after_flush(kCloseLingerSeconds);
  // Free what the socket holds at once rather than after the close frame drains.
  if (leave_now) leave();
}

void WsEndpoint::leave() {
  if (left_) return;
  left_ = true;
  on_leave();
}

}  // namespace turnpike
