// One Engine.IO v4 session.
#include "socketio/engine_session.hpp"

#include <utility>

#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "socketio/engineio_packet.hpp"
#include "ws/frame_codec.hpp"

namespace turnpike::eio {
namespace {

std::uint64_t next_log_id = 0;

}  // namespace

Session::Session(event_base* base, std::string sid, IpAddress client, IpAddress limit_key,
                 const EngineSettings& settings, SessionListener& listener, AddressRateLimiter& address_rates,
                 Metrics& metrics, OutboundMemory& memory, std::function<void(Session&)> retire)
    : sid_(std::move(sid)),
      log_id_(++next_log_id),
      client_(client),
      limit_key_(limit_key),
      settings_(settings),
      listener_(listener),
      address_rates_(address_rates),
      metrics_(metrics),
      memory_(memory),
      entry_(memory.attach(limit_key_)),
      retire_(std::move(retire)),
      ping_timer_(base, &Session::on_ping_timer, this),
      upgrade_timer_(base, &Session::on_upgrade_timer, this),
      overflow_timer_(base, &Session::on_overflow_timer, this) {}

Session::~Session() {
  drop_queued();
  memory_.detach(entry_);
}

void Session::drop_queued() {
  memory_.release(entry_, queued_bytes_);
  queued_.clear();
  queued_bytes_ = 0;
}

std::string Session::open_data() const {
  const bool can_upgrade = websocket_ == nullptr;
  return R"({"sid":)" + json_quote(sid_) + R"(,"upgrades":)" + (can_upgrade ? R"(["websocket"])" : "[]") +
         R"(,"pingInterval":)" +
         std::to_string(static_cast<std::int64_t>(settings_.ping_interval_seconds * 1000)) +
         R"(,"pingTimeout":)" +
         std::to_string(static_cast<std::int64_t>(settings_.ping_timeout_seconds * 1000)) +
         R"(,"maxPayload":)" + std::to_string(settings_.max_payload_bytes) + "}";
}

void Session::open_polling() {
  state_ = State::open;
  queue(encode_packet(PacketType::open, open_data()));
  ping_timer_.start(settings_.ping_interval_seconds);
  listener_.on_open(*this);
}

void Session::open_on_websocket(SessionWebSocket& websocket) {
  websocket_ = &websocket;
  state_ = State::open;
  websocket.send_text(encode_packet(PacketType::open, open_data()));
  ping_timer_.start(settings_.ping_interval_seconds);
  listener_.on_open(*this);
}

bool Session::poll(std::function<void(std::string payload)> answer) {
  if (waiting_poll_) {
    // Two polls at once: the client is confused or hostile (engine.io closes the session too).
    finish("poll overlap");
    return false;
  }
  waiting_poll_ = std::move(answer);
  flush_poll();
  return true;
}

void Session::flush_poll() {
  if (!waiting_poll_ || queued_.empty()) return;
  std::string payload;
  for (const auto& packet : queued_) {
    if (!payload.empty()) payload += '\x1e';
    payload += packet;
  }
  drop_queued();
  auto answer = std::move(waiting_poll_);
  waiting_poll_ = nullptr;
  answer(std::move(payload));
  if (closed()) retire();  // the close packet went out with it
}

std::optional<std::string> Session::post(std::string_view body) {
  std::vector<Packet> packets;
  if (auto error = decode_payload(body, settings_.max_packets_per_post, packets)) {
    std::string reason(describe(*error));
    finish("parse error");
    return reason;
  }
  for (const auto& packet : packets) {
    if (closed()) break;
    // Messages over a WebSocket were admitted by its own budget; these are admitted here.
    if (packet.type == PacketType::message && !admit_message()) continue;
    handle_packet(packet);
  }
  return std::nullopt;
}

void Session::handle_text(std::string_view text) {
  auto decoded = decode_packet(text);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    log_info("engineio_parse_error").kv("session", log_id_).kv("error", describe(*error));
    finish("parse error");
    return;
  }
  handle_packet(std::get<Packet>(decoded));
}

void Session::handle_packet(const Packet& packet) {
  switch (packet.type) {
    case PacketType::pong:
      awaiting_pong_ = false;
      ping_timer_.start(settings_.ping_interval_seconds);
      break;
    case PacketType::message:
      listener_.on_message(*this, packet.data);
      break;
    case PacketType::close:
      finish("transport close");
      break;
    case PacketType::noop:
      break;
    case PacketType::ping:  // a v4 client never pings (except the probe, handled by the upgrade)
    case PacketType::open:
    case PacketType::upgrade:
      log_info("engineio_unexpected_packet")
          .kv("session", log_id_)
          .kv("type", static_cast<char>(packet.type));
      finish("invalid packet");
      break;
  }
}

bool Session::admit_message() {
  const double now = monotonic_seconds();
  if (message_bucket_.try_take(settings_.message_rate, now) &&
      address_rates_.try_take(limit_key_, settings_.message_rate_per_address, now)) {
    return true;
  }
  metrics_.count_rate_limited("ws");
  constexpr double kStrikeWindowSeconds = 10;
  if (now - strike_window_start_ > kStrikeWindowSeconds) {
    strike_window_start_ = now;
    strikes_ = 0;
  }
  if (++strikes_ > settings_.rate_strikes) {
    log_warn("engineio_rate_closed").kv("session", log_id_).kv("peer", client_.to_string());
    finish("rate limit exceeded");
  }
  return false;
}

void Session::queue(std::string packet) {
  if (websocket_ != nullptr) {
    websocket_->send_text(packet);
    return;
  }
  // A session with nothing queued always takes its next packet, so the shared caps stop the clients that do
  // not poll, not whoever is next (as for WebSocket output).
  const bool over = queued_bytes_ + packet.size() > settings_.max_queued_bytes ||
                    (!queued_.empty() && !memory_.admits(entry_, packet.size()));
  if (over && !closed()) {
    // The client does not poll: what waits is dropped and the session ends, in the next loop turn, so that
    // whoever is sending to it (perhaps to many sessions in a row) never sees a session vanish midway.
    log_warn("engineio_queue_full").kv("session", log_id_).kv("bytes", queued_bytes_);
    drop_queued();
    state_ = State::overflowed;
    overflow_timer_.start(0);
    return;
  }
  memory_.add(entry_, packet.size());
  queued_bytes_ += packet.size();
  queued_.push_back(std::move(packet));
  flush_poll();
}

void Session::begin_upgrade(SessionWebSocket& websocket) {
  probe_ = &websocket;
  upgrade_timer_.start(settings_.upgrade_timeout_seconds);
}

void Session::on_websocket_packet(SessionWebSocket& websocket, std::string_view text) {
  if (&websocket == websocket_) return handle_text(text);
  if (&websocket != probe_ || closed()) return;
  auto decoded = decode_packet(text);
  const Packet* packet = std::get_if<Packet>(&decoded);
  if (packet != nullptr && packet->type == PacketType::ping && packet->data == "probe") {
    websocket.send_text(encode_packet(PacketType::pong, "probe"));
    // The poll that waits returns with a noop, so the client pauses polling and sends the upgrade packet.
    queue(encode_packet(PacketType::noop));
    return;
  }
  if (packet != nullptr && packet->type == PacketType::upgrade) {
    upgrade_timer_.stop();
    probe_ = nullptr;
    if (waiting_poll_) queue(encode_packet(PacketType::noop));
    websocket_ = &websocket;
    for (const auto& queued : queued_) websocket.send_text(queued);
    drop_queued();
    return;
  }
  // Anything else while probing: the upgrade is off, the session stays on polling.
  probe_ = nullptr;
  upgrade_timer_.stop();
  websocket.end(ws::close_code::protocol_error, "invalid upgrade");
}

void Session::on_websocket_binary(SessionWebSocket& websocket) {
  if (&websocket == probe_) {
    probe_ = nullptr;
    upgrade_timer_.stop();
    websocket.end(ws::close_code::unsupported, "binary packets are not supported");
    return;
  }
  if (&websocket == websocket_) {
    log_info("engineio_binary_refused").kv("session", log_id_);
    finish("binary packets are not supported");
  }
}

void Session::on_websocket_gone(SessionWebSocket& websocket) {
  if (&websocket == probe_) {
    probe_ = nullptr;
    upgrade_timer_.stop();
  } else if (&websocket == websocket_) {
    websocket_ = nullptr;
    finish("transport close");
  }
}

void Session::on_overflow_timer(void* self) {
  static_cast<Session*>(self)->finish("outbound queue full");
}

void Session::release_websockets() {
  if (SessionWebSocket* probe = std::exchange(probe_, nullptr)) probe->end(ws::close_code::going_away, "");
  if (SessionWebSocket* websocket = std::exchange(websocket_, nullptr)) {
    websocket->end(ws::close_code::going_away, "");
  }
}

void Session::send_message(std::string_view data) {
  if (state_ != State::open) return;
  std::string packet = encode_packet(PacketType::message, data);
  queue(std::move(packet));
}

void Session::close(std::string_view reason) {
  finish(reason, /*linger=*/true);
}

void Session::fail(std::string_view reason) {
  finish(reason);
}

void Session::on_ping_timer(void* self) {
  static_cast<Session*>(self)->ping_due();
}

void Session::ping_due() {
  if (closed()) return retire();  // the close packet was never polled
  if (awaiting_pong_) return finish("ping timeout");
  awaiting_pong_ = true;
  queue(encode_packet(PacketType::ping));
  if (!closed()) ping_timer_.start(settings_.ping_timeout_seconds);
}

void Session::on_upgrade_timer(void* self) {
  auto* session = static_cast<Session*>(self);
  if (session->probe_ == nullptr) return;
  SessionWebSocket* probe = std::exchange(session->probe_, nullptr);
  probe->end(ws::close_code::normal, "upgrade timeout");
}

void Session::finish(std::string_view reason, bool linger) {
  if (closed()) return;
  state_ = State::closed;
  upgrade_timer_.stop();
  ping_timer_.stop();
  overflow_timer_.stop();
  awaiting_pong_ = false;
  if (SessionWebSocket* probe = std::exchange(probe_, nullptr)) probe->end(ws::close_code::normal, "");
  log_debug("engineio_closed").kv("session", log_id_).kv("reason", reason);
  listener_.on_close(*this, reason);
  if (SessionWebSocket* websocket = std::exchange(websocket_, nullptr)) {
    websocket->end(ws::close_code::normal, "");
    return retire();
  }
  // Long-polling: the close packet goes out with the waiting poll, or (linger) the next one if it comes soon.
  queue(encode_packet(PacketType::close));
  if (retired_) return;
  if (linger) {
    ping_timer_.start(settings_.ping_timeout_seconds);
  } else {
    retire();
  }
}

void Session::retire() {
  if (retired_) return;
  retired_ = true;
  ping_timer_.stop();
  upgrade_timer_.stop();
  overflow_timer_.stop();
  waiting_poll_ = nullptr;
  retire_(*this);
}

}  // namespace turnpike::eio
