// Operations endpoints: GET /health, /rooms, /metrics, /admin/status, /admin/rooms and POST /admin/reload.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "http/request_context.hpp"
#include "http/response.hpp"

namespace turnpike {

class Database;
class Metrics;
class PairingStore;
class Signaling;
class TurnStore;

// What the endpoints need from the running daemon beyond its parts.
class OpsHost {
 public:
  virtual ~OpsHost() = default;
  virtual double uptime_seconds() const = 0;
  virtual std::size_t connection_count() const = 0;
  virtual std::size_t websocket_count() const = 0;
  virtual const std::string& config_path() const = 0;
  // Re-reads the config file (telling systemd it reloads); the keys that changed, or why it was refused.
  virtual Result<std::vector<std::string>> reload() = 0;
};

struct OpsPorts {
  OpsHost& host;
  Database& database;
  PairingStore& store;
  TurnStore& turn_store;
  const Signaling& signaling;
  Metrics& metrics;
};

class OpsApi {
 public:
  explicit OpsApi(OpsPorts ports) : ports_(ports) {}

  // `admin`: the caller is an admin (it also sees the live join-code count, which tells how full the code
  // space is and so how likely a guess is). Reads only row counts kept in a table: O(1).
  http::Response health(const RequestContext& ctx, bool admin);
  http::Response rooms();
  http::Response metrics(const RequestContext& ctx);
  http::Response admin_status(const RequestContext& ctx);
  http::Response admin_rooms();
  http::Response reload();

 private:
  OpsPorts ports_;
};

}  // namespace turnpike
