// The listening sockets and the table of open connections, with total and per-address connection limits.
// What a new connection speaks first comes from a SessionFactory, handed in by the composition root.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/address.hpp"
#include "core/result.hpp"
#include "net/connection.hpp"
#include "net/event_handles.hpp"
#include "net/outbound_memory.hpp"

namespace turnpike {

class Metrics;
class TlsContext;

// The protocol side of a new connection, as the listener needs it.
class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  // The handler a new connection starts with.
  virtual std::unique_ptr<ConnectionHandler> open_session(Connection& connection) = 0;
  // The bytes that answer a connection refused for a limit, written once before it is closed.
  virtual std::string refusal() const = 0;
};

struct ConnectionLimits {
  std::size_t max_connections = 10000;
  std::size_t max_per_address = 1000;
  std::size_t max_outbound_bytes = 1048576;
  // Bytes queued for all sockets of one address (limit_key) and for all sockets together; 0: no limit.
  std::size_t max_outbound_bytes_per_address = 0;
  std::size_t max_outbound_bytes_total = 0;
  // A TLS connection whose handshake has not finished by then is closed.
  double tls_handshake_timeout_seconds = 10;
  // Reverse proxies: each of their connections carries other clients, so they are not held to
  // max_per_address (max_connections still applies).
  std::vector<CidrRange> trusted_proxies;
  // IPv6 peers count under their network of this many bits (limit_key).
  int ipv6_prefix_bits = 64;
};

class Listener {
 public:
  // `outbound` counts the bytes queued for clients (shared with the Socket.IO polling queues); it must
  // outlive the listener.
  Listener(event_base* base, SessionFactory& sessions, Metrics& metrics, OutboundMemory& outbound);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens; returns the bound address (with the real port when the config asked for 0). Several
  // addresses may be listened on; `tls` ones speak TLS first, with the context set_tls_context() gave.
  Result<ListenAddress> listen(const ListenAddress& address, bool tls = false);
  // The context new TLS connections use from now on; open ones keep theirs.
  void set_tls_context(std::shared_ptr<const TlsContext> context);
  // The admin API's unix socket (mode 0660); a stale socket file is replaced, any other file is an error.
  Result<void> listen_admin(const std::string& path);
  // Stops accepting, tells every connection, and calls `on_drained` once none is left.
  void begin_shutdown(std::function<void()> on_drained);
  bool shutting_down() const { return shutting_down_; }

  // Called by Connection::close(): the connection is destroyed soon, outside of its own callbacks.
  void retire(std::uint64_t id);
  // A TLS connection ended before its handshake finished (error, timeout or the client gave up).
  void count_tls_handshake_failure(std::uint64_t id, const std::string& reason);

  std::size_t connection_count() const { return live_.size(); }
  OutboundMemory& outbound_memory() { return outbound_; }
  std::size_t websocket_count() const;
  // Applies to new connections; the outbound cap also to open ones.
  void set_limits(const ConnectionLimits& limits);

 private:
  // One listening socket; libevent calls back with it.
  struct Endpoint {
    Listener* owner;
    bool tls;
    ListenerPtr handle;
  };
  static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* addr, int len,
                        void* endpoint);
  static void on_admin_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* addr, int len,
                              void* self);
  static void on_accept_error(evconnlistener* listener, void* self);
  static void on_cleanup(evutil_socket_t, short, void* self);
  void accept_connection(evutil_socket_t fd, const sockaddr* addr, bool admin, bool tls);
  BufferEventPtr make_bufferevent(evutil_socket_t fd, bool tls);
  void cleanup();

  event_base* base_;
  SessionFactory& sessions_;
  Metrics& metrics_;
  ConnectionLimits limits_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::shared_ptr<const TlsContext> tls_context_;
  ListenerPtr admin_listener_;
  std::string admin_path_;
  EventPtr cleanup_event_;
  OutboundMemory& outbound_;  // outlives the connections, which release into it when destroyed
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> live_;
  std::vector<std::unique_ptr<Connection>> retired_;
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> per_address_;
  // The key each counted connection was counted under (not those from a trusted proxy), so that closing
  // it uncounts the same key after a reload changed the prefix length.
  std::unordered_map<std::uint64_t, IpAddress> counted_as_;
  std::uint64_t next_id_ = 1;
  bool shutting_down_ = false;
  std::function<void()> on_drained_;
};

}  // namespace turnpike
