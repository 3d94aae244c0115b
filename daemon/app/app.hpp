// The composition root: builds the daemon's parts, hands each the narrow ports it uses, and owns config
// reload (SIGHUP and POST /admin/reload), the sweeper timer and the systemd notifications.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "net/event_handles.hpp"
#include "net/outbound_memory.hpp"
#include "ops/ops_api.hpp"

namespace turnpike {

class Database;
class GroupCommit;
class HttpSessionFactory;
class Listener;
class Metrics;
class PairingApi;
class PairingStore;
class Router;
class SessionsDialect;
class SessionTurnGrants;
namespace eio {
class EngineServer;
}
namespace sio {
class SocketIoServer;
}
class ServiceNotifier;
class Signaling;
class SqlitePairingRepository;
class TlsContext;
class TurnCredentialIssuer;
class TurnSessionKiller;
class TurnStore;

// One socket the daemon listens on.
struct BoundAddress {
  ListenAddress address;
  bool tls = false;
};

class App : public OpsHost {
 public:
  // Opens the database and builds every part; nothing listens yet.
  static Result<std::unique_ptr<App>> create(event_base* base, std::string config_path, Config config);
  ~App() override;

  // Listens on server.listen and server.tls_listen and starts the sweeper.
  Result<void> start();
  // The bound addresses (real ports where the config said 0), plain ones first, in config order.
  const std::vector<BoundAddress>& listening() const { return listening_; }
  // Stops accepting, closes WebSockets with 1001, and calls `done` when every connection is gone.
  void shutdown(std::function<void()> done);
  bool shutting_down() const { return shutting_down_; }

  // OpsHost: re-reads the config file and swaps it in only if all of it is valid, telling systemd
  // RELOADING then READY either way. With TLS listeners, the certificate and key are read again (a renewed
  // certificate serves new connections; a bad one fails the reload and the old one stays). Returns the keys
  // that changed.
  Result<std::vector<std::string>> reload() override;
  const std::string& config_path() const override { return config_path_; }
  double uptime_seconds() const override;
  std::size_t connection_count() const override;
  std::size_t websocket_count() const override;

  const Config& config() const { return *config_; }
  ServiceNotifier& notifier() { return *notifier_; }

 private:
  App(event_base* base, std::string config_path, Config config);
  static void on_sweep(void* self);
  // One bounded step of expiry (pairing, then TURN credentials) and, once no backlog is left, the periodic
  // upkeep; a full step schedules the next one for the next loop turn.
  void sweep();
  void finish_sweep(double started, std::int64_t now_ms, std::int64_t batch, bool more);
  void schedule_sweep(double delay_seconds);
  // True while the sweeper's next step should wait for the checkpoint thread (bounded in time).
  bool holding_for_checkpoint(double now);
  void apply_settings();
  // Reads server.tls_certificate and server.tls_private_key of `config` and hands them to the listener.
  Result<void> load_tls_certificate(const Config& config);

  event_base* base_;
  std::string config_path_;
  std::unique_ptr<Config> config_;
  SystemClock clock_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ServiceNotifier> notifier_;
  std::unique_ptr<Database> database_;  // before the stores, which it outlives
  std::unique_ptr<PairingStore> store_;
  std::unique_ptr<GroupCommit> commits_;  // after the store: commits what is open before it closes
  std::unique_ptr<TurnStore> turn_store_;
  std::unique_ptr<TurnCredentialIssuer> turn_issuer_;
  std::unique_ptr<TurnSessionKiller> turn_killer_;
  std::unique_ptr<Signaling> signaling_;
  std::unique_ptr<PairingApi> pairing_;
  // After the API, so it goes first: a backend drops its operations in flight, whose completions use the API.
  std::unique_ptr<SqlitePairingRepository> pairing_repository_;
  std::unique_ptr<OpsApi> ops_;
  // Bytes queued for clients that have not read them (WebSocket and HTTP output, Socket.IO polling queues);
  // declared before what queues into it, so it goes last.
  OutboundMemory outbound_memory_;
  // Socket.IO: the dialect, the Socket.IO layer that serves its namespaces, and Engine.IO below it.
  std::unique_ptr<SessionTurnGrants> session_grants_;
  std::unique_ptr<SessionsDialect> sessions_dialect_;
  std::unique_ptr<sio::SocketIoServer> socketio_;
  std::unique_ptr<eio::EngineServer> engine_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpSessionFactory> sessions_;
  std::unique_ptr<Listener> listener_;
  std::shared_ptr<const TlsContext> tls_context_;  // the certificate new TLS connections get; null: no TLS
  std::vector<BoundAddress> listening_;
  AddressRateLimiter rest_limiter_;
  AddressRateLimiter ws_address_limiter_;  // WebSocket messages per client address
  Timer sweeper_;
  double sweep_due_ = 0;                // monotonic time the sweeper should fire, for the loop-lag histogram
  std::optional<double> hold_started_;  // since when the sweeper waits for a checkpoint to catch up
  // Rows per sweep step that fit the turn budget, learned; it starts small so that a backlog found at start
  // does not begin with one long step.
  std::int64_t sweep_batch_ = 64;
  double started_at_;
  bool shutting_down_ = false;
};

}  // namespace turnpike
