// The listening socket and the table of open connections.
#include "net/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/app.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/http_session.hpp"

namespace turnpike {

Server::Server(event_base* base, App& app)
    : base_(base), app_(app), cleanup_event_(event_new(base, -1, 0, &Server::on_cleanup, this)) {}

Server::~Server() {
  listener_.reset();
  admin_listener_.reset();
  if (!admin_path_.empty()) ::unlink(admin_path_.c_str());
  // Connections go before the rest of the app; their handlers must not call back into it any more.
  for (auto& [id, connection] : live_) retired_.push_back(std::move(connection));
  live_.clear();
  retired_.clear();
}

Result<ListenAddress> Server::listen(const ListenAddress& address) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto ip = IpAddress::parse(address.host);
  if (!ip) return ip.error();
  if (address.host.find(':') == std::string::npos) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr);
    length = sizeof *v4;
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr);
    length = sizeof *v6;
  }
  listener_.reset(evconnlistener_new_bind(
      base_, &Server::on_accept, this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
      1024, reinterpret_cast<sockaddr*>(&storage), static_cast<int>(length)));
  if (!listener_) {
    return make_error("cannot listen on " + address.host + ":" + std::to_string(address.port) + ": " +
                      std::strerror(errno));
  }
  evconnlistener_set_error_cb(listener_.get(), &Server::on_accept_error);
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(evconnlistener_get_fd(listener_.get()), reinterpret_cast<sockaddr*>(&bound), &bound_length);
  ListenAddress actual = address;
  actual.port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                 : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return actual;
}

Result<void> Server::listen_admin(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return make_error("admin.socket path is too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode))
      return make_error("admin.socket " + path + " exists and is not a socket");
    ::unlink(path.c_str());  // left over from a previous run
  }
  admin_listener_.reset(evconnlistener_new_bind(base_, &Server::on_admin_accept, this,
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
                                                reinterpret_cast<sockaddr*>(&address), sizeof address));
  if (!admin_listener_)
    return make_error("cannot listen on admin.socket " + path + ": " + std::strerror(errno));
  admin_path_ = path;
  if (::chmod(path.c_str(), 0660) != 0)
    return make_error("cannot chmod " + path + ": " + std::strerror(errno));
  return {};
}

void Server::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* self) {
  static_cast<Server*>(self)->accept_connection(fd, addr, /*admin=*/false);
}

void Server::on_admin_accept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* self) {
  static_cast<Server*>(self)->accept_connection(fd, addr, /*admin=*/true);
}

void Server::on_accept_error(evconnlistener*, void*) {
  // EMFILE and friends: keep serving the connections we have; libevent retries on the next readiness.
  log_warn("accept_failed").kv("reason", std::strerror(errno));
}

void Server::accept_connection(evutil_socket_t fd, const sockaddr* addr, bool admin) {
  const Config& config = app_.config();
  IpAddress peer = IpAddress::from_sockaddr(addr);
  auto& from_peer = per_address_[peer];
  if (live_.size() >= static_cast<std::size_t>(config.limits.max_connections) ||
      from_peer >= static_cast<std::size_t>(config.limits.max_connections_per_ip) || shutting_down_) {
    if (from_peer == 0) per_address_.erase(peer);
    static constexpr std::string_view kRefusal =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: Retry-After\r\nContent-Length: "
        "32\r\nConnection: close\r\n\r\n"
        "{\"error\":\"too_many_connections\"}";
    // Best effort: the socket is fresh, so a short write fits into its send buffer.
    ssize_t written = ::send(fd, kRefusal.data(), kRefusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)written;
    evutil_closesocket(fd);
    app_.metrics().count_connection_rejected();
    log_warn("connection_refused").kv("peer", peer.to_string()).kv("reason", "too_many_connections");
    return;
  }
  ++from_peer;
  int one = 1;
  if (!admin) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  evutil_make_socket_nonblocking(fd);
  BufferEventPtr bev(bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE));
  if (!bev) {
    evutil_closesocket(fd);
    return;
  }
  std::uint64_t id = next_id_++;
  auto connection = std::make_unique<Connection>(
      *this, id, std::move(bev), peer, static_cast<std::size_t>(config.limits.max_outbound_bytes), admin);
  auto* raw = connection.get();
  live_.emplace(id, std::move(connection));
  log_debug("connection_opened").kv("conn", id).kv("peer", peer.to_string());
  raw->start(std::make_unique<HttpSession>(*raw, app_));
}

void Server::retire(std::uint64_t id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  auto& count = per_address_[it->second->peer()];
  if (--count == 0) per_address_.erase(it->second->peer());
  retired_.push_back(std::move(it->second));
  live_.erase(it);
  event_active(cleanup_event_.get(), 0, 0);
}

void Server::on_cleanup(evutil_socket_t, short, void* self) {
  static_cast<Server*>(self)->cleanup();
}

void Server::cleanup() {
  // on_close may close further connections (a peer's overflow), which land in retired_ again.
  while (!retired_.empty()) {
    auto batch = std::move(retired_);
    retired_.clear();
    for (auto& connection : batch) {
      connection->finish();
      log_debug("connection_closed").kv("conn", connection->id());
    }
  }
  if (shutting_down_ && live_.empty() && on_drained_) {
    auto drained = std::move(on_drained_);
    on_drained_ = nullptr;
    drained();
  }
}

void Server::begin_shutdown(std::function<void()> on_drained) {
  shutting_down_ = true;
  on_drained_ = std::move(on_drained);
  listener_.reset();
  admin_listener_.reset();
  std::vector<Connection*> open;
  for (auto& [id, connection] : live_) open.push_back(connection.get());
  for (auto* connection : open) {
    if (!connection->closing() && connection->handler()) connection->handler()->on_shutdown();
  }
  event_active(cleanup_event_.get(), 0, 0);
}

std::size_t Server::websocket_count() const {
  std::size_t n = 0;
  for (const auto& [id, connection] : live_) {
    if (!connection->closing() && connection->handler_ && connection->handler_->is_websocket()) ++n;
  }
  return n;
}

void Server::set_max_outbound(std::size_t bytes) {
  for (auto& [id, connection] : live_) connection->set_max_outbound(bytes);
}

}  // namespace turnpike
