// The running daemon's parts and their wiring: config (with SIGHUP reload), store, signaling, APIs,
// metrics, the server, and the sweeper timer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "net/event_handles.hpp"

namespace turnpike {

class Database;
class GroupCommit;
class PairingStore;
class Signaling;
class PairingApi;
class Metrics;
class Router;
class Server;
class TurnStore;
class TurnCredentialIssuer;
class TurnSessionKiller;

class App {
 public:
  // Opens the database and builds every part; nothing listens yet.
  static Result<std::unique_ptr<App>> create(event_base* base, std::string config_path, Config config);
  ~App();

  // Listens on server.listen and starts the sweeper; returns the bound address.
  Result<ListenAddress> start();
  // Re-reads the config file; swaps it in only if all of it is valid. Returns the keys that changed.
  Result<std::vector<std::string>> reload();
  const std::string& config_path() const { return config_path_; }
  // Stops accepting, closes WebSockets with 1001, and calls `done` when every connection is gone.
  void shutdown(std::function<void()> done);

  const Config& config() const { return *config_; }
  Database& database() { return *database_; }
  PairingStore& store() { return *store_; }
  GroupCommit& commits() { return *commits_; }
  Signaling& signaling() { return *signaling_; }
  PairingApi& pairing() { return *pairing_; }
  Metrics& metrics() { return *metrics_; }
  Router& router() { return *router_; }
  Server& server() { return *server_; }
  AddressRateLimiter& rest_limiter() { return rest_limiter_; }
  TurnStore& turn_store() { return *turn_store_; }
  bool shutting_down() const { return shutting_down_; }
  double uptime_seconds() const;

 private:
  App(event_base* base, std::string config_path, Config config);
  static void on_sweep(void* self);
  void sweep();
  void apply_settings();

  event_base* base_;
  std::string config_path_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Database> database_;  // before the stores, which it outlives
  std::unique_ptr<PairingStore> store_;
  std::unique_ptr<GroupCommit> commits_;  // after the store: commits what is open before it closes
  std::unique_ptr<TurnStore> turn_store_;
  std::unique_ptr<TurnCredentialIssuer> turn_issuer_;
  std::unique_ptr<TurnSessionKiller> turn_killer_;
  std::unique_ptr<Signaling> signaling_;
  std::unique_ptr<PairingApi> pairing_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
  AddressRateLimiter rest_limiter_;
  Timer sweeper_;
  double started_at_;
  bool shutting_down_ = false;
};

}  // namespace turnpike
