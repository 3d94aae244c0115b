// turnpiked: parses the command line, loads the config, and runs the event loop until SIGTERM.
#include <event2/event.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "app/app.hpp"
#include "core/callback_guard.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "net/event_handles.hpp"
#include "net/tls_context.hpp"
#include "ops/service_notifier.hpp"
#include "version.hpp"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitConfig = 2;
constexpr int kExitRuntime = 1;

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: turnpiked --config FILE [--allow-root]      run the daemon\n"
               "       turnpiked --config FILE --check-config      validate FILE and exit\n"
               "       turnpiked --config FILE --migrate-only      create or migrate the database and exit\n"
               "       turnpiked --version\n"
               "       turnpiked --print-default-config | --print-config-reference | --print-config-man\n");
}

struct SignalContext {
  event_base* base;
  turnpike::App* app;
};

void on_terminate(evutil_socket_t, short, void* arg) {
  turnpike::guarded("sigterm", [arg] {
    auto* ctx = static_cast<SignalContext*>(arg);
    if (ctx->app->shutting_down()) return;
    ctx->app->notifier().stopping();
    event_base* base = ctx->base;
    ctx->app->shutdown([base] { event_base_loopexit(base, nullptr); });
    timeval grace = turnpike::to_timeval(ctx->app->config().server.shutdown_timeout_seconds);
    event_base_loopexit(base, &grace);
  });
}

void on_hangup(evutil_socket_t, short, void* arg) {
  turnpike::guarded("sighup", [arg] {
    (void)static_cast<SignalContext*>(arg)->app->reload();  // a bad file is logged, the running config kept
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  bool migrate_only = false;
  bool allow_root = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--version") {
      std::printf("turnpiked %s\n", turnpike::kVersion);
      return 0;
    } else if (arg == "--print-default-config") {
      std::fputs(turnpike::render_default_config().c_str(), stdout);
      return 0;
    } else if (arg == "--print-config-reference") {
      std::fputs(turnpike::render_config_reference().c_str(), stdout);
      return 0;
    } else if (arg == "--print-config-man") {
      std::fputs(turnpike::render_config_man().c_str(), stdout);
      return 0;
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--migrate-only") {
      migrate_only = true;
    } else if (arg == "--allow-root") {
      allow_root = true;
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return kExitUsage;
    }
  }
  if (config_path.empty()) {
    usage(stderr);
    return kExitUsage;
  }
  auto config = turnpike::load_config_file(config_path);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return kExitConfig;
  }
  // The certificate and key are checked like the rest of the file: unreadable, expired or mismatched fails.
  if (!config->server.tls_listen.empty()) {
    auto tls = turnpike::TlsContext::load(config->server.tls_certificate, config->server.tls_private_key);
    if (!tls) {
      std::fprintf(stderr, "%s\n", tls.error().message.c_str());
      return kExitConfig;
    }
  }
  if (check_only) {
    std::printf("config ok\n");
    return 0;
  }
  if (::geteuid() == 0 && !allow_root) {
    std::fprintf(
        stderr,
        "turnpiked must not run as root: start it as the turnpike user (systemctl start turnpike), or pass "
        "--allow-root in a throwaway container or test\n");
    return kExitRuntime;
  }
  turnpike::set_log_level(config->log.level);
  std::signal(SIGPIPE, SIG_IGN);

  turnpike::EventBasePtr base(event_base_new());
  if (!base) {
    turnpike::log_error("startup_failed").kv("reason", "event_base_new failed");
    return kExitRuntime;
  }
  auto app = turnpike::App::create(base.get(), config_path, std::move(*config));
  if (!app) {
    turnpike::log_error("startup_failed").kv("reason", app.error().message);
    return kExitRuntime;
  }
  if (migrate_only) {
    turnpike::log_info("database_ready").kv("path", (*app)->config().database.path);
    return 0;
  }
  auto bound = (*app)->start();
  if (!bound) {
    turnpike::log_error("startup_failed").kv("reason", bound.error().message);
    return kExitRuntime;
  }
  SignalContext signal_context{base.get(), app->get()};
  turnpike::EventPtr sigterm(evsignal_new(base.get(), SIGTERM, on_terminate, &signal_context));
  turnpike::EventPtr sigint(evsignal_new(base.get(), SIGINT, on_terminate, &signal_context));
  turnpike::EventPtr sighup(evsignal_new(base.get(), SIGHUP, on_hangup, &signal_context));
  for (auto* ev : {sigterm.get(), sigint.get(), sighup.get()}) event_add(ev, nullptr);

  // One line per address, the first with the version; tests and the package test read the port of the first.
  std::string addresses;
  for (const turnpike::BoundAddress& listening : (*app)->listening()) {
    std::string address = listening.address.to_string();
    auto line = turnpike::log_info("listening");
    line.kv("address", address);
    if (listening.tls) line.kv("tls", true);
    if (addresses.empty()) line.kv("version", turnpike::kVersion);
    if (!addresses.empty()) addresses += ", ";
    addresses += (listening.tls ? "https://" : "http://") + address;
  }
  (*app)->notifier().ready("serving on " + addresses);
  event_base_dispatch(base.get());
  app->reset();
  turnpike::log_info("stopped");
  return 0;
}
