// One Engine.IO v4 session (one sid): its transport (long-polling, or a WebSocket after the upgrade or from
// the start), the packets that wait for the next poll, the heartbeat, and the upgrade from polling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/rate_limiter.hpp"
#include "net/event_handles.hpp"
#include "net/outbound_memory.hpp"

namespace turnpike {
class Metrics;
}

namespace turnpike::eio {

struct EngineSettings {
  double ping_interval_seconds = 25;
  double ping_timeout_seconds = 20;
  std::size_t max_payload_bytes = 1000000;
  // Packets of one POST body, at most.
  std::size_t max_packets_per_post = 1000;
  // Bytes waiting for a poll that does not come; more closes the session (limits.max_outbound_bytes).
  std::size_t max_queued_bytes = 1048576;
  // A WebSocket that probes must finish the upgrade within this time.
  double upgrade_timeout_seconds = 10;
  // Messages in, per session and per client address (limits.ws_messages_per_second*), and how many dropped
  // messages within 10 s close the session (limits.ws_rate_strikes), as on a WebSocket.
  RateSettings message_rate, message_rate_per_address;
  std::int64_t rate_strikes = 100;
};

class Session;
struct Packet;

// The WebSocket that carries a session (after the upgrade, or from the start).
class SessionWebSocket {
 public:
  virtual ~SessionWebSocket() = default;
  virtual void send_text(std::string_view packet) = 0;
  // Closes the WebSocket; the session no longer uses it.
  virtual void end(std::uint16_t code, std::string_view reason) = 0;
};

// What runs on top of Engine.IO (the Socket.IO layer).
class SessionListener {
 public:
  virtual ~SessionListener() = default;
  // The session is open (its open packet has been queued).
  virtual void on_open(Session& session) = 0;
  // One message packet's data.
  virtual void on_message(Session& session, std::string_view data) = 0;
  // The session is closed; nothing may be sent on it any more. Called once.
  virtual void on_close(Session& session, std::string_view reason) = 0;
};

class Session {
 public:
  // `retire` is called once the session is closed; the owner destroys it later, outside of its callbacks.
  Session(event_base* base, std::string sid, IpAddress client, IpAddress limit_key,
          const EngineSettings& settings, SessionListener& listener, AddressRateLimiter& address_rates,
          Metrics& metrics, OutboundMemory& memory, std::function<void(Session&)> retire);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& sid() const { return sid_; }
  // What logs name the session by: the sid lets whoever holds it poll and post as the client, so it is not
  // written anywhere.
  std::uint64_t log_id() const { return log_id_; }
  const IpAddress& client() const { return client_; }
  const IpAddress& limit_key() const { return limit_key_; }
  bool closed() const { return state_ == State::closed; }
  bool upgrading() const { return probe_ != nullptr; }
  bool on_websocket() const { return websocket_ != nullptr; }

  // Opens the session on long-polling: the open packet waits for the first poll (the handshake answers it).
  void open_polling();
  // Opens the session on a WebSocket that asked for no sid: the open packet goes out on it at once.
  void open_on_websocket(SessionWebSocket& websocket);

  // A GET poll: `answer` gets the payload now or once something is queued. False when a poll is already
  // waiting (the client overlaps): the session is closed.
  bool poll(std::function<void(std::string payload)> answer);
  // A POST: the packets of `body`. Returns the reason when the body is malformed (the session is then
  // closed).
  std::optional<std::string> post(std::string_view body);

  // A WebSocket with this session's sid asks to take over from polling (the probe starts).
  void begin_upgrade(SessionWebSocket& websocket);
  // A text frame from `websocket` (the current transport or the one probing).
  void on_websocket_packet(SessionWebSocket& websocket, std::string_view text);
  // A binary frame: refused, the session closes.
  void on_websocket_binary(SessionWebSocket& websocket);
  // The WebSocket went away.
  void on_websocket_gone(SessionWebSocket& websocket);

  // Ends the WebSockets of the session without telling anyone (the daemon is being torn down).
  void release_websockets();
  // Sends a message packet.
  void send_message(std::string_view data);
  // Closes the session from the server side: what is queued and the close packet go out with the waiting poll
  // (or the next one, if it comes within the ping timeout); a WebSocket is closed.
  void close(std::string_view reason);
  // Ends the session at once: the client broke the protocol or a limit (its next poll finds no session).
  void fail(std::string_view reason);

  // The open packet's data (JSON).
  std::string open_data() const;

 private:
  // overflowed: the client stopped reading; nothing more is queued and the session closes next turn.
  enum class State : std::uint8_t { opening, open, overflowed, closed };

  static void on_ping_timer(void* self);
  static void on_upgrade_timer(void* self);
  static void on_overflow_timer(void* self);
  void ping_due();
  void handle_text(std::string_view text);
  void handle_packet(const Packet& packet);
  void queue(std::string packet);
  void flush_poll();
  // Closes the session; `linger`: a polling client may still fetch what is queued (see close()).
  void finish(std::string_view reason, bool linger = false);
  bool admit_message();
  void retire();
  // Forgets what waits for a poll (sent, moved to the WebSocket, or dropped) and releases its bytes.
  void drop_queued();

  std::string sid_;
  std::uint64_t log_id_;
  IpAddress client_;
  IpAddress limit_key_;
  const EngineSettings& settings_;
  SessionListener& listener_;
  AddressRateLimiter& address_rates_;
  Metrics& metrics_;
  // Queued bytes count against limits.max_outbound_bytes_per_address and _total with the WebSocket output.
  OutboundMemory& memory_;
  OutboundMemory::Entry* entry_;
  std::function<void(Session&)> retire_;
  bool retired_ = false;
  State state_ = State::opening;

  // Long-polling: packets not yet polled, and the poll that waits for them.
  std::vector<std::string> queued_;
  std::size_t queued_bytes_ = 0;
  std::function<void(std::string)> waiting_poll_;
  // The WebSocket carrying the session, and one that is probing to take over.
  SessionWebSocket* websocket_ = nullptr;
  SessionWebSocket* probe_ = nullptr;

  Timer ping_timer_;
  Timer upgrade_timer_;
  Timer overflow_timer_;
  bool awaiting_pong_ = false;
  TokenBucket message_bucket_;
  double strike_window_start_ = 0;
  std::int64_t strikes_ = 0;
};

}  // namespace turnpike::eio
