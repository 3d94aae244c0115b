// One client TCP connection: owns the bufferevent, queues output under a cap, and hands input to the
// current protocol handler (HTTP first, WebSocket after an upgrade).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/address.hpp"
#include "net/event_handles.hpp"
#include "net/outbound_memory.hpp"

namespace turnpike {

class Listener;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // New bytes are in `input`; consume what can be used.
  virtual void on_input(evbuffer* input) = 0;
  // The connection has ended (called once, outside of any other handler callback).
  virtual void on_close() {}
  // The server is shutting down.
  virtual void on_shutdown() = 0;
  virtual bool is_websocket() const { return false; }
};

class Connection {
 public:
  // `outbound`: the listener's OutboundMemory entry of the peer's address (null: counted in the total only).
  Connection(Listener& server, std::uint64_t id, BufferEventPtr bev, IpAddress peer, std::size_t max_outbound,
             OutboundMemory::Entry* outbound, bool admin);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start(std::unique_ptr<ConnectionHandler> handler);
  // A TLS connection: closed when its handshake has not finished within `timeout_seconds`.
  void expect_tls_handshake(double timeout_seconds);
  // Takes effect when the current callback returns; any input left is then given to the new handler.
  void replace_handler(std::unique_ptr<ConnectionHandler> next);

  // Queues bytes (`head` then `body`). Returns false, queuing nothing, when that would pass the outbound cap.
  bool send(std::string_view head, std::string_view body = {});
  // Hands input that is still buffered to the handler again (one that paused taking it and is ready now).
  void resume_input();
  // Drops everything queued and not yet written.
  void discard_output();
  // Stops taking input; ends the connection once the output is written and the client has closed its side,
  // or `linger_seconds` have passed.
  void close_after_flush(double linger_seconds);
  // Ends the connection now (queued output is dropped).
  void close();

  bool closing() const { return closing_ || flushing_; }
  std::uint64_t id() const { return id_; }
  const IpAddress& peer() const { return peer_; }
  // Came in on the admin unix socket: trusted like an admin.allow_from address, never rate limited.
  bool admin() const { return admin_; }
  Listener& listener() { return listener_; }
  event_base* base() const;
  ConnectionHandler* handler() { return handler_.get(); }
  void set_max_outbound(std::size_t bytes) { max_outbound_ = bytes; }

 private:
  friend class Listener;
  static void on_read(bufferevent* bev, void* self);
  static void on_write(bufferevent* bev, void* self);
  static void on_event(bufferevent* bev, short what, void* self);
  static void on_linger(void* self);
  static void on_handshake_timeout(void* self);
  void note_handshake_failure(short what);
  // Sends TLS close_notify before our FIN, so that the client sees a clean end of the stream.
  void send_tls_close_notify();
  template <typename Body>
  static void run_guarded(std::string_view where, void* self, Body&& body);
  void dispatch_input();
  void release_outbound();
  void flush_progress();
  void finish();  // called by the server when the connection is retired

  Listener& listener_;
  std::uint64_t id_;
  BufferEventPtr bev_;
  IpAddress peer_;
  std::size_t max_outbound_;
  OutboundMemory::Entry* outbound_entry_;
  std::size_t outbound_accounted_ = 0;  // queued since the output was last empty, counted in OutboundMemory
  bool admin_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::unique_ptr<ConnectionHandler> next_handler_;
  Timer linger_;
  Timer handshake_timer_;
  bool tls_handshaking_ = false;
  std::string handshake_failure_ = "closed";
  bool in_callback_ = false;
  bool flushing_ = false;
  bool write_shut_ = false;     // we sent FIN
  bool peer_finished_ = false;  // the client sent FIN
  bool closing_ = false;
};

}  // namespace turnpike
