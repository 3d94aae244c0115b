// Blocking HTTP/1.1 over a unix socket for turnpikectl.
#include "ctl/admin_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace turnpike {
namespace {

// Closes the socket when it goes out of scope.
struct SocketFd {
  int fd;
  ~SocketFd() {
    if (fd >= 0) ::close(fd);
  }
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<AdminReply> admin_request(const std::string& socket_path, std::string_view method,
                                        std::string_view path, std::string_view body, AdminError& error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path) {
    error = {AdminFailure::protocol, "socket path too long: " + socket_path};
    return std::nullopt;
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  SocketFd sock{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) {
    error = {AdminFailure::protocol, std::string("socket: ") + std::strerror(errno)};
    return std::nullopt;
  }
  if (::connect(sock.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int err = errno;
    if (err == EACCES || err == EPERM) {
      error = {AdminFailure::permission_denied,
               "permission denied on " + socket_path + ": run as root or as a member of group turnpike"};
    } else if (err == ENOENT || err == ECONNREFUSED) {
      error = {AdminFailure::not_running,
               "turnpiked is not running (no admin socket at " + socket_path + ")"};
    } else {
      error = {AdminFailure::protocol, "cannot connect to " + socket_path + ": " + std::strerror(err)};
    }
    return std::nullopt;
  }
  std::string request =
      std::string(method) + " " + std::string(path) +
      " HTTP/1.1\r\nHost: turnpiked\r\nConnection: close\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  if (!write_all(sock.fd, request)) {
    error = {AdminFailure::protocol, "cannot send the request to turnpiked"};
    return std::nullopt;
  }
  std::string reply;
  char buffer[16384];
  while (true) {
    ssize_t n = ::read(sock.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  auto header_end = reply.find("\r\n\r\n");
  if (!reply.starts_with("HTTP/1.1 ") || header_end == std::string::npos || reply.size() < 12) {
    error = {AdminFailure::protocol, "turnpiked sent an unreadable reply"};
    return std::nullopt;
  }
  return AdminReply{std::atoi(reply.c_str() + 9), reply.substr(header_end + 4)};
}

}  // namespace turnpike
