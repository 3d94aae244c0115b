// The listening socket and the table of open connections, with total and per-address connection limits.
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

namespace turnpike {

class App;

class Server {
 public:
  Server(event_base* base, App& app);
  ~Server();

  // Binds and listens; returns the bound address (with the real port when the config asked for 0).
  Result<ListenAddress> listen(const ListenAddress& address);
  // The admin API's unix socket (mode 0660); a stale socket file is replaced, any other file is an error.
  Result<void> listen_admin(const std::string& path);
  // Stops accepting, tells every connection, and calls `on_drained` once none is left.
  void begin_shutdown(std::function<void()> on_drained);
  bool shutting_down() const { return shutting_down_; }

  // Called by Connection::close(): the connection is destroyed soon, outside of its own callbacks.
  void retire(std::uint64_t id);

  std::size_t connection_count() const { return live_.size(); }
  std::size_t websocket_count() const;
  void set_max_outbound(std::size_t bytes);

 private:
  static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* addr, int len, void* self);
  static void on_admin_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* addr, int len,
                              void* self);
  static void on_accept_error(evconnlistener* listener, void* self);
  static void on_cleanup(evutil_socket_t, short, void* self);
  void accept_connection(evutil_socket_t fd, const sockaddr* addr, bool admin);
  void cleanup();

  event_base* base_;
  App& app_;
  ListenerPtr listener_;
  ListenerPtr admin_listener_;
  std::string admin_path_;
  EventPtr cleanup_event_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> live_;
  std::vector<std::unique_ptr<Connection>> retired_;
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> per_address_;
  std::uint64_t next_id_ = 1;
  bool shutting_down_ = false;
  std::function<void()> on_drained_;
};

}  // namespace turnpike
