// Wiring of the daemon's parts, config reload and the sweeper.
#include "app/app.hpp"

#include "app/router.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/text.hpp"
#include "db/database.hpp"
#include "db/group_commit.hpp"
#include "http/http_session.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "ops/service_notifier.hpp"
#include "pairing/pairing_api.hpp"
#include "pairing/pairing_store.hpp"
#include "pairing/sqlite_pairing_repository.hpp"
#include "signaling/signaling.hpp"
#include "socketio/engine_server.hpp"
#include "socketio/sessions_dialect.hpp"
#include "socketio/socketio_server.hpp"
#include "turn/credential_issuer.hpp"
#include "turn/session_killer.hpp"
#include "turn/session_turn_grants.hpp"
#include "turn/turn_store.hpp"

namespace turnpike {
namespace {

constexpr double kSlowTurnSeconds = 0.1;
// While the checkpoint thread catches up with a long WAL, a backlog's next step waits, checking this often,
// for at most this long (then the writer copies the rest itself; see Database::checkpoint_after_commit).
constexpr double kCheckpointHoldPollSeconds = 0.001;
constexpr double kCheckpointHoldMaxSeconds = 0.05;

// Runs one job of a loop turn and names it in the log when it held the loop too long.
template <typename Job>
void run_timed(std::string_view job, Job&& body) {
  const double started = monotonic_seconds();
  body();
  const double took = monotonic_seconds() - started;
  if (took > kSlowTurnSeconds) log_warn("slow_loop_turn").kv("job", job).kv("ms", took * 1000);
}

}  // namespace

App::App(event_base* base, std::string config_path, Config config)
    : base_(base),
      config_path_(std::move(config_path)),
      config_(std::make_unique<Config>(std::move(config))),
      metrics_(std::make_unique<Metrics>()),
      sweeper_(base, &App::on_sweep, this),
      started_at_(monotonic_seconds()) {}

App::~App() {
  // The last commits first, while everything their waiters reach still exists: held answers go to their
  // connections, ended rooms notify their members and queue their kills for the killer.
  if (commits_) commits_->flush();  // absent when create() failed before building it
  // Then the connections: their handlers call into signaling while closing (and may write, which the
  // GroupCommit's destructor commits).
  listener_.reset();
  turn_killer_.reset();
}

Result<std::unique_ptr<App>> App::create(event_base* base, std::string config_path, Config config) {
  std::unique_ptr<App> app(new App(base, std::move(config_path), std::move(config)));
  App* self = app.get();
  const Config& cfg = app->config();
  const auto& db = cfg.database;
  app->notifier_ = std::make_unique<ServiceNotifier>(base);
  // With grouped commits the WAL is synced off the loop: a turn's commit only writes, and its waiters run
  // once a thread has flushed it.
  const bool full = db.synchronous == SqliteSynchronous::full;
  const bool sync_off_loop = full && db.group_commit;
  auto database = Database::open({db.path, full, static_cast<int>(db.busy_timeout_ms), true, sync_off_loop});
  if (!database) return make_error("database " + db.path + ": " + database.error().message);
  app->database_ = std::move(*database);
  std::unique_ptr<WalSyncer> syncer;
  if (sync_off_loop) {
    auto started = WalSyncer::start(base, app->database_->wal_path());
    if (!started) return make_error("database " + db.path + ": " + started.error().message);
    syncer = std::move(*started);
  }
  auto store = PairingStore::open(*app->database_);
  if (!store) return make_error("database " + db.path + ": " + store.error().message);
  app->store_ = std::move(*store);
  app->commits_ =
      std::make_unique<GroupCommit>(base, app->database_->transactions(), db.group_commit, std::move(syncer));

  auto turn_store = TurnStore::open(*app->database_);
  if (!turn_store) return make_error("database " + db.path + ": " + turn_store.error().message);
  app->turn_store_ = std::move(*turn_store);
  app->turn_issuer_ = std::make_unique<TurnCredentialIssuer>(*app->turn_store_);
  app->turn_killer_ = std::make_unique<TurnSessionKiller>(
      base, *app->turn_store_, *app->metrics_, [self]() -> const Config& { return self->config(); });

  RoomDirectory directory{
      [self](const std::string& room) -> std::optional<RoomMembers> {
        auto found = self->store_->find_room(room);
        if (!found.ok() || !found->has_value()) return std::nullopt;
        return RoomMembers{(*found)->client1, (*found)->client2};
      },
      [self](const std::string& room) { (void)self->store_->touch_room(room, self->clock_.wall_clock_ms()); },
      [self](const std::string& room, int slot) -> std::optional<DeviceIceServers> {
        if (!self->config().turn.enabled()) return std::nullopt;
        auto issued = self->turn_issuer_->issue(self->config(), room, slot, self->clock_.wall_clock_ms());
        if (!issued) {
          log_error("turn_issue_failed").kv("reason", issued.error().message);
          return std::nullopt;
        }
        if (!*issued) {
          // Deleted or expired in this loop turn, before its members heard: nothing to hand out or renew.
          log_debug("turn_issue_refused").kv("reason", "room_gone");
          return std::nullopt;
        }
        return DeviceIceServers{(*issued)->ice_servers_json, (*issued)->expires_ms};
      },
      [self](std::int64_t expires_ms) {
        return TurnCredentialIssuer::due_for_renewal(self->config(), expires_ms,
                                                     self->clock_.wall_clock_ms());
      },
      [self](std::function<void(bool)> then) { (void)self->commits_->wait(std::move(then)); }};
  app->signaling_ = std::make_unique<Signaling>(std::move(directory), *app->metrics_, app->clock_);
  app->pairing_repository_ = std::make_unique<SqlitePairingRepository>(*app->store_, *app->commits_);
  app->pairing_ = std::make_unique<PairingApi>(*app->pairing_repository_, *app->signaling_, *app->metrics_);
  app->pairing_->set_turn_issuer(app->turn_issuer_.get());
  app->pairing_->on_rooms_ended([self] {
    if (self->turn_killer_) self->turn_killer_->poke();  // gone while the App is destroyed
  });

  app->ops_ = std::make_unique<OpsApi>(
      OpsPorts{*self, *app->database_, *app->store_, *app->turn_store_, *app->signaling_, *app->metrics_});

  app->session_grants_ = std::make_unique<SessionTurnGrants>(*app->turn_store_, *app->turn_issuer_);
  // Socket.IO sessions live in memory: the credentials of those an earlier run had are revoked now.
  if (auto leftovers = app->session_grants_->revoke_leftovers(); !leftovers) {
    return leftovers.error();
  } else if (*leftovers > 0) {
    log_info("session_credentials_revoked").kv("owners", *leftovers).kv("reason", "restart");
  }
  app->sessions_dialect_ = std::make_unique<SessionsDialect>(
      SessionsPorts{base, cfg, app->clock_, app->session_grants_.get(),
                    [self](std::function<void(bool)> then) { (void)self->commits_->wait(std::move(then)); },
                    [self] {
                      if (self->turn_killer_) self->turn_killer_->poke();
                    }});
  app->socketio_ = std::make_unique<sio::SocketIoServer>(base, cfg);
  app->socketio_->add_namespace("/sessions", *app->sessions_dialect_);
  switch (cfg.socketio.default_dialect) {  // the namespace "/" serves the dialect the admin picked
    case SocketIoDialect::sessions:
      app->socketio_->add_namespace("/", *app->sessions_dialect_);
      break;
  }
  app->engine_ = std::make_unique<eio::EngineServer>(
      base, eio::EnginePorts{cfg, *app->metrics_, app->ws_address_limiter_, *app->socketio_,
                             app->outbound_memory_});

  // The transport: the listener starts each connection as an HttpSession, whose service is the router.
  app->router_ = std::make_unique<Router>(
      RouterPorts{*app->pairing_, *app->ops_, *app->commits_,
                  WsSessionPorts{cfg, *app->signaling_, *app->metrics_, app->ws_address_limiter_},
                  *app->engine_, *app->sessions_dialect_});
  app->sessions_ = std::make_unique<HttpSessionFactory>(
      HttpSessionPorts{cfg, *app->router_, app->rest_limiter_, *app->metrics_});
  app->listener_ = std::make_unique<Listener>(base, *app->sessions_, *app->metrics_, app->outbound_memory_);
  if (!cfg.server.tls_listen.empty()) {
    if (auto loaded = app->load_tls_certificate(cfg); !loaded) return loaded.error();
  }
  app->apply_settings();
  return app;
}

Result<void> App::load_tls_certificate(const Config& config) {
  auto loaded = TlsContext::load(config.server.tls_certificate, config.server.tls_private_key);
  if (!loaded) return loaded.error();
  const auto& certificate = (*loaded)->certificate();
  log_info("tls_certificate_loaded")
      .kv("file", config.server.tls_certificate)
      .kv("subject", certificate.subject)
      .kv("serial", certificate.serial)
      .kv("not_after", certificate.not_after);
  tls_context_ = std::move(*loaded);
  listener_->set_tls_context(tls_context_);
  return {};
}

void App::apply_settings() {
  const Config& config = *config_;
  set_log_level(config.log.level);
  signaling_->set_settings({config.signaling.require_known_room,
                            static_cast<std::size_t>(config.limits.max_id_bytes),
                            config.signaling.pong_timeout_seconds});
  listener_->set_limits({static_cast<std::size_t>(config.limits.max_connections),
                         static_cast<std::size_t>(config.limits.max_connections_per_ip),
                         static_cast<std::size_t>(config.limits.max_outbound_bytes),
                         static_cast<std::size_t>(config.limits.max_outbound_bytes_per_address),
                         static_cast<std::size_t>(config.limits.max_outbound_bytes_total),
                         config.server.request_timeout_seconds, config.server.trusted_proxies,
                         static_cast<int>(config.limits.ipv6_prefix_length)});
}

Result<void> App::start() {
  for (bool tls : {false, true}) {
    for (const auto& address : tls ? config_->server.tls_listen : config_->server.listen) {
      auto listening = listener_->listen(address, tls);
      if (!listening) return listening.error();
      listening_.push_back({*listening, tls});
    }
  }
  if (!config_->admin.socket.empty()) {
    if (auto ok = listener_->listen_admin(config_->admin.socket); !ok) return ok.error();
  }
  schedule_sweep(config_->pairing.sweep_interval_seconds);
  turn_killer_->poke();
  return {};
}

void App::on_sweep(void* self) {
  static_cast<App*>(self)->sweep();
}

void App::sweep() {
  const double started = clock_.monotonic_seconds();
  metrics_->observe_loop_lag(std::max(0.0, started - sweep_due_));
  if (holding_for_checkpoint(started)) return schedule_sweep(kCheckpointHoldPollSeconds);
  const std::int64_t now_ms = clock_.wall_clock_ms();
  const std::int64_t batch = std::min(sweep_batch_, config_->pairing.sweep_batch_rows);
  run_timed("pairing_expiry", [&] {
    pairing_->sweep(*config_, now_ms, batch, [this, started, now_ms, batch](bool more) {
      finish_sweep(started, now_ms, batch, more);
    });
  });
}

void App::finish_sweep(double started, std::int64_t now_ms, std::int64_t batch, bool more) {
  const double budget = config_->pairing.sweep_turn_budget_ms / 1000;
  if (clock_.monotonic_seconds() - started >= budget) {
    more = true;  // the TURN credentials wait for the next turn
  } else {
    run_timed("turn_credential_expiry", [&] {
      auto expired = turn_store_->expire(now_ms, batch);
      if (!expired) {
        log_error("sweep_failed").kv("reason", expired.error().message);
      } else if (*expired > 0) {
        log_info("turn_credentials_expired").kv("count", *expired);
        metrics_->count_expired("turn_credentials", *expired);
        more |= *expired >= batch;
      }
    });
  }
  // Rows cost different times (a room's triggers remove its credentials too): the batch adapts so that a
  // step fits the budget, up to pairing.sweep_batch_rows.
  const double took = clock_.monotonic_seconds() - started;
  if (took > budget) {
    sweep_batch_ = std::max<std::int64_t>(1, batch / 2);
  } else if (took < budget / 2) {
    sweep_batch_ = std::min(config_->pairing.sweep_batch_rows, batch * 2);
  }
  if (!more) {
    // Caught up: the periodic upkeep, which a backlog may postpone.
    if (config_->turn.enabled()) {
      signaling_->renew_ice_servers();
      sessions_dialect_->renew_ice_servers();
    }
    double now = clock_.monotonic_seconds();
    rest_limiter_.prune({config_->limits.rest_rate_per_second, config_->limits.rest_rate_burst}, now);
    ws_address_limiter_.prune(
        {config_->limits.ws_messages_per_second_per_address, config_->limits.ws_message_burst_per_address},
        now);
    pairing_->prune_limits(*config_, now);
  }
  // Kills may also have been queued by hand (a room row deleted with sqlite3) or by an earlier run.
  turn_killer_->poke();
  // A backlog continues in the next loop turn, after the group commit and whatever else is due.
  schedule_sweep(more ? 0 : config_->pairing.sweep_interval_seconds);
}

bool App::holding_for_checkpoint(double now) {
  if (!database_->wal_catch_up_running()) {
    hold_started_.reset();
    return false;
  }
  if (!hold_started_) hold_started_ = now;
  return now - *hold_started_ < kCheckpointHoldMaxSeconds;
}

void App::schedule_sweep(double delay_seconds) {
  if (shutting_down_) return;
  sweep_due_ = clock_.monotonic_seconds() + delay_seconds;
  sweeper_.start(delay_seconds);
}

Result<std::vector<std::string>> App::reload() {
  notifier_->reloading();
  // Keys that need a restart (and values derived from them) keep their running value.
  std::vector<std::string_view> restart_required;
  auto fresh = load_config_file(config_path_, config_.get(), &restart_required);
  if (!fresh) {
    log_error("config_reload_failed").kv("reason", fresh.error().message);
    notifier_->ready("serving");
    return fresh.error();
  }
  // A renewed certificate may sit at the same paths: with TLS listeners, it is read on every reload.
  if (tls_context_) {
    if (auto loaded = load_tls_certificate(*fresh); !loaded) {
      log_error("tls_certificate_refused").kv("reason", loaded.error().message).kv("kept", "previous");
      log_error("config_reload_failed").kv("reason", loaded.error().message);
      notifier_->ready("serving");
      return loaded.error();
    }
  }
  for (auto name : restart_required) log_warn("config_restart_required").kv("key", name);
  std::vector<std::string> changed;
  for (auto name : changed_keys(*config_, *fresh)) changed.emplace_back(name);
  *config_ = std::move(*fresh);
  apply_settings();
  log_info("config_reloaded").kv("changed", changed.empty() ? "none" : join(changed, ","));
  notifier_->ready("serving");
  return changed;
}

void App::shutdown(std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  sweeper_.stop();
  log_info("shutting_down").kv("connections", static_cast<std::uint64_t>(listener_->connection_count()));
  engine_->shutdown();  // waiting polls get the close packet, so their connections can close
  listener_->begin_shutdown(std::move(done));
}

double App::uptime_seconds() const {
  return clock_.monotonic_seconds() - started_at_;
}

std::size_t App::connection_count() const {
  return listener_->connection_count();
}

std::size_t App::websocket_count() const {
  return listener_->websocket_count();
}

}  // namespace turnpike
