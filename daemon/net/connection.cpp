// One client TCP connection on a bufferevent.
#include "net/connection.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "core/callback_guard.hpp"
#include "net/listener.hpp"

#include <sys/socket.h>

namespace turnpike {
namespace {

constexpr double kEofLingerSeconds = 2;

}  // namespace

Connection::Connection(Listener& server, std::uint64_t id, BufferEventPtr bev, IpAddress peer,
                       std::size_t max_outbound, OutboundMemory::Entry* outbound, bool admin)
    : listener_(server),
      id_(id),
      bev_(std::move(bev)),
      peer_(peer),
      max_outbound_(max_outbound),
      outbound_entry_(outbound),
      admin_(admin),
      linger_(bufferevent_get_base(bev_.get()), &Connection::on_linger, this),
      handshake_timer_(bufferevent_get_base(bev_.get()), &Connection::on_handshake_timeout, this) {
  bufferevent_setcb(bev_.get(), &Connection::on_read, &Connection::on_write, &Connection::on_event, this);
}

Connection::~Connection() {
  release_outbound();
  listener_.outbound_memory().detach(outbound_entry_);
}

// The bytes counted since the output was last empty: released once it is empty again (or dropped).
void Connection::release_outbound() {
  listener_.outbound_memory().release(outbound_entry_, outbound_accounted_);
  outbound_accounted_ = 0;
}

event_base* Connection::base() const {
  return bufferevent_get_base(bev_.get());
}

void Connection::start(std::unique_ptr<ConnectionHandler> handler) {
  handler_ = std::move(handler);
  bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
}

void Connection::expect_tls_handshake(double timeout_seconds) {
  tls_handshaking_ = true;
  handshake_timer_.start(timeout_seconds);
}

void Connection::replace_handler(std::unique_ptr<ConnectionHandler> next) {
  next_handler_ = std::move(next);
}

bool Connection::send(std::string_view head, std::string_view body) {
  if (closing()) return false;
  evbuffer* output = bufferevent_get_output(bev_.get());
  const std::size_t bytes = head.size() + body.size();
  OutboundMemory& memory = listener_.outbound_memory();
  if (evbuffer_get_length(output) + bytes > max_outbound_) return false;
  // The shared caps stop the sockets that hold a queue (the slow readers), not a socket that has nothing
  // queued and happens to be next when they are full: that one may always take one message.
  if (outbound_accounted_ > 0 && !memory.admits(outbound_entry_, bytes)) return false;
  bufferevent_write(bev_.get(), head.data(), head.size());
  if (!body.empty()) bufferevent_write(bev_.get(), body.data(), body.size());
  memory.add(outbound_entry_, bytes);
  outbound_accounted_ += bytes;
  return true;
}

void Connection::resume_input() {
  if (in_callback_ || flushing_ || closing_) return;
  if (evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0) dispatch_input();
}

void Connection::discard_output() {
  evbuffer* output = bufferevent_get_output(bev_.get());
  evbuffer_drain(output, evbuffer_get_length(output));
  release_outbound();
}

void Connection::close_after_flush(double linger_seconds) {
  if (closing()) return;
  flushing_ = true;
  linger_.start(linger_seconds);
  flush_progress();
}

// While flushing: once everything is written, half-close and wait for the client's FIN, reading and
// discarding what it still sends. Closing with unread input would make the kernel send RST, and the client
// would lose the last response or close frame.
void Connection::flush_progress() {
  if (closing_ || evbuffer_get_length(bufferevent_get_output(bev_.get())) > 0) return;
  if (peer_finished_) {
    close();
  } else if (!write_shut_) {
    write_shut_ = true;
    send_tls_close_notify();
    shutdown(bufferevent_getfd(bev_.get()), SHUT_WR);
  }
}

void Connection::send_tls_close_notify() {
  SSL* ssl = bufferevent_openssl_get_ssl(bev_.get());
  if (ssl == nullptr || SSL_is_init_finished(ssl) != 1) return;
  // The output is empty, so the alert goes straight to the socket; reading goes on until the client's EOF.
  (void)SSL_shutdown(ssl);
  ERR_clear_error();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  linger_.stop();
  handshake_timer_.stop();
  if (tls_handshaking_) {
    tls_handshaking_ = false;
    listener_.count_tls_handshake_failure(id_, handshake_failure_);
  }
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
  listener_.retire(id_);
}

void Connection::finish() {
  if (handler_) handler_->on_close();
}

void Connection::dispatch_input() {
  in_callback_ = true;
  evbuffer* input = bufferevent_get_input(bev_.get());
  while (!closing() && evbuffer_get_length(input) > 0) {
    handler_->on_input(input);
    if (!next_handler_) break;
    handler_ = std::move(next_handler_);
  }
  if (next_handler_) handler_ = std::move(next_handler_);
  in_callback_ = false;
}

// A handler that throws has lost track of its protocol state: the connection ends.
template <typename Body>
void Connection::run_guarded(std::string_view where, void* self, Body&& body) {
  auto* connection = static_cast<Connection*>(self);
  if (guarded(where, [&] { body(*connection); })) return;
  connection->in_callback_ = false;
  connection->close();
}

void Connection::on_read(bufferevent*, void* self) {
  run_guarded("connection_read", self, [](Connection& connection) {
    if (connection.flushing_) {
      evbuffer* input = bufferevent_get_input(connection.bev_.get());
      evbuffer_drain(input, evbuffer_get_length(input));
      return;
    }
    connection.dispatch_input();
  });
}

void Connection::on_write(bufferevent*, void* self) {
  run_guarded("connection_write", self, [](Connection& connection) {
    // Called when the output has drained (its low watermark is 0).
    if (evbuffer_get_length(bufferevent_get_output(connection.bev_.get())) == 0)
      connection.release_outbound();
    if (connection.flushing_) connection.flush_progress();
  });
}

void Connection::on_event(bufferevent*, short what, void* self) {
  run_guarded("connection_event", self, [what](Connection& connection) {
    if (what & BEV_EVENT_CONNECTED) {  // the TLS handshake has finished
      connection.tls_handshaking_ = false;
      connection.handshake_timer_.stop();
      return;
    }
    if (connection.tls_handshaking_) connection.note_handshake_failure(what);
    if (what & BEV_EVENT_EOF) {
      // The client stopped sending; what we queued for it may still be written.
      connection.peer_finished_ = true;
      if (connection.flushing_) {
        connection.flush_progress();
      } else {
        connection.close_after_flush(kEofLingerSeconds);
      }
    } else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
      connection.close();
    }
  });
}

void Connection::note_handshake_failure(short what) {
  handshake_failure_ = (what & BEV_EVENT_EOF) ? "client_closed" : "error";
  unsigned long code = bufferevent_get_openssl_error(bev_.get());
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    handshake_failure_ = text;
  }
}

void Connection::on_handshake_timeout(void* self) {
  run_guarded("connection_handshake_timeout", self, [](Connection& connection) {
    connection.handshake_failure_ = "timeout";
    connection.close();
  });
}

void Connection::on_linger(void* self) {
  run_guarded("connection_linger", self, [](Connection& connection) { connection.close(); });
}

}  // namespace turnpike
