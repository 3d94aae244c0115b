// The listening sockets and the table of open connections.
#include "net/listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <event2/bufferevent_ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/callback_guard.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "net/tls_context.hpp"

namespace turnpike {

Listener::Listener(event_base* base, SessionFactory& sessions, Metrics& metrics, OutboundMemory& outbound)
    : base_(base),
      sessions_(sessions),
      metrics_(metrics),
      cleanup_event_(event_new(base, -1, 0, &Listener::on_cleanup, this)),
      outbound_(outbound) {}

Listener::~Listener() {
  endpoints_.clear();
  admin_listener_.reset();
  if (!admin_path_.empty()) ::unlink(admin_path_.c_str());
  // Connections go before the rest of the app; their handlers must not call back into it any more.
  for (auto& [id, connection] : live_) retired_.push_back(std::move(connection));
  live_.clear();
  retired_.clear();
}

Result<ListenAddress> Listener::listen(const ListenAddress& address, bool tls) {
  if (tls && !tls_context_)
    return make_error("cannot listen with TLS on " + address.to_string() + ": no certificate");
  auto socket_address = to_socket_address(address);
  if (!socket_address) return socket_address.error();
  auto endpoint = std::make_unique<Endpoint>(Endpoint{this, tls, nullptr});
  // An IPv6 socket takes IPv6 only, so that [::]:8080 and 0.0.0.0:8080 can both be listened on.
  unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
  if (socket_address->family() == AF_INET6) flags |= LEV_OPT_BIND_IPV6ONLY;
  endpoint->handle.reset(evconnlistener_new_bind(base_, &Listener::on_accept, endpoint.get(), flags, 1024,
                                                 socket_address->get(),
                                                 static_cast<int>(socket_address->length)));
  if (!endpoint->handle) {
    return make_error("cannot listen on " + address.to_string() + ": " + std::strerror(errno));
  }
  evconnlistener_set_error_cb(endpoint->handle.get(), &Listener::on_accept_error);
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(evconnlistener_get_fd(endpoint->handle.get()), reinterpret_cast<sockaddr*>(&bound),
              &bound_length);
  endpoints_.push_back(std::move(endpoint));
  ListenAddress actual = address;
  actual.port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                 : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return actual;
}

Result<void> Listener::listen_admin(const std::string& path) {
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
  admin_listener_.reset(evconnlistener_new_bind(base_, &Listener::on_admin_accept, this,
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
                                                reinterpret_cast<sockaddr*>(&address), sizeof address));
  if (!admin_listener_)
    return make_error("cannot listen on admin.socket " + path + ": " + std::strerror(errno));
  admin_path_ = path;
  if (::chmod(path.c_str(), 0660) != 0)
    return make_error("cannot chmod " + path + ": " + std::strerror(errno));
  return {};
}

void Listener::set_tls_context(std::shared_ptr<const TlsContext> context) {
  tls_context_ = std::move(context);
}

void Listener::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* endpoint) {
  guarded("accept", [&] {
    auto* accepted_on = static_cast<Endpoint*>(endpoint);
    accepted_on->owner->accept_connection(fd, addr, /*admin=*/false, accepted_on->tls);
  });
}

void Listener::on_admin_accept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* self) {
  guarded("admin_accept",
          [&] { static_cast<Listener*>(self)->accept_connection(fd, addr, /*admin=*/true, /*tls=*/false); });
}

void Listener::on_accept_error(evconnlistener*, void*) {
  // EMFILE and friends: keep serving the connections we have; libevent retries on the next readiness.
  log_warn("accept_failed").kv("reason", std::strerror(errno));
}

void Listener::accept_connection(evutil_socket_t fd, const sockaddr* addr, bool admin, bool tls) {
  IpAddress peer = IpAddress::from_sockaddr(addr);
  bool counted = admin || std::none_of(limits_.trusted_proxies.begin(), limits_.trusted_proxies.end(),
                                       [&](const CidrRange& range) { return range.contains(peer); });
  const IpAddress key = limit_key(peer, limits_.ipv6_prefix_bits);
  std::size_t from_peer = 0;
  if (counted) {
    auto it = per_address_.find(key);
    if (it != per_address_.end()) from_peer = it->second;
  }
  if (live_.size() >= limits_.max_connections || from_peer >= limits_.max_per_address || shutting_down_) {
    // Best effort: the socket is fresh, so a short write fits into its send buffer. A TLS client would
    // take plain bytes for a broken handshake, so it is just closed.
    if (!tls) {
      std::string refusal = sessions_.refusal();
      ssize_t written = ::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      (void)written;
    }
    evutil_closesocket(fd);
    metrics_.count_connection_rejected();
    log_warn("connection_refused").kv("peer", peer.to_string()).kv("reason", "too_many_connections");
    return;
  }
  int one = 1;
  if (!admin) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  evutil_make_socket_nonblocking(fd);
  BufferEventPtr bev = make_bufferevent(fd, tls);
  if (!bev) {
    evutil_closesocket(fd);
    return;
  }
  std::uint64_t id = next_id_++;
  if (counted) {
    ++per_address_[key];
    counted_as_.emplace(id, key);
  }
  // A trusted proxy's connection carries many clients: its queued bytes count in the total only.
  OutboundMemory::Entry* outbound = counted ? outbound_.attach(key) : nullptr;
  auto connection = std::make_unique<Connection>(*this, id, std::move(bev), peer, limits_.max_outbound_bytes,
                                                 outbound, admin);
  auto* raw = connection.get();
  live_.emplace(id, std::move(connection));
  log_debug("connection_opened").kv("conn", id).kv("peer", peer.to_string()).kv("tls", tls);
  if (tls) raw->expect_tls_handshake(limits_.tls_handshake_timeout_seconds);
  raw->start(sessions_.open_session(*raw));
}

BufferEventPtr Listener::make_bufferevent(evutil_socket_t fd, bool tls) {
  if (!tls) return BufferEventPtr(bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE));
  // The SSL takes a reference to the context current now; a later certificate renewal does not touch it.
  SSL* ssl = SSL_new(tls_context_->get());
  if (ssl == nullptr) return nullptr;
  BufferEventPtr bev(
      bufferevent_openssl_socket_new(base_, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE));
  if (!bev) {
    SSL_free(ssl);
    return nullptr;
  }
  // A client that closes TCP without close_notify ends the connection like a plain EOF, not an error.
  bufferevent_openssl_set_allow_dirty_shutdown(bev.get(), 1);
  return bev;
}

void Listener::count_tls_handshake_failure(std::uint64_t id, const std::string& reason) {
  metrics_.count_tls_handshake_failure();
  log_debug("tls_handshake_failed").kv("conn", id).kv("reason", reason);
}

void Listener::retire(std::uint64_t id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  if (auto counted = counted_as_.find(id); counted != counted_as_.end()) {
    auto& count = per_address_[counted->second];
    if (--count == 0) per_address_.erase(counted->second);
    counted_as_.erase(counted);
  }
  retired_.push_back(std::move(it->second));
  live_.erase(it);
  event_active(cleanup_event_.get(), 0, 0);
}

void Listener::on_cleanup(evutil_socket_t, short, void* self) {
  guarded("cleanup", [self] { static_cast<Listener*>(self)->cleanup(); });
}

void Listener::cleanup() {
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

void Listener::begin_shutdown(std::function<void()> on_drained) {
  shutting_down_ = true;
  on_drained_ = std::move(on_drained);
  endpoints_.clear();
  admin_listener_.reset();
  std::vector<Connection*> open;
  for (auto& [id, connection] : live_) open.push_back(connection.get());
  for (auto* connection : open) {
    if (!connection->closing() && connection->handler()) connection->handler()->on_shutdown();
  }
  event_active(cleanup_event_.get(), 0, 0);
}

std::size_t Listener::websocket_count() const {
  std::size_t n = 0;
  for (const auto& [id, connection] : live_) {
    if (!connection->closing() && connection->handler_ && connection->handler_->is_websocket()) ++n;
  }
  return n;
}

void Listener::set_limits(const ConnectionLimits& limits) {
  limits_ = limits;
  outbound_.set_limits({limits.max_outbound_bytes_per_address, limits.max_outbound_bytes_total});
  for (auto& [id, connection] : live_) connection->set_max_outbound(limits.max_outbound_bytes);
}

}  // namespace turnpike
