// A minimal blocking HTTP/1.1 client for turnpiked's admin unix socket, used by turnpikectl.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace turnpike {

struct AdminReply {
  int status = 0;
  std::string body;
};

enum class AdminFailure { not_running, permission_denied, protocol };

struct AdminError {
  AdminFailure kind;
  std::string message;
};

// Sends one request and reads the whole reply. On failure, `error` says why.
std::optional<AdminReply> admin_request(const std::string& socket_path, std::string_view method,
                                        std::string_view path, std::string_view body, AdminError& error);

}  // namespace turnpike
